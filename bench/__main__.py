"""`python -m bench [--quick] [name ...]`: run benchmarks, print a table, write results.json."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

import psutil

from bench import (
    big_requests,
    fanout,
    http_list,
    latency,
    many_streams,
    memory,
    observability,
    options,
    resume,
    writes,
)
from bench.context import RunContext
from bench.peers import compare as peers
from bench.report import Section, table, write

BENCHMARKS: dict[str, Callable[[RunContext], Section]] = {
    "latency": latency.run,
    "fanout": fanout.run,
    "peers": peers.run,
    "streams": many_streams.run,
    "writes": writes.run,
    "resume": resume.run,
    "memory": memory.run,
    "http": http_list.run,
    "requests": big_requests.run,
    "observability": observability.run,
}
RESULTS = Path(__file__).resolve().parent / "results.json"


def run_all(names: list[str], ctx: RunContext) -> list[Section]:
    sections = []
    for name in names:
        started = time.monotonic()
        print(f"-- {name} ...", flush=True)
        try:
            section = BENCHMARKS[name](ctx)
        except Exception as exc:
            traceback.print_exc()
            section = Section(name, error=f"{type(exc).__name__}: {exc}")
        section.seconds = time.monotonic() - started
        sections.append(section)
        print(table([section]), flush=True)
    return sections


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", metavar="name", help=", ".join(BENCHMARKS))
    parser.add_argument("--quick", action="store_true", help="a reduced run (< 2 minutes)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where to write the JSON")
    parser.add_argument(
        "--server-options",
        default="",
        metavar="A,B",
        help=f"what-if switches for the servers ({', '.join(options.KNOWN)}); see bench/options.py",
    )
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; choose from {', '.join(BENCHMARKS)}")
    names = args.names or list(BENCHMARKS)
    try:
        server_options = options.parse(args.server_options)
    except ValueError as exc:
        parser.error(str(exc))
    root = Path(tempfile.mkdtemp(prefix="chatgql-bench-"))
    ctx = RunContext(quick=args.quick, root=root, server_options=server_options)
    started = time.monotonic()
    try:
        sections = run_all(names, ctx)
    finally:
        ctx.close()
        shutil.rmtree(root, ignore_errors=True)
    meta = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "quick": args.quick,
        "server_options": server_options,
        "benchmarks": names,
        "seconds": round(time.monotonic() - started, 1),
        "cpus": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
    write(args.out, meta, sections)
    print("\n" + table(sections))
    print(f"\nwritten to {args.out} in {meta['seconds']}s")
    return 1 if any(s.error for s in sections) else 0


if __name__ == "__main__":
    sys.exit(main())
