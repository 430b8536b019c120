"""This process's own row in `nodes`: registered at start, a heartbeat every interval, its state.

The heartbeat is one small write per process, on a task of its own: it does not wait for stream
writes, so a process busy generating many answers never looks dead to the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging

from gql_api.db import Database
from models import nodes
from models.base import utcnow

log = logging.getLogger(__name__)


class NodeLiveness:
    def __init__(
        self, db: Database, node_id: str, *, interval: float, stale_after: float, task_name: str
    ) -> None:
        self._db = db
        self.node_id = node_id
        self._interval = interval
        self._stale_after = stale_after
        self._task_name = task_name  # runtime.JOB_TASK_PREFIX: statement counters skip it
        self.state = nodes.RUNNING
        self._task: asyncio.Task[None] | None = None
        self._steady_since: float | None = None

    async def start(self) -> None:
        async with self._db.write() as session:
            await nodes.register(session, self.node_id)
        self._steady_since = asyncio.get_running_loop().time()
        self._task = asyncio.create_task(self._run(), name=self._task_name)

    async def set_state(self, state: str) -> None:
        """Draining or stopped, written at once (others stop counting on this node)."""
        self.state = state
        async with self._db.write() as session:
            await nodes.beat(session, self.node_id, state)

    def steady(self) -> bool:
        """Whether this process has been beating without a failure for a whole stale period.

        Only then may it judge others dead: after a database outage (or its own start) the
        others' last heartbeats are old because no one could write, not because they died."""
        since = self._steady_since
        return since is not None and asyncio.get_running_loop().time() - since >= self._stale_after

    async def others_running(self) -> bool:
        threshold = utcnow() - dt.timedelta(seconds=self._stale_after)
        async with self._db.read() as session:
            return await nodes.others_alive(session, self.node_id, threshold)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        # Others take over what is left at once instead of waiting for the heartbeat to age.
        with contextlib.suppress(Exception):
            await self.set_state(nodes.STOPPED)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                async with self._db.write() as session:
                    await nodes.beat(session, self.node_id, self.state)
            except asyncio.CancelledError:
                raise
            except Exception:
                self._steady_since = None
                log.warning("node heartbeat failed; retrying", exc_info=True)
                continue
            if self._steady_since is None:
                self._steady_since = asyncio.get_running_loop().time()
