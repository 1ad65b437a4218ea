"""Containment responder: Lambda code (handlers, domain logic, AWS adapters)."""
