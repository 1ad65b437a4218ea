"""The `responder` command-line tool and the embedded sandbox."""
