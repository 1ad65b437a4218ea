"""CDK infrastructure of the containment responder."""

import os

# jsii warns loudly about Node 20 on every start; the CDK still works with it.
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
