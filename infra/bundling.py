"""Docker-free bundling of the Lambda dependencies into a layer directory.

pip installs the wheels for the Lambda runtime's Python version and platform
(`--platform manylinux2014_x86_64 --only-binary=:all: --python-version`), into `.build/layer/<hash>/python`.
The hash covers the requirements, the Python version and the platform, so a synth reuses the directory
instead of installing again.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAMBDA_DIR = ROOT / "lambdas"
REQUIREMENTS = LAMBDA_DIR / "requirements.txt"
RUNTIME_PYTHON = "3.14"
PLATFORM = "manylinux2014_x86_64"
# The Lambda runtime provides boto3; the layer must not shadow it with a second copy.
PROVIDED_BY_RUNTIME = (
    "boto3",
    "botocore",
    "s3transfer",
    "jmespath",
    "urllib3",
    "dateutil",
    "python_dateutil",
    "six",
)


def layer_dir() -> Path:
    digest = hashlib.sha256(REQUIREMENTS.read_bytes() + f"|{RUNTIME_PYTHON}|{PLATFORM}|v2".encode()).hexdigest()[:16]
    out = ROOT / ".build" / "layer" / digest
    if (out / ".complete").exists():
        return out
    tmp = out.parent / f"{digest}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    cmd = [
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile",
        "--target", str(tmp / "python"), "--platform", PLATFORM, "--implementation", "cp",
        "--python-version", RUNTIME_PYTHON, "--only-binary=:all:", "-r", str(REQUIREMENTS),
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)  # noqa: S603
    if proc.returncode != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        raise RuntimeError(f"bundling the Lambda dependencies failed:\n{proc.stderr[-4000:]}")
    site = tmp / "python"
    for entry in site.iterdir():
        base = entry.name.split("-")[0].lower().removesuffix(".py")
        if base in PROVIDED_BY_RUNTIME or entry.name == "bin":
            shutil.rmtree(entry, ignore_errors=True) if entry.is_dir() else entry.unlink()
    (tmp / ".complete").write_text("ok\n")
    try:
        tmp.rename(out)
    except OSError:  # another process finished first
        shutil.rmtree(tmp, ignore_errors=True)
    return out
