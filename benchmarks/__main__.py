"""`make bench` (python -m benchmarks [--runs N] [--storm N]): print a table, write JSON."""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem = (
        int(
            next(
                line.split()[1]
                for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal")
            )
        )
        // 1024
        // 1024
    )
    return f"{os.cpu_count()} cores ({cpu}), {mem} GiB, Python {platform.python_version()}, {platform.system()} {platform.release()}"


def table(title: str, rows: list[dict], keys: list[str]) -> str:
    cells = [keys] + [[str(r.get(k, "")) for k in keys] for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(keys))]
    lines = [f"\n{title}", "  ".join(k.ljust(widths[i]) for i, k in enumerate(keys))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c[i].ljust(widths[i]) for i in range(len(keys))) for c in cells[1:]]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--runs", type=int, default=50, help="containments per resource kind")
    parser.add_argument("--storm", type=int, default=1000, help="findings in the storm (about 50 resources)")
    parser.add_argument("--resources", type=int, default=50)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

    from benchmarks import calls, coldstart, sandbox_runs

    started = time.monotonic()
    report: dict = {"machine": machine(), "when": datetime.now(UTC).isoformat(timespec="seconds"), "args": vars(args)}
    print(f"machine: {report['machine']}", flush=True)
    report["calls"] = calls.measure()
    print(
        table(
            "AWS calls per containment (contain step)",
            report["calls"],
            ["kind", "contain_calls", "minimum", "ratio", "verify_calls", "repeated_describes"],
        ),
        flush=True,
    )
    report["cold_start"] = coldstart.measure()
    print(
        table(
            f"Cold start (fresh process, Python {report['cold_start']['python']}"
            f"{' as the Lambda runtime' if report['cold_start']['runtime_python'] else ', NOT the Lambda runtime version'}:"
            " function asset + layer + botocore)",
            report["cold_start"]["handlers"],
            [
                "handler",
                "imports_ms",
                "init_ms",
                "total_ms",
                "total_from_source_ms",
                "asset_files",
                "asset_bytes",
                "asset_bytecode",
            ],
        ),
        flush=True,
    )
    print(
        f"dependency layer {report['cold_start']['layer_bytes']:,} bytes zipped"
        f" ({report['cold_start']['layer_bytes_with_bytecode']:,} with bytecode); import goal < {coldstart.GOAL_MS:.0f} ms"
    )

    bench = sandbox_runs.Bench()
    try:
        report["contain"] = sandbox_runs.time_to_contain(bench, args.runs)
        print(table("Time to contain and restore (auto mode, event on the bus until CONTAINED; own = in handlers, outside calls to the emulator)", report["contain"],
                    ["kind", "runs", "contain_p50_ms", "contain_p95_ms", "handler_p50_ms", "own_p50_ms", "own_share", "restore_p50_ms", "restore_p95_ms", "restore_own_p50_ms"]), flush=True)  # fmt: skip
        report["sandbox_cold_starts"] = sandbox_runs.cold_starts(bench)
        print(table("Cold starts in the sandbox (worker process per function; init = handler import + clients)",
                    report["sandbox_cold_starts"], ["function", "workers", "init_p50_ms", "first_invoke_p50_ms", "invoke_p50_ms"]), flush=True)  # fmt: skip
        report["floor"] = sandbox_runs.direct_boto3_floor(bench, min(args.runs, 20))
        ec2 = next(r for r in report["contain"] if r["kind"] == "ec2_instance")
        report["floor"]["ratio_p50"] = round(ec2["contain_p50_ms"] / max(report["floor"]["p50_ms"], 0.1), 1)
        print(
            f"\nDirect boto3 floor for the same EC2 calls: p50 {report['floor']['p50_ms']} ms; responder / floor = {report['floor']['ratio_p50']}x",
            flush=True,
        )
        report["storm"] = sandbox_runs.finding_storm(bench, args.storm, args.resources)
        print(table("Finding storm", [report["storm"]], list(report["storm"].keys())), flush=True)
        report["transitions"] = sandbox_runs.transitions_per_path(bench)
        print(table("State transitions per execution path (Standard workflows bill per transition)", report["transitions"],
                    ["path", "executions", "transitions", "usd_per_1000_incidents"]), flush=True)  # fmt: skip
    finally:
        bench.close()
    report["seconds"] = round(time.monotonic() - started, 1)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "latest.json"
    out.write_text(json.dumps(report, indent=2))
    print(f"\nwrote {out} in {report['seconds']} s")


if __name__ == "__main__":
    main()
