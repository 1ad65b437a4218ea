"""The in-process Lambda invoker: a function's environment is seen by the thread running it, and only by it."""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path
from types import ModuleType

from responder_cli.sandbox.lambda_runtime import FunctionSpec, InProcessInvoker

HANDLER = """
import os
import threading

started = threading.Event()
release = threading.Event()


def handler(event, context):
    started.set()
    release.wait(5)
    return {"seen": os.environ.get("FUNCTION_ONLY"), "memory": os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"]}
"""


def _spec(name: str) -> FunctionSpec:
    arn = f"arn:aws:lambda:us-east-1:123456789012:function:{name}"
    return FunctionSpec(name, arn, "probe.handler", {"FUNCTION_ONLY": name}, memory=256)


def _loaded_probe() -> ModuleType:
    """The probe module once the invoker has imported it (its cold start runs in the worker thread)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        module = sys.modules.get("_lambda_0_probe")
        if module is not None and hasattr(module, "release"):
            return module
        time.sleep(0.01)
    raise AssertionError("the probe handler was never loaded")


def test_other_threads_never_see_a_running_functions_variables(tmp_path: Path) -> None:
    (tmp_path / "probe.py").write_text(HANDLER)
    invoker = InProcessInvoker(tmp_path)
    before = dict(os.environ)
    results: list[tuple[str, bool]] = []
    worker = threading.Thread(target=lambda: results.append(invoker.invoke(_spec("fn-a"), {})))
    worker.start()
    module = _loaded_probe()
    assert module.started.wait(5)
    try:
        # Another thread (the emulator's executor) reads the environment while the handler runs.
        assert "FUNCTION_ONLY" not in os.environ
        assert "AWS_LAMBDA_FUNCTION_MEMORY_SIZE" not in os.environ
        assert dict(os.environ) == before
    finally:
        module.release.set()
        worker.join(5)
    assert results == [('{"seen": "fn-a", "memory": "256"}', False)]
    assert dict(os.environ) == before


def test_the_shared_environment_is_never_changed_by_an_invocation(tmp_path: Path) -> None:
    (tmp_path / "probe.py").write_text(HANDLER.replace("release.wait(5)", "pass"))
    invoker = InProcessInvoker(tmp_path)
    before = dict(os.environ)
    assert invoker.invoke(_spec("fn-b"), {}) == ('{"seen": "fn-b", "memory": "256"}', False)
    assert dict(os.environ) == before
    os.environ["PROBE_SET_BY_TEST"] = "1"  # writes outside an invocation still reach the process
    try:
        assert os.getenv("PROBE_SET_BY_TEST") == "1"
    finally:
        del os.environ["PROBE_SET_BY_TEST"]
