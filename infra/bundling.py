"""Docker-free bundling of the Lambda dependencies into a layer directory, and of each function's code.

pip installs the wheels for the Lambda runtime's Python version and platform
(`--platform manylinux2014_x86_64 --only-binary=:all: --python-version`), into `.build/layer/<hash>/python`.
The hash covers the requirements, the Python version and the platform, so a synth reuses the directory
instead of installing again.

Bytecode: Lambda's file system is read-only, so a module shipped without its `.pyc` is compiled on every
cold start (about 0.9 s for this layer and code, benchmarks/coldstart.py). When an interpreter of the
runtime's version is at hand (`RESPONDER_RUNTIME_PYTHON`, `python3.14` on PATH, or the one
`scripts/runtime-python.sh` unpacks under `.build/runtime-python/`), the layer and every code asset are
compiled with it, `unchecked-hash` (an asset never changes after it is built, so the source is not
re-read to validate the bytecode). Without one, assets ship source only and synth says so.
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


RUNTIME_PYTHON_ENV = "RESPONDER_RUNTIME_PYTHON"
_interpreter: tuple[Path | None] | None = None


class BundlingError(RuntimeError):
    pass


def _version_of(python: Path) -> str | None:
    try:
        proc = subprocess.run(  # noqa: S603
            [str(python), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
    except OSError:
        return None
    return proc.stdout.strip() if proc.returncode == 0 else None


def runtime_interpreter() -> Path | None:
    """An interpreter of the Lambda runtime's Python version, or None (assets then ship source only).

    `RESPONDER_RUNTIME_PYTHON`, when set, must name one: a wrong or missing interpreter there is an error,
    not a silent fallback to source.
    """
    global _interpreter
    if _interpreter is not None:
        return _interpreter[0]
    explicit = os.environ.get(RUNTIME_PYTHON_ENV)
    if explicit:
        version = _version_of(Path(explicit))
        if version != RUNTIME_PYTHON:
            raise BundlingError(
                f"{RUNTIME_PYTHON_ENV}={explicit} is {'not a runnable Python' if version is None else 'Python ' + version}; "
                f"the Lambda runtime is Python {RUNTIME_PYTHON}"
            )
        _interpreter = (Path(explicit),)
        return _interpreter[0]
    candidates = [
        shutil.which(f"python{RUNTIME_PYTHON}"),
        ROOT / ".build" / "runtime-python" / RUNTIME_PYTHON / "bin" / f"python{RUNTIME_PYTHON}",
    ]
    found = next(
        (Path(c) for c in candidates if c and Path(c).is_file() and _version_of(Path(c)) == RUNTIME_PYTHON), None
    )
    if found is None:
        print(
            f"bundling: no Python {RUNTIME_PYTHON} found ({RUNTIME_PYTHON_ENV}, python{RUNTIME_PYTHON} on PATH, or "
            "scripts/runtime-python.sh): the Lambda assets ship without bytecode and compile on every cold start",
            file=sys.stderr,
        )
    _interpreter = (found,)
    return found


def compile_bytecode(directory: Path, python: Path) -> None:
    """Compile every module under `directory` with `python` (unchecked-hash: the asset never changes)."""
    cmd = [
        str(python), "-m", "compileall", "-q", "-j", "1", "--invalidation-mode", "unchecked-hash",
        str(directory),
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)  # noqa: S603
    if proc.returncode != 0:
        raise BundlingError(f"compiling {directory} failed:\n{(proc.stdout + proc.stderr)[-4000:]}")


def _bytecode_tag() -> str:
    return "pyc" if runtime_interpreter() is not None else "src"


def layer_dir() -> Path:
    tag = _bytecode_tag()
    key = REQUIREMENTS.read_bytes() + f"|{RUNTIME_PYTHON}|{PLATFORM}|v2|{tag}".encode()
    out = ROOT / ".build" / "layer" / hashlib.sha256(key).hexdigest()[:16]
    return build_once(out, _install_layer)


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
    python = runtime_interpreter()
    if python is not None:
        compile_bytecode(tmp / "python", python)


def build_once(out: Path, build: Callable[[Path], None]) -> Path:
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
    digest.update(_bytecode_tag().encode())
    out = ROOT / ".build" / "code" / f"{module.rsplit('.', 1)[-1]}-{digest.hexdigest()[:16]}"

    def copy(tmp: Path) -> None:
        for file in files:
            target = tmp / file.relative_to(LAMBDA_DIR)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(file, target)
        python = runtime_interpreter()
        if python is not None:
            compile_bytecode(tmp, python)

    return build_once(out, copy)
