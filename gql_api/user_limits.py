"""Per-user limits on answers: how many run at once, and how many start a minute.

Answers running at once are counted in the database, where the stream rows are, inside the
transaction that would add one (so a crashed process's answers stop counting when they are swept,
and every process sees the same number). Starts a minute are a moving window of the `limits`
library: in Redis when the broker is Redis, so every process shares one count; in process memory
otherwise. Both refuse with RATE_LIMITED and `retryAfter` (seconds) before anything is stored.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

from limits import RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError
from redis.asyncio import ConnectionPool

from gql_api.errors import RateLimited
from gql_api.settings import Settings

log = logging.getLogger("chatgql.limits")
# A running answer frees its place when it ends, at a time nobody knows: clients poll this often.
RUNNING_RETRY_SECONDS = 1


@dataclass(frozen=True)
class UserLimit:
    running_answers: int
    sends_per_minute: int


class UserLimits:
    def __init__(self, settings: Settings) -> None:
        self._default = UserLimit(settings.max_running_answers, settings.max_sends_per_minute)
        self._overrides = {
            subject: UserLimit(
                self._default.running_answers if values.answers is None else values.answers,
                values.per_minute or self._default.sends_per_minute,
            )
            for subject, values in settings.user_limits.items()
        }
        self._pool: ConnectionPool | None = None
        storage: Storage
        if settings.broker_url.startswith(("redis://", "rediss://")):
            self._pool = ConnectionPool.from_url(settings.broker_url)
            storage = RedisStorage(
                "async+" + settings.broker_url,
                implementation="redispy",
                key_prefix="chatgql-limits",
                wrap_exceptions=True,  # StorageError, whatever the Redis client raised
                connection_pool=self._pool,  # type: ignore[arg-type]
            )
        else:
            storage = MemoryStorage()
        self._window = MovingWindowRateLimiter(storage)

    def for_user(self, subject: str) -> UserLimit:
        """The limits of the user with this token subject."""
        return self._overrides.get(subject, self._default)

    async def count_send(self, subject: str) -> None:
        """Counts one answer started by this user; RATE_LIMITED past the per-minute limit."""
        per_minute = self.for_user(subject).sends_per_minute
        item = RateLimitItemPerMinute(per_minute)
        try:
            if await self._window.hit(item, "sends", subject):
                return
            stats = await self._window.get_window_stats(item, "sends", subject)
        except StorageError:
            # Redis is away (the broker says so too): answers go on unlimited rather than fail.
            log.warning("per-minute limits not counted: their store is unavailable")
            return
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        raise RateLimited(
            f"At most {per_minute} answers a minute; try again in {retry_after} s.",
            retryAfter=retry_after,
        )

    def refuse_running(self, subject: str, running: int) -> None:
        """RATE_LIMITED when `running` answers of this user leave no room for one more."""
        limit = self.for_user(subject).running_answers
        if running >= limit:
            raise RateLimited(
                f"At most {limit} answers can be generated at once; wait for one to finish.",
                retryAfter=RUNNING_RETRY_SECONDS,
            )

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()
