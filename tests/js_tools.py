"""The npm packages some tests run under node (tests/js/package.json, pinned by its lock file):
installed with `npm ci` on first use; the tests skip without node, and fail instead under CI."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from pathlib import Path

import pytest

JS_DIR = Path(__file__).parent / "js"
NPM_TIMEOUT = 300


def ensure_node_modules() -> Path:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        if os.environ.get("CI") == "true":
            pytest.fail("node and npm are required under CI (.ci/run installs them)")
        pytest.skip("node and npm are not installed")
    if not (JS_DIR / "node_modules" / ".package-lock.json").exists():
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=JS_DIR,
            check=True,
            timeout=NPM_TIMEOUT,
        )
    return JS_DIR


@pytest.fixture(scope="session")
def js_tools() -> Path:
    return ensure_node_modules()


async def run_node(script: str, *args: str, timeout: float = 120) -> list[str]:
    """Run tests/js/<script> with node; its stdout lines (it must exit 0)."""
    proc = await asyncio.create_subprocess_exec(
        "node",
        str(JS_DIR / script),
        *args,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=JS_DIR,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    assert proc.returncode == 0, err.decode()[-2000:]
    return out.decode().splitlines()
