"""`make synth`: the templates land in the named folder (cdk.out/ by default), offline, and it says where."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.e2e


def test_make_synth_writes_the_templates_and_prints_where(tmp_path):
    out = tmp_path / "cdk.out"  # not the repository's cdk.out, which a developer may be using
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CDK_"))}
    env.update({"AWS_EC2_METADATA_DISABLED": "true", "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""})
    proc = subprocess.run(
        ["make", "--no-print-directory", "synth", f"CDK_OUT={out}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    templates = sorted(out.glob("*.template.json"))
    names = {t.name for t in templates}
    assert {"ContainmentResponder.template.json", "ContainmentResponderMemberRole.template.json"} <= names
    assert json.loads((out / "ContainmentResponder.template.json").read_text())["Resources"]
    assert f"synthesized into {out}/:" in proc.stdout
    for template in templates:
        assert f"  {template}" in proc.stdout
    assert "CDK_DISABLE_CLI_TELEMETRY=true" in proc.stdout and "--no-notices" in proc.stdout
