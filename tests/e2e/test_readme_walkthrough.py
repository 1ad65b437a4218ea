"""The README's walkthrough, run as written: its marked block, in bash -e, against a sandbox of its own."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MARKER = "<!-- walkthrough -->"
README_ENDPOINT = "http://127.0.0.1:4566"

pytestmark = pytest.mark.e2e


def walkthrough() -> str:
    """The fenced sh block after the marker in README.md."""
    text = (ROOT / "README.md").read_text()
    match = re.search(re.escape(MARKER) + r"\n```sh\n(.*?)\n```", text, re.S)
    assert match, f"README.md has no ```sh block after {MARKER}"
    return match.group(1)


def test_the_walkthrough_block_is_what_a_reader_types():
    block = walkthrough()
    assert f"export AWS_ENDPOINT_URL={README_ENDPOINT}" in block
    commands = [line for line in block.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    # Every responder command is spelled as a reader without an activated venv can paste it.
    for line in commands:
        if "responder " in line:
            assert ".venv/bin/responder " in line, line
    for step in ("sandbox victim", "findings sample", "findings send", "incidents list", "approve", "restore"):
        assert any(step in line for line in commands), step


def test_the_readme_walkthrough_runs_as_written(sandbox, tmp_path):
    block = walkthrough().replace(README_ENDPOINT, sandbox.endpoint)
    # The reader runs it from the repository's folder; here a scratch folder holds the files it writes.
    (tmp_path / ".venv").symlink_to(ROOT / ".venv")
    script = tmp_path / "walkthrough.sh"
    script.write_text(block + "\n")
    proc = subprocess.run(
        ["bash", "-e", "-x", str(script)],  # -e: every command must exit 0; -x: the failing one is shown
        cwd=tmp_path,
        env=sandbox.env(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, f"stdout:\n{proc.stdout[-4000:]}\nstderr:\n{proc.stderr[-4000:]}"
    sent = (tmp_path / "sent.txt").read_text()
    incident_id = re.search(r"^incident (inc-\S+) PENDING_APPROVAL", sent, re.M)
    assert incident_id, sent
    final = json.loads(sandbox.cli("incidents", "show", incident_id.group(1), "--json").stdout)
    assert final["status"] == "RESTORED" and final["approval"]["decided_by"] == "Alice"
    assert f"{incident_id.group(1)} RESTORED" in proc.stdout
