"""What each model request used and cost, per user and hour; reports by day or hour and model.

Cost is in micro-dollars: a price per million tokens in USD is exactly micro-dollars per token.
Where the provider sends no figures (an answer stopped mid-way, an endpoint without a usage
chunk) the tokens are estimated from the text, about four characters a token, and counted as
estimated requests.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import TYPE_CHECKING, Literal

from sqlalchemy import select

from gql_api.db import Database
from gql_api.errors import InvalidInput
from gql_api.providers.base import Usage
from gql_api.providers.catalog import ModelInfo
from models.usage_hours import UsageHour, add_usage_hour

if TYPE_CHECKING:  # domain.users imports domain modules that import this one
    from gql_api.domain.users import CurrentUser

log = logging.getLogger(__name__)
MAX_DAYS = 366
MAX_HOURS = 31 * 24
Granularity = Literal["day", "hour"]


def cost_micros(model: ModelInfo, usage: Usage) -> int:
    """Unknown prices count as zero."""
    uncached = max(0, usage.input_tokens - usage.cache_read_tokens - usage.cache_write_tokens)
    parts = [
        (uncached, model.input_price),
        (usage.output_tokens, model.output_price),
        (usage.cache_read_tokens, model.cache_read_price),
        (usage.cache_write_tokens, model.cache_write_price),
    ]
    total = sum((Decimal(n) * price for n, price in parts if price is not None), Decimal(0))
    return int(total.to_integral_value())


class UsageLedger:
    """Writes usage in the background, so recording never delays or breaks an answer."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._pending: set[asyncio.Task[None]] = set()

    def record(self, *, user_id: str, model: ModelInfo, usage: Usage) -> None:
        task = asyncio.get_running_loop().create_task(self._write(user_id, model, usage))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def close(self) -> None:
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)

    async def _write(self, user_id: str, model: ModelInfo, usage: Usage) -> None:
        hour = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
        try:
            async with self._db.write() as session:
                await add_usage_hour(
                    session,
                    user_id=user_id,
                    hour=hour,
                    model=model.id,
                    input_tokens=usage.input_tokens,
                    output_tokens=usage.output_tokens,
                    cache_read_tokens=usage.cache_read_tokens,
                    cache_write_tokens=usage.cache_write_tokens,
                    reasoning_tokens=usage.reasoning_tokens,
                    cost_micros=cost_micros(model, usage),
                    requests=1,
                    estimated_requests=int(usage.estimated),
                )
        except Exception:
            log.warning("could not record usage of %s", model.id, exc_info=True)


@dataclass
class UsageFigures:
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0
    cost_micros: int = 0
    requests: int = 0
    estimated_requests: int = 0

    def add(self, row: UsageHour | UsageFigures) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(row, f.name))


@dataclass
class UsageBucket:
    start: dt.datetime
    model: str
    figures: UsageFigures = field(default_factory=UsageFigures)


@dataclass
class UsageReport:
    buckets: list[UsageBucket]
    by_model: dict[str, UsageFigures]
    total: UsageFigures


async def usage_report(
    *,
    db: Database,
    user: CurrentUser,
    start: dt.datetime,
    end: dt.datetime,
    granularity: Granularity,
) -> UsageReport:
    """Usage from `start` to `end` (excluded) by period and model, with totals. `start` is
    taken back to the beginning of its hour, or its (UTC) day for a daily report."""
    start, end = _utc(start, "from"), _utc(end, "to")
    start = start.replace(minute=0, second=0, microsecond=0)
    if granularity == "day":
        start = start.replace(hour=0)
    if end <= start:
        raise InvalidInput("`to` must be after `from`", field="to")
    span = end - start
    if granularity == "hour" and span > dt.timedelta(hours=MAX_HOURS):
        raise InvalidInput(f"hourly reports span at most {MAX_HOURS // 24} days", field="to")
    if span > dt.timedelta(days=MAX_DAYS):
        raise InvalidInput(f"reports span at most {MAX_DAYS} days", field="to")
    async with db.read() as session:
        rows = list(
            await session.scalars(
                select(UsageHour)
                .where(UsageHour.user_id == user.id, UsageHour.hour >= start, UsageHour.hour < end)
                .order_by(UsageHour.hour, UsageHour.model)
            )
        )
    buckets: dict[tuple[dt.datetime, str], UsageBucket] = {}
    by_model: dict[str, UsageFigures] = {}
    total = UsageFigures()
    for row in rows:
        period = row.hour if granularity == "hour" else row.hour.replace(hour=0)
        bucket = buckets.setdefault((period, row.model), UsageBucket(period, row.model))
        bucket.figures.add(row)
        by_model.setdefault(row.model, UsageFigures()).add(row)
        total.add(row)
    return UsageReport(list(buckets.values()), by_model, total)


def _utc(value: dt.datetime, what: str) -> dt.datetime:
    if value.tzinfo is None:
        raise InvalidInput(f"`{what}` needs a time zone", field=what)
    return value.astimezone(dt.UTC)
