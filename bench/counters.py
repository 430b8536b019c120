"""Write counters at the driver boundary (SQLAlchemy events), for the write benchmark."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

WRITES = ("INSERT", "UPDATE", "DELETE")


class WriteCounters:
    """Counts, at the driver boundary of every engine in this process, what reaches the database."""

    def __init__(self) -> None:
        self.commits = 0
        self.write_transactions = 0  # commits of transactions that wrote anything
        self.write_statements = 0  # INSERT/UPDATE/DELETE round trips (an executemany is one)
        self.row_writes = 0  # parameter sets of those statements (rows targeted)

    def install(self) -> None:
        event.listen(Engine, "before_cursor_execute", self._before_execute)
        event.listen(Engine, "commit", self._commit)
        event.listen(Engine, "rollback", self._rollback)

    def _before_execute(
        self, conn: Any, _cursor: Any, statement: str, params: Any, _ctx: Any, many: bool
    ) -> None:
        if statement.lstrip()[:6].upper() in WRITES:
            self.write_statements += 1
            self.row_writes += len(params) if many else 1
            conn.info["bench_wrote"] = True

    def _commit(self, conn: Any) -> None:
        self.commits += 1
        if conn.info.pop("bench_wrote", False):
            self.write_transactions += 1

    def _rollback(self, conn: Any) -> None:
        conn.info.pop("bench_wrote", None)

    def snapshot(self) -> dict[str, int]:
        return dict(vars(self))
