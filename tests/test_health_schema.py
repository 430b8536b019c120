"""/health, and the committed schema.graphql against the schema the code builds."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from resolvers.export import sdl
from tests.support import ApiServer

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "schema.graphql"


async def test_health_reports_database_and_broker(api: ApiServer) -> None:
    response = await api.http.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["broker"] == "ok"
    assert body["node"] == api.services.node_id


async def test_health_needs_no_token_and_leaks_nothing(api: ApiServer) -> None:
    response = await api.http.get("/health", headers={"Authorization": "Bearer nonsense"})
    assert response.status_code == 200
    text = response.text
    assert api.settings.jwt_secret
    for secret in (api.settings.jwt_secret, api.settings.database_url, str(api.settings.data_dir)):
        assert secret not in text


def test_committed_schema_matches_the_code() -> None:
    assert SCHEMA.read_text() == sdl(), (
        "schema.graphql is out of date: run `python -m resolvers.export > schema.graphql`"
    )


def run_check(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "resolvers.export", "--check", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_export_check_passes_on_the_committed_schema() -> None:
    done = run_check(Path("schema.graphql"))
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""


def test_export_check_fails_on_a_modified_copy(tmp_path: Path) -> None:
    original = SCHEMA.read_text()
    changed = original.replace("  pinned: Boolean!\n", "  pinned: Boolean\n", 1)
    assert changed != original
    copy = tmp_path / "schema.graphql"
    copy.write_text(changed)
    done = run_check(copy)
    assert done.returncode == 1
    assert "-  pinned: Boolean\n" in done.stderr
    assert "+  pinned: Boolean!\n" in done.stderr
    assert "out of date" in done.stderr


def test_export_check_fails_on_a_missing_file(tmp_path: Path) -> None:
    done = run_check(tmp_path / "nothing.graphql")
    assert done.returncode == 1


def test_export_prints_the_schema() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "resolvers.export"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == sdl()
