"""Docker-free bundling of the Lambda dependencies into a layer directory.

pip installs the wheels for the Lambda runtime's Python version and platform
(`--platform manylinux2014_x86_64 --only-binary=:all: --python-version`), into `.build/layer/<hash>/python`.
The hash covers the requirements, the Python version and the platform, so a synth reuses the directory
instead of installing again.
"""

from __future__ import annotations

import ast
import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
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
    return _build_once(out, _install_layer)


def _install_layer(tmp: Path) -> None:
    cmd = [
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile",
        "--target", str(tmp / "python"), "--platform", PLATFORM, "--implementation", "cp",
        "--python-version", RUNTIME_PYTHON, "--only-binary=:all:", "-r", str(REQUIREMENTS),
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)  # noqa: S603
    if proc.returncode != 0:
        raise RuntimeError(f"bundling the Lambda dependencies failed:\n{proc.stderr[-4000:]}")
    for entry in (tmp / "python").iterdir():
        base = entry.name.split("-")[0].lower().removesuffix(".py")
        if base in PROVIDED_BY_RUNTIME or entry.name == "bin":
            shutil.rmtree(entry, ignore_errors=True) if entry.is_dir() else entry.unlink()


def _build_once(out: Path, build: Callable[[Path], None]) -> Path:
    """Build into a temporary sibling and rename it into place, marked complete: a directory that exists
    is whole, a failed build leaves nothing, and concurrent builds (parallel synths) do not collide."""
    if (out / ".complete").exists():
        return out
    tmp = out.parent / f"{out.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        build(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    (tmp / ".complete").write_text("ok\n")
    try:
        tmp.rename(out)
    except OSError:  # another process finished first
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def module_closure(handler_module: str, root: Path = LAMBDA_DIR) -> list[Path]:
    """The source files a handler module can import from the code directory, found by reading imports.

    Walks every `import` and `from ... import` (including ones inside functions and TYPE_CHECKING
    blocks) from the handler module, follows those that resolve to files under `root`, and adds each
    package's `__init__.py` on the way. Third-party imports come from the layer or the runtime.
    """

    def resolve(name: str) -> Path | None:
        base = root / Path(*name.split("."))
        if base.with_suffix(".py").is_file():
            return base.with_suffix(".py")
        if (base / "__init__.py").is_file():
            return base / "__init__.py"
        return None

    def package_of(file: Path) -> str:
        parts = list(file.relative_to(root).with_suffix("").parts)
        return ".".join(parts[:-1])

    found: set[Path] = set()
    pending = [handler_module]
    while pending:
        name = pending.pop()
        file = resolve(name)
        if file is None or file in found:
            continue
        found.add(file)
        parts = name.split(".")
        pending.extend(".".join(parts[:i]) for i in range(1, len(parts)))
        tree = ast.parse(file.read_text(), filename=str(file))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                pending.extend(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    anchor = package_of(file) if file.name != "__init__.py" else name
                    anchor_parts = anchor.split(".")[: len(anchor.split(".")) - (node.level - 1)]
                    module = ".".join([*anchor_parts, *([node.module] if node.module else [])])
                else:
                    module = node.module or ""
                pending.append(module)
                pending.extend(f"{module}.{alias.name}" for alias in node.names)
    return sorted(found)


def function_code_dir(handler: str) -> Path:
    """A code directory holding only what the handler (`package.module.function`) imports.

    Built under `.build/code/<module>-<hash of the files>` so each function's asset changes only when
    its own code does; an unchanged function keeps its asset hash and is not redeployed.
    """
    module = handler.rpartition(".")[0]
    files = module_closure(module)
    if not files:
        raise ValueError(f"handler {handler!r} names no module under {LAMBDA_DIR}")
    digest = hashlib.sha256()
    for file in files:
        digest.update(file.relative_to(LAMBDA_DIR).as_posix().encode() + b"\0" + file.read_bytes() + b"\0")
    out = ROOT / ".build" / "code" / f"{module.rsplit('.', 1)[-1]}-{digest.hexdigest()[:16]}"

    def copy(tmp: Path) -> None:
        for file in files:
            target = tmp / file.relative_to(LAMBDA_DIR)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(file, target)

    return _build_once(out, copy)
