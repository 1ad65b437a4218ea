"""Cold start: import time of each handler in a fresh process (`python -X importtime`), and asset sizes.

The process sees what a Lambda function sees, not the development virtualenv: the function's own code
asset and the dependency layer as synth builds them, and botocore (which the runtime provides, compiled),
run by an interpreter of the Lambda runtime's Python version when one is at hand
(`infra.bundling.runtime_interpreter`, `scripts/runtime-python.sh`). Without one, this machine's Python
runs the layer's requirements installed for it, and the report says so. It runs with `-S`, so no
editable-install finder or test-only package (moto, requests) is on the path. Two figures per handler:

- `imports_ms`: everything the handler module imports (Powertools, pydantic, botocore, the responder);
- `init_ms`: the handler module's own top level: environment validation and client construction.

Both are measured as shipped (with the bytecode bundling compiles) and from source (`-B` on copies of
the layer and code without `__pycache__`), which is what assets without bytecode cost on Lambda's
read-only file system.
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
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from infra.bundling import (
    PLATFORM,
    REQUIREMENTS,
    ROOT,
    RUNTIME_PYTHON,
    build_once,
    compile_bytecode,
    function_code_dir,
    layer_dir,
    runtime_interpreter,
)

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


@dataclass(frozen=True)
class Runtime:
    python: str  # the interpreter
    version: str
    paths: tuple[Path, ...]  # the layer's packages and the runtime-provided ones, in import order
    compiled: tuple[Path, ...]  # of those, the ones Lambda would see without bytecode if the asset had none


def _pip_target(out: Path, args: list[str]) -> None:
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--target",
        str(out),
        *args,
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"installing the benchmark runtime failed:\n{proc.stderr[-4000:]}")


def runtime() -> Runtime:
    """The Lambda runtime's stand-in: its Python, the layer, and botocore as the runtime ships it."""
    botocore = f"botocore=={metadata.version('botocore')}"
    python = runtime_interpreter()
    if python is not None:
        key = f"{botocore}|{RUNTIME_PYTHON}|{PLATFORM}|compiled".encode()

        def install(tmp: Path) -> None:
            _pip_target(tmp, ["--platform", PLATFORM, "--implementation", "cp", "--python-version", RUNTIME_PYTHON,
                              "--only-binary=:all:", botocore])  # fmt: skip
            compile_bytecode(tmp, python)

        out = build_once(ROOT / ".build" / "bench-runtime" / hashlib.sha256(key).hexdigest()[:16], install)
        layer = layer_dir() / "python"
        return Runtime(str(python), RUNTIME_PYTHON, (layer, out), (layer,))
    version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    key = REQUIREMENTS.read_bytes() + f"|{botocore}|{version}".encode()
    out = build_once(
        ROOT / ".build" / "bench-runtime" / hashlib.sha256(key).hexdigest()[:16],
        lambda tmp: _pip_target(tmp, ["-r", str(REQUIREMENTS), botocore]),
    )
    return Runtime(sys.executable, version, (out,), (out,))


def without_bytecode(rt: Runtime, where: Path) -> list[Path]:
    """The runtime's paths as Lambda would run assets shipped without bytecode: copies of the compiled
    ones (the layer) without `__pycache__`, the runtime's own packages as they are."""
    paths = []
    for i, path in enumerate(rt.paths):
        if path in rt.compiled:
            copy = where / f"path{i}"
            shutil.copytree(path, copy, ignore=shutil.ignore_patterns("__pycache__"))
            path = copy
        paths.append(path)
    return paths


def _run(
    module: str, code: Path, paths: list[Path], env: dict[str, str], from_source: bool, python: str
) -> tuple[float, float, list]:
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
        "PYTHONPATH": os.pathsep.join(str(p) for p in [code, *paths]),
        **env,
    }
    flags = ["-S", "-X", "importtime"] + (["-B"] if from_source else [])
    proc = subprocess.run(
        [python, *flags, "-c", f"import {module}"],
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


def _median(
    module: str, code: Path, paths: list[Path], env: dict[str, str], from_source: bool, python: str, repeats: int
) -> tuple[float, float, list]:
    runs = sorted(_run(module, code, paths, env, from_source, python) for _ in range(repeats))
    return runs[len(runs) // 2]


def measure_handler(
    name: str, env: dict[str, str], rt: Runtime, source_paths: list[Path], repeats: int = 5
) -> dict[str, Any]:
    module = f"responder.handlers.{name}"
    code = function_code_dir(f"{module}.handler")
    paths = list(rt.paths)
    _run(module, code, paths, env, False, rt.python)  # where no bytecode was shipped, this writes it
    total, own, heavy = _median(module, code, paths, env, False, rt.python, repeats)
    with tempfile.TemporaryDirectory() as tmp:
        fresh_code = Path(tmp) / "code"
        shutil.copytree(code, fresh_code, ignore=shutil.ignore_patterns("__pycache__"))
        source_total, _, _ = _median(module, fresh_code, source_paths, env, True, rt.python, repeats)
    return {
        "handler": name,
        "imports_ms": round(total - own, 1),
        "init_ms": round(own, 1),
        "total_ms": round(total, 1),
        "heaviest": [[m, round(t, 1)] for m, t in heavy],
        "total_from_source_ms": round(source_total, 1),
        "imports_meet_goal": total - own < GOAL_MS,
        "asset_bytes": zipped_size(code, exclude=("requirements.txt", ".complete")),  # as shipped
        "asset_files": sum(1 for f in code.rglob("*.py")),
        "asset_bytecode": any(code.rglob("*.pyc")),
    }


def zipped_size(path: Path, exclude: tuple[str, ...] = ("__pycache__", ".pyc", "requirements.txt", ".complete")) -> int:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for file in sorted(path.rglob("*")):
            if file.is_file() and not any(x in str(file) for x in exclude):
                zf.write(file, file.relative_to(path).as_posix())
    return len(buf.getvalue())


def measure() -> dict[str, Any]:
    rt = runtime()
    with tempfile.TemporaryDirectory() as tmp:
        source_paths = without_bytecode(rt, Path(tmp))
        rows = [measure_handler(name, env, rt, source_paths) for name, env in HANDLERS.items()]
    return {
        "python": rt.version,
        "runtime_python": rt.version == RUNTIME_PYTHON,
        "handlers": rows,
        "layer_bytes": zipped_size(layer_dir()),
        "layer_bytes_with_bytecode": zipped_size(layer_dir(), exclude=("requirements.txt", ".complete")),
        "goal_ms": GOAL_MS,
    }
