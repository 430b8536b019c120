"""The `peers` benchmark still runs: each peer server streams a few stamped tokens to a few
subscribers through the bench's own clients, everything delivered."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bench.context import RunContext
from bench.peers import compare
from bench.peers.servers import PEERS, peer_server, run_peer
from bench.provider import Plan
from bench.runs import Load

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("kind", PEERS)
def test_a_peer_streams_to_the_bench_clients(kind: str, tmp_path: Path) -> None:
    if kind == "node" and shutil.which("node") is None:
        pytest.fail("the node peer needs node and npm (Debian: nodejs npm)")
    load = Load(subscribers=3, plan=Plan(tokens=30, rate=100, size=32), warmup=2)
    with peer_server(kind, tmp_path) as server:
        values = run_peer(kind, server, load)
        unpaced = run_peer(kind, server, Load(subscribers=2, plan=Plan(tokens=40, rate=0)))
    for result in (values, unpaced):
        assert result["errors"] == 0, result
        assert result["delivered"] == 1.0, result
    assert 0 < values["p50_ms"] < 1000


def test_the_peers_benchmark_compares_every_system(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The whole benchmark on tiny loads: a figure per system and case, ratios, the targets."""
    plan = Plan(tokens=30, rate=100, size=32)
    tiny = {
        "paced": Load(subscribers=2, plan=plan, warmup=2),
        "unpaced": Load(subscribers=2, plan=Plan(tokens=40, rate=0), warmup=0),
        "single": Load(subscribers=1, plan=plan, warmup=2),
    }
    monkeypatch.setattr(compare, "cases", lambda quick: tiny)
    monkeypatch.setattr(compare, "WARMUP", tiny["single"])
    section = compare.run(RunContext(quick=True, root=tmp_path))
    assert section.error is None
    assert len(section.figures) == len(tiny) * len(compare.SYSTEMS)
    for figure in section.figures:
        assert figure.values["errors"] == 0, figure
        assert figure.values["delivered"] == 1.0, figure
    single = [f for f in section.figures if f.setup["subscribers"] == 1]
    # psutil counts CPU in clock ticks: a 0.3 s run of an idle server may read 0
    assert all(f.values["server_cpu_us_per_token"] >= 0 for f in single)
    assert len(section.notes) == len(compare.COMPARED)
    assert "node" in section.notes[0] and "strawberry" in section.notes[0]  # the p99 ratios
    assert len(section.targets) == 5
