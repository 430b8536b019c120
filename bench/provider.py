"""A benchmark-only model: tokens stamped with the time they were yielded, at a fixed rate.

Each token is `t<seq>:<time_ns> ` (when the model produced it, see `paced`) padded with filler
words to `size` characters, so a client on the same machine computes delivery latency from the
text alone. A marker in the user
message says what to generate: `[bench:tokens=500,rate=50,size=32,gate=g1,hold=h1]`.
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import asdict, dataclass

from gql_api.providers.base import (
    Finished,
    ModelRequest,
    ProviderEvent,
    TextDelta,
    Usage,
    last_user_text,
)

STAMP = re.compile(r"t(\d+):(\d{19}) ")
_MARKER = re.compile(r"\[bench:([^\]]*)\]")


def _filler() -> str:
    # Word-like text, so permessage-deflate works about as hard as on real answers.
    rng = random.Random(7)
    letters = "etaoinshrdlucmfwypvbgkqjxz"
    words = ["".join(rng.choices(letters, k=rng.randint(1, 9))) for _ in range(1000)]
    return " ".join(rng.choices(words, k=20_000)) + " "


FILLER = _filler()


@dataclass(frozen=True)
class Plan:
    tokens: int = 100
    rate: float = 50.0  # tokens per second; 0 = as fast as possible
    size: int = 32  # characters per token (the stamp is padded up to this)
    gate: str = ""  # wait until this gate opens before the first token
    hold: str = ""  # after the last token, wait until this gate opens before finishing

    def marker(self) -> str:
        fields = ",".join(f"{k}={v}" for k, v in asdict(self).items() if v != "")
        return f"[bench:{fields}]"

    @classmethod
    def parse(cls, text: str) -> Plan:
        found = _MARKER.search(text)
        if found is None:
            return cls()
        values = dict(item.split("=", 1) for item in found.group(1).split(",") if "=" in item)
        return cls(
            tokens=int(values.get("tokens", 100)),
            rate=float(values.get("rate", 50.0)),
            size=int(values.get("size", 32)),
            gate=values.get("gate", ""),
            hold=values.get("hold", ""),
        )


def stamp(seq: int, size: int, at_ns: int) -> str:
    head = f"t{seq}:{at_ns} "
    if size <= len(head):
        return head
    start = (seq * 131) % (len(FILLER) - size)
    return head + FILLER[start : start + size - len(head)]


async def paced(plan: Plan) -> AsyncIterator[str]:
    """The plan's tokens, each stamped with the moment the model produced it.

    Paced, token n is due at start + (n - 1) / rate on the wall clock and is stamped with that
    time, like a remote model whose tokens wait in a socket while the server is busy: a server
    that picks tokens up late is charged for it, and tokens already due are yielded back to back
    without suspending (one read returning several events). Unpaced, a token is produced each time
    the event loop comes back to the generator, stamped as it is yielded.
    """
    if plan.rate <= 0:
        for seq in range(1, plan.tokens + 1):
            await asyncio.sleep(0)
            yield stamp(seq, plan.size, time.time_ns())
        return
    start, step = time.time_ns(), 1e9 / plan.rate
    for seq in range(1, plan.tokens + 1):
        due = start + round((seq - 1) * step)
        wait = (due - time.time_ns()) / 1e9
        if wait > 0:
            await asyncio.sleep(wait)
        yield stamp(seq, plan.size, due)


class Gates:
    """Named one-shot events, opened over HTTP by the benchmark driver."""

    def __init__(self) -> None:
        self._events: dict[str, asyncio.Event] = {}

    def _event(self, name: str) -> asyncio.Event:
        return self._events.setdefault(name, asyncio.Event())

    async def wait(self, name: str) -> None:
        if name:
            await self._event(name).wait()

    def open(self, name: str) -> None:
        self._event(name).set()


class StampedProvider:
    name = "bench-stamped"

    def __init__(self, gates: Gates) -> None:
        self.gates = gates

    async def stream(self, request: ModelRequest) -> AsyncGenerator[ProviderEvent, None]:
        plan = Plan.parse(last_user_text(request.messages))
        await self.gates.wait(plan.gate)
        async for text in paced(plan):
            yield TextDelta(text)
        await self.gates.wait(plan.hold)
        yield Usage(input_tokens=1, output_tokens=plan.tokens)
        yield Finished("end_turn")
