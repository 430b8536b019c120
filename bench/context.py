"""What a benchmark gets: quick or full, a scratch folder, databases (PostgreSQL on demand)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import Server, bare_server, chatgql_server
from tests.servers import PostgresServer, RedisServer, start_postgres, start_redis


@dataclass
class RunContext:
    quick: bool
    root: Path
    server_options: list[str] = field(default_factory=list)  # what-if switches, bench/options.py
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

    @contextlib.contextmanager
    def chatgql(
        self, name: str, *, database_url: str | None = None, **settings: str
    ) -> Iterator[Server]:
        """The server under test, on a fresh SQLite file unless `database_url` is given."""
        url = database_url or self.sqlite_url(name)
        with chatgql_server(
            self.tmp(name), database_url=url, options=self.server_options, **settings
        ) as server:
            yield server

    def bare(self, name: str) -> contextlib.AbstractContextManager[Server]:
        return bare_server(self.tmp(name), self.server_options)

    def stack(
        self, system: str, database: str = "sqlite", broker: str = "memory://"
    ) -> dict[str, Any]:
        """The setup keys every figure carries: database, broker, what-if options."""
        found = {"database": "none", "broker": "none"}
        if system != "bare":
            found = {"database": database, "broker": broker.split("://")[0]}
        if self.server_options:
            found["server_options"] = ",".join(self.server_options)
        return found

    def close(self) -> None:
        for server in (self._postgres, self._redis):
            if server is not None:
                with contextlib.suppress(Exception):
                    server.stop()
        self._postgres = self._redis = None
