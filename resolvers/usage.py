"""What the caller's model requests used and cost."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Annotated

import strawberry

from gql_api.context import Info
from gql_api.domain import usage
from gql_api.domain.usage import UsageFigures


@strawberry.enum
class UsageGranularity(Enum):
    DAY = "day"
    HOUR = "hour"


@strawberry.type(description="Tokens and cost; input tokens include cached ones.")
class UsageTotals:
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    reasoning_tokens: int
    cost_micros: float = strawberry.field(description="USD millionths, from the model's prices.")
    requests: int = strawberry.field(description="Model requests (a tool round is one more).")
    estimated_requests: int = strawberry.field(
        description="Requests whose tokens were estimated: the provider sent no figures."
    )

    @classmethod
    def of(cls, figures: UsageFigures) -> UsageTotals:
        return cls(
            input_tokens=figures.input_tokens,
            output_tokens=figures.output_tokens,
            cache_read_tokens=figures.cache_read_tokens,
            cache_write_tokens=figures.cache_write_tokens,
            reasoning_tokens=figures.reasoning_tokens,
            cost_micros=float(figures.cost_micros),
            requests=figures.requests,
            estimated_requests=figures.estimated_requests,
        )


@strawberry.type
class UsagePeriod:
    start: dt.datetime
    model: str
    usage: UsageTotals


@strawberry.type
class ModelUsage:
    model: str
    usage: UsageTotals


@strawberry.type
class UsageReport:
    periods: list[UsagePeriod]
    by_model: list[ModelUsage]
    total: UsageTotals


@strawberry.type
class Query:
    @strawberry.field(
        description="Usage and cost per day or hour (UTC) and model from `from` to `to` "
        "(excluded), with totals per model and overall."
    )
    async def usage_report(
        self,
        info: Info,
        from_: Annotated[dt.datetime, strawberry.argument(name="from")],
        to: dt.datetime,
        granularity: UsageGranularity = UsageGranularity.DAY,
    ) -> UsageReport:
        user = await info.context.require_user()
        report = await usage.usage_report(
            db=info.context.services.db,
            user=user,
            start=from_,
            end=to,
            granularity="day" if granularity is UsageGranularity.DAY else "hour",
        )
        return UsageReport(
            periods=[
                UsagePeriod(start=b.start, model=b.model, usage=UsageTotals.of(b.figures))
                for b in report.buckets
            ],
            by_model=[
                ModelUsage(model=m, usage=UsageTotals.of(f))
                for m, f in sorted(report.by_model.items())
            ],
            total=UsageTotals.of(report.total),
        )
