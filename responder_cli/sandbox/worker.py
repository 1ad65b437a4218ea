"""A Lambda worker process: runs one function's handler from its code asset, with its environment.

Protocol: one JSON request per line on stdin (`{"event": ...}`), one JSON response per line on the
original stdout (`{"result": ..., "errored": bool}`). The handler's own output (Powertools logs) goes to
stderr, which the sandbox writes to that function's log file.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any


def _time_the_wire() -> list[float]:
    """Seconds spent sending requests to the emulator and waiting for its answers, in this process.

    Wraps botocore's HTTP send, below serialization, signing and parsing: what remains of an
    invocation's duration is the responder's own time (its code, pydantic, botocore's client side).
    The handlers make their calls one at a time, so the sum is wall time.
    """
    import botocore.httpsession

    spent = [0.0]
    send = botocore.httpsession.URLLib3Session.send

    def timed(self: botocore.httpsession.URLLib3Session, request: Any) -> Any:
        started = time.perf_counter()
        try:
            return send(self, request)
        finally:
            spent[0] += time.perf_counter() - started

    botocore.httpsession.URLLib3Session.send = timed  # type: ignore[method-assign]
    return spent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--code", required=True)
    parser.add_argument("--handler", required=True)
    parser.add_argument("--function-name", required=True)
    parser.add_argument("--function-arn", required=True)
    parser.add_argument("--timeout", type=int, default=60)
    parser.add_argument("--memory", type=int, default=512)
    args = parser.parse_args()

    protocol = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    sys.stdout = sys.stderr  # the handler's prints and logs must not corrupt the protocol
    sys.path.insert(0, args.code)

    from responder_cli.sandbox.lambda_runtime import LambdaContext, error_payload, load_handler

    wire = _time_the_wire()
    init_started = time.perf_counter()
    try:
        handler = load_handler(__import__("pathlib").Path(args.code), args.handler, "worker")
        init_error = None
    except Exception as exc:  # an init failure is reported on every invocation, as Lambda does
        handler, init_error = None, error_payload(exc)
    init_ms: float | None = (time.perf_counter() - init_started) * 1000

    for line in sys.stdin:
        if not line.strip():
            continue
        event = json.loads(line)["event"]
        if init_error is not None:
            protocol.write(json.dumps({"result": init_error, "errored": True}) + "\n")
            continue
        context = LambdaContext(args.function_name, args.function_arn, args.memory, args.timeout)
        started, wire_before = time.perf_counter(), wire[0]
        try:
            result, errored = json.dumps(handler(event, context)), False
        except Exception as exc:
            result, errored = error_payload(exc), True
        duration_ms = (time.perf_counter() - started) * 1000
        sys.stderr.flush()
        aws_ms = (wire[0] - wire_before) * 1000
        reply = {"result": result, "errored": errored, "duration_ms": duration_ms, "aws_ms": aws_ms}
        if init_ms is not None:  # the first invocation of this worker is its cold start
            reply["init_ms"], init_ms = init_ms, None
        protocol.write(json.dumps(reply) + "\n")


if __name__ == "__main__":
    main()
