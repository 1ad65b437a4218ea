"""Typed models parsed at the edge. The domain never sees raw dicts."""
