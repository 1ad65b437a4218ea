"""The embedded sandbox: the real stack and handlers on an AWS emulator (moto), on a laptop."""
