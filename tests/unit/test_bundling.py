"""Bytecode in the Lambda assets: compiled once at bundling, used without re-reading the source."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from infra import bundling


def _run(python: str, path: Path, code: str) -> str:
    env = {"PYTHONPATH": str(path), "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run([python, "-S", "-c", code], env=env, capture_output=True, text=True, check=True).stdout


def test_compiled_modules_load_from_their_bytecode(tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "mod.py").write_text("VALUE = 'compiled'\n")

    bundling.compile_bytecode(tmp_path, Path(sys.executable))

    tag = sys.implementation.cache_tag
    assert (package / "__pycache__" / f"mod.{tag}.pyc").is_file()
    # unchecked-hash: the bytecode is used as it is; the source is not read again to validate it.
    (package / "mod.py").write_text("VALUE = 'source'\n")
    assert _run(sys.executable, tmp_path, "import pkg.mod; print(pkg.mod.VALUE)").strip() == "compiled"


def test_a_module_that_does_not_compile_fails_the_bundle(tmp_path):
    (tmp_path / "broken.py").write_text("def f(:\n")
    with pytest.raises(bundling.BundlingError, match=r"broken\.py"):
        bundling.compile_bytecode(tmp_path, Path(sys.executable))


@pytest.mark.parametrize("value", [sys.executable, "/nonexistent/python3.14"])
def test_a_named_interpreter_of_another_version_is_an_error_not_a_fallback(monkeypatch, value):
    monkeypatch.setattr(bundling, "_interpreter", None)
    monkeypatch.setenv(bundling.RUNTIME_PYTHON_ENV, value)
    with pytest.raises(bundling.BundlingError, match=f"the Lambda runtime is Python {bundling.RUNTIME_PYTHON}"):
        bundling.runtime_interpreter()
