"""What a benchmark gets: quick or full, a scratch folder, databases (PostgreSQL on demand)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.servers import PostgresServer, RedisServer, start_postgres, start_redis


@dataclass
class RunContext:
    quick: bool
    root: Path
    _postgres: PostgresServer | None = field(default=None, repr=False)
    _redis: RedisServer | None = field(default=None, repr=False)

    def tmp(self, name: str) -> Path:
        path = self.root / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def sqlite_url(self, name: str) -> str:
        return f"sqlite+aiosqlite:///{self.tmp(name) / 'chatgql.db'}"

    def postgres_url(self) -> str:
        """A fresh database on a PostgreSQL server started for this run (once)."""
        if self._postgres is None:
            self._postgres = start_postgres(self.tmp("postgres"))
        return self._postgres.create_database()

    def redis_url(self) -> str:
        if self._redis is None:
            self._redis = start_redis(self.tmp("redis"))
        return self._redis.url

    @staticmethod
    def stack(system: str, database: str = "sqlite", broker: str = "memory://") -> dict[str, Any]:
        if system == "bare":
            return {"database": "none", "broker": "none"}
        return {"database": database, "broker": broker.split("://")[0]}

    def close(self) -> None:
        for server in (self._postgres, self._redis):
            if server is not None:
                with contextlib.suppress(Exception):
                    server.stop()
        self._postgres = self._redis = None
