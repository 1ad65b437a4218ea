"""Lambda handlers: decorators, parse, delegate. One module per function."""
