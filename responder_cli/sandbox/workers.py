"""Worker processes for the sandbox's Lambda functions: one per function, so that one function's
environment and imports never leak into another's. Workers die with the sandbox (PR_SET_PDEATHSIG)."""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import threading
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO, Any

from responder_cli.sandbox.lambda_runtime import FunctionSpec

PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class _Worker:
    def __init__(self, proc: subprocess.Popen[str], log: IO[str]) -> None:
        self.proc = proc
        self.log = log
        self.lock = threading.Lock()


class WorkerInvoker:
    def __init__(
        self,
        workdir: Path,
        code_for: Any,
        endpoint_url: str,
        env_overrides: dict[str, str] | None = None,
        pool_size: int = 3,
    ) -> None:
        """`code_for(function_name) -> bytes` returns the function's deployed code zip. Like Lambda, a
        function gets another worker (an execution environment) when all of its workers are busy, up to
        `pool_size`; each worker runs one invocation at a time."""
        self.workdir = workdir
        self.code_for = code_for
        self.endpoint_url = endpoint_url
        self.env_overrides = env_overrides or {}
        self._workers: dict[str, list[_Worker]] = {}
        self.pool_size = max(1, pool_size)
        self._lock = threading.Lock()
        # Linux sends the parent-death signal when the *thread* that forked a worker ends, so workers are
        # forked from one thread that lives as long as the sandbox.
        self._spawner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sandbox-spawner")
        self.invocations = 0
        # (function name, milliseconds inside the handler) for every invocation: the responder's own share
        self.timings: list[tuple[str, float, float]] = []  # function, duration, of which AWS calls (ms)
        # (function name, init ms, first invocation ms) for each worker's cold start
        self.cold_starts: list[tuple[str, float, float]] = []
        (workdir / "logs").mkdir(parents=True, exist_ok=True)

    def _code_dir(self, function: FunctionSpec) -> Path:
        blob = self.code_for(function.name)
        digest = hashlib.sha256(blob).hexdigest()[:16]
        target = self.workdir / "code" / digest
        if not target.exists():
            tmp = target.with_suffix(f".tmp{os.getpid()}")
            with zipfile.ZipFile(io.BytesIO(blob)) as zf:
                zf.extractall(tmp)
            tmp.rename(target)
        return target

    def _environment(self, function: FunctionSpec) -> dict[str, str]:
        base = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "POWERTOOLS_"))}
        env = {
            **base,
            **function.environment,
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": "sandbox",
            "AWS_SECRET_ACCESS_KEY": "sandbox",
            "AWS_REGION": function.region,
            "AWS_DEFAULT_REGION": function.region,
            "AWS_LAMBDA_FUNCTION_NAME": function.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory),
            "POWERTOOLS_TRACE_DISABLED": "true",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        for key, value in self.env_overrides.items():
            if key in env:
                env[key] = value
        return env

    def _spawn(self, function: FunctionSpec) -> _Worker:
        index = len(self._workers.get(function.name, []))
        log = (self.workdir / "logs" / f"{function.name}.{index}.log").open("a", buffering=1)
        proc = self._spawner.submit(
            subprocess.Popen,
            [
                sys.executable,
                "-m",
                "responder_cli.sandbox.worker",
                "--code",
                str(self._code_dir(function)),
                "--handler",
                function.handler,
                "--function-name",
                function.name,
                "--function-arn",
                function.arn,
                "--timeout",
                str(function.timeout),
                "--memory",
                str(function.memory),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            env=self._environment(function),
            preexec_fn=_die_with_parent,
        ).result()
        return _Worker(proc, log)

    def _acquire(self, function: FunctionSpec) -> _Worker:
        """A free, live worker of the function (locked for the caller), spawning one if all are busy."""
        while True:
            with self._lock:
                pool = self._workers.setdefault(function.name, [])
                pool[:] = [w for w in pool if w.proc.poll() is None or w.lock.locked()]
                for worker in pool:
                    if worker.lock.acquire(blocking=False):
                        return worker
                if len(pool) < self.pool_size:
                    worker = self._spawn(function)
                    worker.lock.acquire()
                    pool.append(worker)
                    return worker
                busy = pool[0]
            with busy.lock:  # wait for one to finish, then look again
                pass

    def invoke(self, function: FunctionSpec, event: Any) -> tuple[str, bool]:
        worker = self._acquire(function)
        err: BaseException | None = None
        try:
            with self._lock:
                self.invocations += 1
            assert worker.proc.stdin is not None and worker.proc.stdout is not None
            try:
                worker.proc.stdin.write(json.dumps({"event": event}, default=str) + "\n")
                worker.proc.stdin.flush()
                line = worker.proc.stdout.readline()
            except (BrokenPipeError, OSError) as exc:
                line = ""
                err = exc
            if not line:
                code = worker.proc.poll()
                message = f"worker for {function.name} exited ({code}); see its log" if code is not None else str(err)
                return json.dumps({"errorMessage": message, "errorType": "Runtime.ExitError"}), True
            reply = json.loads(line)
            self.timings.append((function.name, float(reply.get("duration_ms", 0.0)), float(reply.get("aws_ms", 0.0))))
            if "init_ms" in reply:
                self.cold_starts.append((function.name, float(reply["init_ms"]), float(reply.get("duration_ms", 0.0))))
            return str(reply["result"]), bool(reply["errored"])
        finally:
            worker.lock.release()

    def count(self) -> int:
        return sum(1 for pool in self._workers.values() for w in pool if w.proc.poll() is None)

    def stop(self) -> None:
        with self._lock:
            workers = [w for pool in self._workers.values() for w in pool]
            self._workers.clear()
        for worker in workers:
            if worker.proc.poll() is None:
                worker.proc.terminate()
        for worker in workers:
            try:
                worker.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                worker.proc.kill()
                worker.proc.wait()
            worker.log.close()
        self._spawner.shutdown(wait=False)
