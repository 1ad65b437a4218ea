#!/usr/bin/env python3
"""CDK entry point: `cdk synth` / `cdk deploy -c notificationEmail=soc@example.com`. Synthesizes offline."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from infra.config import ConfigError
from infra.synth import build_app

try:
    app, _ = build_app()
except ConfigError as exc:
    sys.exit(str(exc))
app.synth()
