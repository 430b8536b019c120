"""Engine and session scopes for SQLite (embedded default) and PostgreSQL (scale-out)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Executable, Row, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

# Execution option that marks a connection as one that will write (SQLite: BEGIN IMMEDIATE).
WRITE_OPTION = "chatgql_write"
# Execution option for a connection that runs one statement on its own (SQLite: no BEGIN).
SINGLE_STATEMENT_OPTION = "chatgql_single_statement"


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    if not is_sqlite(url):
        return create_async_engine(
            url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=20
        )

    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, echo=echo, connect_args={"timeout": 30})
    _install_sqlite_transactions(engine)
    return engine


def _install_sqlite_transactions(engine: AsyncEngine) -> None:
    """SQLAlchemy's recipe: let us emit BEGIN ourselves, IMMEDIATE for writers.

    A deferred transaction that upgrades from read to write gets SQLITE_BUSY at once, ignoring
    busy_timeout; taking the write lock at BEGIN makes writers queue on busy_timeout instead.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        options = conn.get_execution_options()
        if options.get(SINGLE_STATEMENT_OPTION, False):
            return  # the statement is a transaction by itself (the driver is in autocommit)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if options.get(WRITE_OPTION, False) else "BEGIN")


class Database:
    """Owns the engine; hands out short write and read session scopes."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.engine = create_engine(url, echo=echo)
        self.dialect = self.engine.dialect.name
        writer = self.engine.execution_options(**{WRITE_OPTION: True})
        self._writes = async_sessionmaker(writer, expire_on_commit=False, autoflush=False)
        self._reads = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=False)
        # For read_one: SQLite skips its BEGIN (see _on_begin); PostgreSQL's AUTOCOMMIT sends
        # no BEGIN and no ROLLBACK, two round trips fewer.
        self._single = self.engine.execution_options(
            **(
                {SINGLE_STATEMENT_OPTION: True}
                if self.dialect == "sqlite"
                else {"isolation_level": "AUTOCOMMIT"}
            )
        )
        self._single_reads = async_sessionmaker(
            self._single, expire_on_commit=False, autoflush=False
        )

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """One transaction that commits on success and rolls back on any error."""
        async with self._writes() as session, session.begin():
            yield session

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with self._reads() as session:
            yield session

    @asynccontextmanager
    async def read_single(self) -> AsyncIterator[AsyncSession]:
        """A session for one SELECT, outside a transaction (as `read_one`): a single statement
        reads one consistent state by itself, and skipping BEGIN and its end saves the round
        trips (each one a hop to aiosqlite's thread on SQLite)."""
        async with self._single_reads() as session:
            yield session

    async def read_one(self, statement: Executable, params: dict[str, Any]) -> Row[Any] | None:
        """The first row of one SELECT, run outside a transaction: a single statement reads one
        consistent state by itself."""
        async with self._single.connect() as conn:
            return (await conn.execute(statement, params)).first()

    async def ping(self) -> bool:
        try:
            async with self.engine.connect() as conn:
                await conn.exec_driver_sql("SELECT 1")
            return True
        except Exception:
            return False

    async def dispose(self) -> None:
        await self.engine.dispose()
