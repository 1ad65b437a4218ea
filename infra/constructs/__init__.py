"""Single-purpose constructs that make up the responder stack."""
