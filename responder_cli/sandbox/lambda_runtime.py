"""Run the deployed functions' real handler code when the emulator invokes a Lambda function.

moto runs Lambda functions in Docker, which this product does not need or have. `install()` replaces
moto's invocation with an `Invoker`: the function's handler string, its environment variables and the
event go to the invoker, and its result (or the Lambda error payload) goes back to the caller, e.g.
moto's Step Functions executor, exactly as Lambda would answer.

`InProcessInvoker` runs handlers in this process (the in-process workflow tests); the sandbox uses
worker processes, one per function (see workers.py).
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol


class Invoker(Protocol):
    def invoke(self, function: FunctionSpec, event: Any) -> tuple[str, bool]:
        """Run the function; returns (JSON result or Lambda error payload, errored)."""


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    arn: str
    handler: str
    environment: dict[str, str]
    timeout: int = 60
    memory: int = 512
    region: str = "us-east-1"


@dataclass
class LambdaContext:
    """The attributes of the Lambda context object that Powertools and handlers read."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    timeout_s: int
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = ""
    log_stream_name: str = ""
    _start: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_s - (time.monotonic() - self._start)) * 1000))


def error_payload(exc: BaseException) -> str:
    return json.dumps(
        {
            "errorMessage": str(exc),
            "errorType": type(exc).__name__,
            "stackTrace": traceback.format_tb(exc.__traceback__)[-5:],
        }
    )


def load_handler(code_dir: Path, handler: str, unique: str) -> Any:
    """Import `package.module.function` from the code directory as a fresh module (its own cold start)."""
    module_path, _, attr = handler.rpartition(".")
    file = code_dir / Path(*module_path.split("."))
    file = file.with_suffix(".py")
    spec = importlib.util.spec_from_file_location(f"_lambda_{unique}_{module_path.replace('.', '_')}", file)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load handler {handler} from {code_dir}")
    module: ModuleType = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # pydantic resolves the module's annotations through sys.modules
    spec.loader.exec_module(module)
    return getattr(module, attr)


class _ThreadEnvironment(MutableMapping[str, str]):
    """The process environment, seen by one thread with its own variables laid over it.

    In-process handlers run in the emulator's Step Functions threads, several executions at once. Setting
    a function's variables in the shared environment and taking them away afterwards raced with the other
    threads reading it (a KeyError in whatever thread iterated `os.environ` at that moment). Here a
    function's variables exist only for the thread running it; the shared environment is never changed.
    """

    def __init__(self, base: MutableMapping[str, str]) -> None:
        self.base = base
        self._local = threading.local()

    def _overlay(self) -> dict[str, str]:
        overlay: dict[str, str] | None = getattr(self._local, "overlay", None)
        return overlay if overlay is not None else {}

    def lay_over(self, variables: dict[str, str]) -> None:
        self._local.overlay = dict(variables)

    def lift(self) -> None:
        self._local.overlay = None

    def __getitem__(self, key: str) -> str:
        overlay = self._overlay()
        return overlay[key] if key in overlay else self.base[key]

    def __setitem__(self, key: str, value: str) -> None:
        overlay = self._overlay()
        if key in overlay:
            overlay[key] = value
        else:
            self.base[key] = value

    def __delitem__(self, key: str) -> None:
        overlay = self._overlay()
        if key in overlay:
            del overlay[key]
        else:
            del self.base[key]

    def __iter__(self) -> Iterator[str]:
        overlay = self._overlay()
        return iter([*overlay, *(key for key in list(self.base) if key not in overlay)])

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def copy(self) -> dict[str, str]:
        return dict(self.items())


def _thread_environment() -> _ThreadEnvironment:
    """Lay the per-thread view over `os.environ` once for this process."""
    if not isinstance(os.environ, _ThreadEnvironment):
        os.environ = _ThreadEnvironment(os.environ)  # type: ignore[assignment]  # noqa: B003 -- a view, not a clear
    return os.environ  # type: ignore[return-value]


class InProcessInvoker:
    """Runs each function's handler in this process, one invocation at a time, with that function's own
    environment variables in place, for the running thread only, for its cold start and every invocation."""

    def __init__(self, code_dir: Path) -> None:
        self.code_dir = code_dir
        self._lock = threading.RLock()
        self._handlers: dict[str, Any] = {}
        self.invocations: list[tuple[str, Any]] = []
        self._environment = _thread_environment()

    def invoke(self, function: FunctionSpec, event: Any) -> tuple[str, bool]:
        with self._lock:
            self._environment.lay_over(
                {
                    **function.environment,
                    "AWS_LAMBDA_FUNCTION_NAME": function.name,
                    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory),
                    "AWS_REGION": function.region,
                    "AWS_DEFAULT_REGION": function.region,
                }
            )
            try:
                self.invocations.append((function.name, event))
                handler = self._handlers.get(function.name)
                if handler is None:
                    handler = load_handler(self.code_dir, function.handler, str(len(self._handlers)))
                    self._handlers[function.name] = handler
                context = LambdaContext(function.name, function.arn, function.memory, function.timeout)
                return json.dumps(handler(event, context)), False
            except Exception as exc:
                return error_payload(exc), True
            finally:
                self._environment.lift()


_invoker: Invoker | None = None
_installed = False


def install(invoker: Invoker) -> None:
    """Route every Lambda invocation in the emulator to `invoker`."""
    global _invoker, _installed
    _invoker = invoker
    if _installed:
        return
    _installed = True
    from moto.awslambda.models import LambdaFunction

    def _invoke_lambda(self: Any, event: Any = None) -> tuple[str, bool, str]:
        if _invoker is None:
            raise RuntimeError("no Lambda invoker installed")
        if isinstance(event, (str, bytes)):
            event = json.loads(event or "{}")
        spec = FunctionSpec(
            name=self.function_name,
            arn=self.function_arn,
            handler=self.handler,
            environment={k: str(v) for k, v in (self.environment_vars or {}).items()},
            timeout=int(self.timeout or 60),
            memory=int(self.memory_size or 128),
            region=self.region,
        )
        result, errored = _invoker.invoke(spec, event)
        return result, errored, ""

    LambdaFunction._invoke_lambda = _invoke_lambda  # type: ignore[method-assign]


def uninstall() -> None:
    global _invoker
    _invoker = None
