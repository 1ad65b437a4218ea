"""Cold start: import time of each handler in a fresh process (`python -X importtime`), and asset sizes.

The process sees what a Lambda function sees, not the development virtualenv: the function's own code
asset, the dependency layer's requirements and botocore (which the runtime provides), installed for
this machine's Python under `.build/bench-runtime/`. It runs with `-S`, so no editable-install finder or
test-only package (moto, requests) is on the path. Two figures per handler:

- `imports_ms`: everything the handler module imports (Powertools, pydantic, botocore, the responder);
- `init_ms`: the handler module's own top level: environment validation and client construction.

Both are measured twice: with bytecode cached, and from source only (`-B` on a fresh copy), which is
what a layer without `__pycache__` costs on Lambda's read-only file system.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from importlib import metadata
from pathlib import Path
from typing import Any

from infra.bundling import REQUIREMENTS, ROOT, function_code_dir, layer_dir

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
GOAL_MS = 300.0


def runtime_dir() -> Path:
    """The layer's requirements plus botocore, for this machine's Python (the Lambda runtime's stand-in)."""
    botocore = metadata.version("botocore")
    key = REQUIREMENTS.read_bytes() + f"|botocore=={botocore}|{sys.version_info[:2]}".encode()
    out = ROOT / ".build" / "bench-runtime" / hashlib.sha256(key).hexdigest()[:16]
    if (out / ".complete").exists():
        return out
    shutil.rmtree(out, ignore_errors=True)
    cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--target", str(out),
           "-r", str(REQUIREMENTS), f"botocore=={botocore}"]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"installing the benchmark runtime failed:\n{proc.stderr[-4000:]}")
    (out / ".complete").write_text("ok\n")
    return out


def _run(module: str, code: Path, runtime: Path, env: dict[str, str], from_source: bool) -> tuple[float, float, list]:
    proc_env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
        # What Lambda sets: the X-Ray SDK takes its Lambda path (no sampling-rule client at import).
        "LAMBDA_TASK_ROOT": str(code),
        "AWS_LAMBDA_FUNCTION_NAME": f"bench-{module.rsplit('.', 1)[-1]}",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
        "PYDANTIC_DISABLE_PLUGINS": "__all__",
        "PYTHONPATH": f"{code}{os.pathsep}{runtime}",
        **env,
    }
    flags = ["-S", "-X", "importtime"] + (["-B"] if from_source else [])
    proc = subprocess.run(
        [sys.executable, *flags, "-c", f"import {module}"],
        env=proc_env, capture_output=True, text=True, check=True, cwd=code,
    )  # fmt: skip
    total = own = 0.0
    heavy: list[tuple[str, float]] = []
    for line in proc.stderr.splitlines():
        m = LINE.search(line)
        if not m:
            continue
        self_ms, cumulative_ms = int(m.group(1)) / 1000, int(m.group(2)) / 1000
        depth = len(m.group(3)) // 2
        if m.group(4) == module:
            total, own = cumulative_ms, self_ms
        elif depth == 1:
            heavy.append((m.group(4), cumulative_ms))
    return total, own, sorted(heavy, key=lambda x: -x[1])[:5]


def measure_handler(name: str, env: dict[str, str], runtime: Path, repeats: int = 5) -> dict[str, Any]:
    module = f"responder.handlers.{name}"
    code = function_code_dir(f"{module}.handler")
    row: dict[str, Any] = {"handler": name}
    with tempfile.TemporaryDirectory() as tmp:
        fresh_runtime = Path(tmp) / "runtime"
        fresh_code = Path(tmp) / "code"
        shutil.copytree(runtime, fresh_runtime, ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copytree(code, fresh_code, ignore=shutil.ignore_patterns("__pycache__"))
        _run(module, code, runtime, env, from_source=False)  # write the bytecode once
        for label, args in (("cached", (code, runtime, False)), ("source", (fresh_code, fresh_runtime, True))):
            runs = sorted(_run(module, args[0], args[1], env, from_source=args[2]) for _ in range(repeats))
            total, own, heavy = runs[len(runs) // 2]
            if label == "cached":
                row |= {"imports_ms": round(total - own, 1), "init_ms": round(own, 1), "total_ms": round(total, 1)}
                row["heaviest"] = [[m, round(t, 1)] for m, t in heavy]
            else:
                row["total_from_source_ms"] = round(total, 1)
    row["imports_meet_goal"] = row["imports_ms"] < GOAL_MS
    row["asset_bytes"] = zipped_size(code)
    row["asset_files"] = sum(1 for f in code.rglob("*.py"))
    return row


def zipped_size(path: Path, exclude: tuple[str, ...] = ("__pycache__", ".pyc", "requirements.txt", ".complete")) -> int:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for file in sorted(path.rglob("*")):
            if file.is_file() and not any(x in str(file) for x in exclude):
                zf.write(file, file.relative_to(path).as_posix())
    return len(buf.getvalue())


def measure() -> dict[str, Any]:
    runtime = runtime_dir()
    rows = [measure_handler(name, env, runtime) for name, env in HANDLERS.items()]
    return {"handlers": rows, "layer_bytes": zipped_size(layer_dir()), "goal_ms": GOAL_MS}
