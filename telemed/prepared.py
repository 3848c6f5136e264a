"""Hand-written statements on hot paths, prepared once per PostgreSQL connection.

Planning a statement can cost as much as running it (the slots query, a reminder's five-table read), and
Django compiling an ORM query costs more than both. A `Prepared` statement is written once with
`%(name)s` placeholders; on PostgreSQL each connection PREPAREs it on first use (a prepared statement
lasts as long as its connection, whatever happens to transactions) and then only EXECUTEs it. Other
databases (SQLite in development) run the same text as it is.
"""

import weakref
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Prepared:
    name: str  # unique per process: the name of the prepared statement
    sql: str  # with %(name)s placeholders, each listed in `parameters`
    parameters: tuple[tuple[str, str], ...]  # (placeholder, PostgreSQL type), in the order EXECUTE takes them
    _prepared_on: weakref.WeakSet = field(default_factory=weakref.WeakSet, compare=False, repr=False)

    def execute(self, cursor, params: dict) -> None:
        """Run on `cursor` (a Django cursor) with `params`, a dict with every placeholder."""
        if cursor.db.vendor != "postgresql":
            cursor.execute(self.sql, params)
            return
        self.prepare(cursor)
        cursor.execute(self.execute_sql, params)

    def prepare(self, cursor) -> None:
        """PREPARE on this PostgreSQL connection, if not yet done."""
        raw = cursor.db.connection
        if raw not in self._prepared_on:
            body = self.sql
            for number, (name, _type) in enumerate(self.parameters, start=1):
                body = body.replace(f"%({name})s", f"${number}")
            types = ", ".join(kind for _name, kind in self.parameters)
            cursor.execute(f"PREPARE {self.name} ({types}) AS {body}")
            self._prepared_on.add(raw)

    @property
    def execute_sql(self) -> str:
        """The EXECUTE statement, with `%(name)s` placeholders: for a prepared connection, to send
        with other statements in one round trip."""
        placeholders = ", ".join(f"%({name})s" for name, _type in self.parameters)
        return f"EXECUTE {self.name} ({placeholders})"
