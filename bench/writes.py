"""Benchmark 4: database writes per 1,000 tokens, batched (chatgql) vs one transaction per delta.

On SQLite and PostgreSQL. chatgql is counted inside its server process (SQLAlchemy events at
the driver: commits of transactions that wrote, INSERT/UPDATE/DELETE statements, rows), over
the window from opening the gate to the last stream finishing; the baseline writes the same
number of deltas through the same tables in a worker process, counted the same way. Batching
means writes follow time (one transaction per flush interval for all streams of a process), not
tokens, so the ratio depends on how many tokens a process generates per flush interval: each
case says its streams and rates. Target: >= 20x fewer write transactions.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from bench.api import Api, gate_name
from bench.chunk_writer import WriterJob, writer_worker
from bench.common import Server, Workers
from bench.context import RunContext
from bench.provider import Plan
from bench.report import Section, ratio
from gql_api.settings import Settings

TARGET = 20.0
DEFAULT_FLUSH_MS = Settings().flush_interval_ms
KEYS = ("write_transactions", "write_statements", "row_writes", "flusher_transactions")


@dataclass(frozen=True)
class Case:
    streams: int
    tokens: int  # per stream
    rate: float  # per stream
    flush_ms: int = DEFAULT_FLUSH_MS  # the server's flush interval

    @property
    def name(self) -> str:
        name = f"{self.streams} stream(s) x {self.rate:g} tokens/s"
        return (
            name if self.flush_ms == DEFAULT_FLUSH_MS else f"{name}, flush every {self.flush_ms} ms"
        )


def cases(quick: bool) -> list[Case]:
    if quick:
        return [Case(10, 100, 50), Case(1, 1000, 500), Case(1, 100, 50)]
    return [Case(10, 200, 50), Case(1, 2000, 500), Case(1, 250, 50)]


# For comparison: what a short flush interval costs a lone 50 tokens/s stream (SQLite, full run).
FAST_FLUSH = Case(1, 250, 50, flush_ms=50)


def run(ctx: RunContext, databases: tuple[str, ...] = ("sqlite", "postgres")) -> Section:
    section = Section("writes")
    for database in databases:
        url = ctx.sqlite_url("writes") if database == "sqlite" else ctx.postgres_url()
        with ctx.chatgql(f"writes-{database}", database_url=url) as server:
            # The server migrated the database; the baseline writes next to it, in its own rows.
            baseline = _baseline(url, tokens=500 if ctx.quick else 1000)
            per_k = 1000 / baseline["tokens"]
            base_tx = baseline["write_transactions"] * per_k
            section.figure(
                f"{database}: one transaction per delta (baseline)",
                {"database": database, "tokens": baseline["tokens"], "payload_chars": 32},
                write_tx_per_1k=round(base_tx, 1),
                statements_per_1k=round(baseline["write_statements"] * per_k, 1),
                rows_per_1k=round(baseline["row_writes"] * per_k, 1),
                tx_per_s=round(baseline["write_transactions"] / baseline["seconds"]),
            )
            for case in cases(ctx.quick):
                _measure(section, ctx, server, database, case, base_tx)
        if database == "sqlite" and not ctx.quick:
            flush = {"flush_interval_ms": str(FAST_FLUSH.flush_ms)}
            with ctx.chatgql("writes-fast-flush", database_url=url, **flush) as server:
                _measure(section, ctx, server, database, FAST_FLUSH, base_tx)
    section.notes.append(
        "write transactions follow time, not tokens: one transaction per flush interval for all "
        "the streams of a process (plus one per answer for its terminal state). The default "
        f"interval ({DEFAULT_FLUSH_MS} ms) bounds what a crash loses; subscribers that need "
        "unsaved text ask the owner to flush at once, so it does not delay them"
    )
    return section


def _measure(
    section: Section, ctx: RunContext, server: Server, database: str, case: Case, base_tx: float
) -> None:
    api = Api(server)
    try:
        counted = _chatgql(api, case)
    finally:
        api.close()
    per_k = 1000 / (case.streams * case.tokens)
    tx = counted["write_transactions"] * per_k
    setup = {
        **ctx.stack("chatgql", database),
        "streams": case.streams,
        "tokens": case.streams * case.tokens,
        "token_rate": f"{case.rate:g}/s per stream",
        "payload_chars": 32,
        "flush_interval_ms": case.flush_ms,
    }
    section.figure(
        f"{database}: chatgql, {case.name}",
        setup,
        write_tx_per_1k=round(tx, 1),
        statements_per_1k=round(counted["write_statements"] * per_k, 1),
        rows_per_1k=round(counted["row_writes"] * per_k, 1),
        flushes_per_1k=round(counted["flusher_transactions"] * per_k, 1),
        fewer_tx_x=round(ratio(base_tx, tx), 1),
    )
    section.target(
        f"{database}, {case.name}: fewer write transactions",
        ratio(base_tx, tx),
        TARGET,
        higher=True,
        detail=f"{tx:.1f} vs {base_tx:.0f} per 1,000 tokens",
    )


def _chatgql(api: Api, case: Case) -> dict[str, Any]:
    plan = Plan(tokens=case.tokens, rate=case.rate, size=32, gate=gate_name())
    for _ in range(case.streams):
        api.start(plan)
    time.sleep(0.2)  # let the sends' own transactions and first heartbeats pass
    before = api.stats()
    api.open_gate(plan.gate)
    api.wait_idle(timeout=case.tokens / case.rate + 60)
    after = api.stats()
    return {key: after[key] - before[key] for key in KEYS}


def _baseline(url: str, tokens: int) -> dict[str, Any]:
    with Workers(writer_worker, [WriterJob(database_url=url, tokens=tokens)]) as workers:
        result: dict[str, Any] = workers.collect("result", 120)[0]
        return result
