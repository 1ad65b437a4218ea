"""AWS adapters: every boto3 call the responder makes lives in this package."""
