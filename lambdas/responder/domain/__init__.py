"""Domain logic: pure functions over typed models, with AWS gateways passed in."""
