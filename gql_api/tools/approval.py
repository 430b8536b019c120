"""Tool calls waiting for the user's decision, in the process that generates their answer."""

from __future__ import annotations

import asyncio
import contextlib


class Approvals:
    def __init__(self) -> None:
        self._waiting: dict[tuple[str, str], asyncio.Future[bool]] = {}

    def is_waiting(self, stream_id: str, call_id: str) -> bool:
        return (stream_id, call_id) in self._waiting

    async def wait(self, stream_id: str, call_id: str, *, timeout: float) -> bool:
        """The decision; False (denied) when none comes within `timeout`."""
        key = (stream_id, call_id)
        future = self._waiting.setdefault(key, asyncio.get_running_loop().create_future())
        try:
            async with asyncio.timeout(timeout):
                return await future
        except TimeoutError:
            return False
        finally:
            self._waiting.pop(key, None)

    def expect(self, stream_id: str, call_id: str) -> None:
        """Register the call before anyone can see it pending, so no decision is missed."""
        self._waiting.setdefault((stream_id, call_id), asyncio.get_running_loop().create_future())

    def decide(self, stream_id: str, call_id: str, approve: bool) -> bool:
        """True when the call was waiting here (the first decision wins)."""
        future = self._waiting.get((stream_id, call_id))
        if future is None or future.done():
            return False
        with contextlib.suppress(asyncio.InvalidStateError):
            future.set_result(approve)
        return True
