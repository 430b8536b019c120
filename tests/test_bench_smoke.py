"""The benchmark suite still runs: its cheapest pieces, in quick mode, on SQLite."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import resume, writes
from bench.api import Api
from bench.context import RunContext
from bench.provider import Plan
from bench.runs import Load, run_bare, run_chatgql

pytestmark = pytest.mark.slow

RUN_KEYS = {
    "p50_ms",
    "p99_ms",
    "delivered",
    "tokens_per_s",
    "frames_per_s",
    "server_cpu_pct",
    "server_us_per_frame",
    "errors",
}


def test_writes_quick_on_sqlite(tmp_path: Path) -> None:
    section = writes.run(RunContext(quick=True, root=tmp_path), databases=("sqlite",))
    assert section.error is None
    data = section.as_dict()
    assert {"figures", "targets", "notes", "seconds", "error"} <= data.keys()
    baseline, *cases = section.figures
    assert baseline.values["write_tx_per_1k"] == pytest.approx(1000, rel=0.05)
    assert len(cases) == len(writes.cases(quick=True))
    for figure in cases:
        assert {"write_tx_per_1k", "statements_per_1k", "fewer_tx_x"} <= figure.values.keys()
        assert {"database", "streams", "tokens", "token_rate"} <= figure.setup.keys()
        assert figure.values["write_tx_per_1k"] > 0
    assert {t.name for t in section.targets}


def test_a_small_streaming_run(tmp_path: Path) -> None:
    ctx = RunContext(quick=True, root=tmp_path)
    load = Load(subscribers=3, plan=Plan(tokens=30, rate=100, size=32), warmup=2)
    with ctx.chatgql("smoke") as server, ctx.bare("smoke") as bare:
        api = Api(server)
        try:
            chatgql = run_chatgql(server, api, load)
        finally:
            api.close()
        baseline = run_bare(bare, load)
    for values in (chatgql, baseline):
        assert RUN_KEYS <= values.keys()
        assert values["errors"] == 0, values
        assert values["delivered"] == 1.0, values


def test_resume_quick_on_sqlite(tmp_path: Path) -> None:
    """Joins of a live and of a finished answer, each beside its floor and the bare query."""
    section = resume.run(RunContext(quick=True, root=tmp_path))
    assert section.error is None
    names = [f.name for f in section.figures]
    assert names == [
        f"sqlite: join a {state} {kb} KB answer"
        for kb in (100, 1000)
        for state in ("live", "finished")
    ]
    for figure in section.figures:
        values = figure.values
        assert values["snapshot_frame_kb"] >= figure.setup["stream_text_kb"]
        for key in ("subscribe_first_event_p50_ms", "bare_query_p50_ms", "ws_frame_floor_ms"):
            assert values[key] > 0, (figure.name, key)
    assert [t.name for t in section.targets] == [
        "sqlite, 100 KB: first event / bare query (p50)",
        "sqlite, 1000 KB: first event / bare query (p50)",
    ]
