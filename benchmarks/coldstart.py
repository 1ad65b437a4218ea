"""Cold start: import time of each handler in a fresh process (`python -X importtime`), and asset sizes."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

from infra.bundling import LAMBDA_DIR, layer_dir

HANDLERS = {
    "triage": {"INCIDENTS_TABLE": "t-incidents"},
    "evaluate": {"INCIDENTS_TABLE": "t-incidents", "PREFERENCES_TABLE": "t-prefs"},
    "plan": {"INCIDENTS_TABLE": "t-incidents", "DENY_ALL_POLICY_NAME": "p"},
    "record": {"INCIDENTS_TABLE": "t-incidents"},
    "request_approval": {
        "INCIDENTS_TABLE": "t-incidents",
        "TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:topic",
        "SIGNING_SECRET_ID": "s",
        "APPROVAL_API_URL": "https://example.com/v1/",
        "APPROVAL_TIMEOUT_SECONDS": "86400",
    },
    "approval_api": {"INCIDENTS_TABLE": "t-incidents", "SIGNING_SECRET_ID": "s"},
    "contain": {"INCIDENTS_TABLE": "t-incidents", "DENY_ALL_POLICY_NAME": "p"},
    "verify": {"INCIDENTS_TABLE": "t-incidents", "DENY_ALL_POLICY_NAME": "p"},
    "notify": {"INCIDENTS_TABLE": "t-incidents", "TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:topic"},
    "finalize": {"INCIDENTS_TABLE": "t-incidents", "TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:topic"},
    "restore": {"INCIDENTS_TABLE": "t-incidents", "DENY_ALL_POLICY_NAME": "p"},
    "default_preferences": {"PREFERENCES_TABLE": "t-prefs"},
}
LINE = re.compile(r"import time:\s+(\d+)\s+\|\s+(\d+)\s+\| (\s*)(\S+)$")


def import_ms(module: str, env: dict[str, str], repeats: int = 3) -> tuple[float, list[tuple[str, float]]]:
    """Median cumulative import time of the module, and its five costliest direct imports."""
    runs: list[tuple[float, list[tuple[str, float]]]] = []
    for _ in range(repeats):
        proc_env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "x",
            "AWS_SECRET_ACCESS_KEY": "x",
            # What Lambda sets: the X-Ray SDK takes its Lambda path (no sampling-rule client at import).
            "LAMBDA_TASK_ROOT": str(LAMBDA_DIR),
            "AWS_LAMBDA_FUNCTION_NAME": f"bench-{module.rsplit('.', 1)[-1]}",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
            "PYTHONDONTWRITEBYTECODE": "",
            **env,
        }
        proc = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", f"import {module}"],
            env=proc_env, capture_output=True, text=True, check=True, cwd=LAMBDA_DIR,
        )  # fmt: skip
        total = 0.0
        heavy: list[tuple[str, float]] = []
        for line in proc.stderr.splitlines():
            m = LINE.search(line)
            if not m:
                continue
            cumulative_ms = int(m.group(2)) / 1000
            depth = len(m.group(3)) // 2
            if m.group(4) == module:
                total = cumulative_ms
            elif depth == 1:
                heavy.append((m.group(4), cumulative_ms))
        runs.append((total, sorted(heavy, key=lambda x: -x[1])[:5]))
    runs.sort(key=lambda r: r[0])
    return runs[len(runs) // 2]


def zipped_size(path: Path, exclude: tuple[str, ...] = ("__pycache__", ".pyc", "requirements.txt", ".complete")) -> int:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for file in sorted(path.rglob("*")):
            if file.is_file() and not any(x in str(file) for x in exclude):
                zf.write(file, file.relative_to(path).as_posix())
    return len(buf.getvalue())


def measure() -> dict[str, Any]:
    rows = []
    for name, env in HANDLERS.items():
        total, heavy = import_ms(f"responder.handlers.{name}", env)
        rows.append({"handler": name, "import_ms": round(total, 1), "heaviest": [[m, round(t, 1)] for m, t in heavy]})
    return {
        "handlers": rows,
        "code_asset_bytes": zipped_size(LAMBDA_DIR),
        "layer_bytes": zipped_size(layer_dir()),
    }
