"""The sqlite schema and queries behind SqliteBackend: synchronous, one connection, one thread.

Owns: the kine-style `log` table (one row per write; `id` is the revision), the `current`
table (each live key -> the id of its latest row, so get/list/count never scan history), the
`meta` table (compacted revision), applying a batch of writes in one transaction, and
compaction.

A log row is self-contained: `value` is the new value (NULL for a delete), `old_value` and
`prev_revision` the version it replaced, so a watch can replay any row >= the compacted
revision with its previous value. Invariants:
- only this connection writes (the database is opened with an exclusive lock), so the next
  revision is `rev + 1`, assigned here, one per successful write; the newest row is never
  deleted by compaction, so `MAX(id)` is the revision after a restart.
- compaction at C keeps every row >= C and, below C, each key's latest row unless a newer
  row <= C supersedes it or it is a delete: exactly what lists at revision >= C need.
Every method must be called from the backend's single worker thread.
"""
from __future__ import annotations

import builtins
import sqlite3
from typing import Any, Literal, Sequence

from .fanout import prefix_end
from .interface import (
    CompactedError, ConflictError, Event, KeyExistsError, KeyValue, ListResult, NotFoundError,
    StorageError,
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS log (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    created INTEGER NOT NULL,
    deleted INTEGER NOT NULL,
    create_revision INTEGER NOT NULL,
    prev_revision INTEGER NOT NULL,
    value BLOB,
    old_value BLOB
);
CREATE INDEX IF NOT EXISTS log_name_id ON log (name, id);
CREATE TABLE IF NOT EXISTS current (name TEXT PRIMARY KEY, id INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
"""

OpKind = Literal["create", "update", "delete"]
Op = tuple[OpKind, str, bytes, int]          # kind, key, value, expected revision
_ROW = "id, name, created, deleted, create_revision, prev_revision, value, old_value"
COMPACT_CHUNK = 5000


def _range(prefix: str, start_after: str = "", col: str = "name") -> tuple[str, list[Any]]:
    """SQL condition (and params) for keys under prefix and after start_after."""
    if start_after and start_after >= prefix:
        conds, params = [f"{col} > ?"], [start_after]
    else:
        conds, params = [f"{col} >= ?"], [prefix]
    end = prefix_end(prefix)
    if end is not None:
        conds.append(f"{col} < ?")
        params.append(end)
    return " AND ".join(conds), params


def row_event(row: Sequence[Any]) -> Event:
    rev, name, created, deleted, create_rev, prev_rev, value, old_value = row
    prev = KeyValue(name, old_value, create_rev, prev_rev) if prev_rev else None
    if deleted:
        return Event("DELETE", KeyValue(name, old_value, create_rev, rev), prev)
    return Event("PUT", KeyValue(name, value, create_rev, rev), prev, created=bool(created))


class SqliteLog:
    def __init__(self, path: str, lock_timeout: float = 5.0) -> None:
        self.path = path
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        try:
            self.db.execute(f"PRAGMA busy_timeout = {int(lock_timeout * 1000)}")
            self.db.execute("PRAGMA locking_mode = EXCLUSIVE")
            self.db.execute("PRAGMA journal_mode = WAL")
            self.db.execute("PRAGMA synchronous = NORMAL")
            self.db.execute("PRAGMA cache_size = -32768")
            self.db.executescript(SCHEMA)
            self.db.execute("BEGIN IMMEDIATE")   # takes the exclusive lock for good
            self.db.execute("COMMIT")
        except sqlite3.OperationalError as e:
            self.db.close()
            if "locked" in str(e):
                raise StorageError(f"sqlite database {path} is in use by another process") from e
            raise
        self.rev: int = self.db.execute("SELECT COALESCE(MAX(id), 0) FROM log").fetchone()[0]
        row = self.db.execute("SELECT value FROM meta WHERE key = 'compacted'").fetchone()
        self.compacted: int = row[0] if row else 0

    def close(self) -> None:
        self.db.close()

    # -- writes --------------------------------------------------------------------------------
    def apply(self, ops: Sequence[Op]) -> list[Event | StorageError]:
        """Apply ops in order in one transaction; each op succeeds or fails on its own."""
        rev0 = self.rev
        self.db.execute("BEGIN IMMEDIATE")
        try:
            out: list[Event | StorageError] = []
            for kind, key, value, expected in ops:
                try:
                    if kind == "create":
                        out.append(self._create(key, value))
                    else:
                        out.append(self._change(kind, key, value, expected))
                except StorageError as e:
                    out.append(e)
            self.db.execute("COMMIT")
            return out
        except BaseException:
            self.rev = rev0
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            raise

    def _create(self, key: str, value: bytes) -> Event:
        rev = self.rev + 1
        try:
            self.db.execute("INSERT INTO current (name, id) VALUES (?, ?)", (key, rev))
        except sqlite3.IntegrityError:
            raise KeyExistsError(key) from None
        self.db.execute(f"INSERT INTO log ({_ROW}) VALUES (?, ?, 1, 0, ?, 0, ?, NULL)",
                        (rev, key, rev, value))
        self.rev = rev
        return Event("PUT", KeyValue(key, value, rev, rev), None, created=True)

    def _change(self, kind: OpKind, key: str, value: bytes, expected: int) -> Event:
        row = self.db.execute(
            "SELECT l.id, l.create_revision, l.value FROM current c JOIN log l ON l.id = c.id"
            " WHERE c.name = ?", (key,)).fetchone()
        if row is None:
            raise NotFoundError(key)
        old_rev, create_rev, old_value = row
        if expected and old_rev != expected:
            raise ConflictError(key, expected, old_rev)
        rev = self.rev + 1
        prev = KeyValue(key, old_value, create_rev, old_rev)
        if kind == "delete":
            self.db.execute(f"INSERT INTO log ({_ROW}) VALUES (?, ?, 0, 1, ?, ?, NULL, ?)",
                            (rev, key, create_rev, old_rev, old_value))
            self.db.execute("DELETE FROM current WHERE name = ?", (key,))
            self.rev = rev
            return Event("DELETE", KeyValue(key, old_value, create_rev, rev), prev)
        self.db.execute(f"INSERT INTO log ({_ROW}) VALUES (?, ?, 0, 0, ?, ?, ?, ?)",
                        (rev, key, create_rev, old_rev, value, old_value))
        self.db.execute("UPDATE current SET id = ? WHERE name = ?", (rev, key))
        self.rev = rev
        return Event("PUT", KeyValue(key, value, create_rev, rev), prev)

    # -- reads ---------------------------------------------------------------------------------
    def get(self, key: str) -> KeyValue | None:
        row = self.db.execute(
            "SELECT l.value, l.create_revision, l.id FROM current c JOIN log l ON l.id = c.id"
            " WHERE c.name = ?", (key,)).fetchone()
        return KeyValue(key, row[0], row[1], row[2]) if row else None

    def count(self, prefix: str) -> int:
        cond, params = _range(prefix, col="name")
        return int(self.db.execute(f"SELECT COUNT(*) FROM current WHERE {cond}", params)
                   .fetchone()[0])

    def list(self, prefix: str, limit: int, start_after: str, revision: int) -> ListResult:
        if revision > self.rev:
            raise StorageError(f"revision {revision} is in the future (current {self.rev})")
        if revision and revision < self.compacted:
            raise CompactedError(revision, self.compacted)
        at = revision or self.rev
        lim = limit + 1 if limit > 0 else -1
        if at == self.rev:   # current state: the `current` table, no history scan
            cond, params = _range(prefix, start_after, col="c.name")
            sql = ("SELECT c.name, l.value, l.create_revision, l.id FROM current c"
                   f" JOIN log l ON l.id = c.id WHERE {cond} ORDER BY c.name LIMIT ?")
        else:                 # as of an older revision: each key's latest row <= at
            cond, params = _range(prefix, start_after)
            sql = ("SELECT l.name, l.value, l.create_revision, l.id FROM log l JOIN"
                   f" (SELECT MAX(id) AS id FROM log WHERE {cond} AND id <= ? GROUP BY name) m"
                   " ON l.id = m.id WHERE l.deleted = 0 ORDER BY l.name LIMIT ?")
            params.append(at)
        rows = self.db.execute(sql, [*params, lim]).fetchall()
        more = limit > 0 and len(rows) > limit
        items = [KeyValue(*r) for r in (rows[:limit] if more else rows)]
        remaining = self._count_after(prefix, items[-1].key, at) if more else 0
        return ListResult(items=items, revision=at, more=more, remaining=remaining)

    def _count_after(self, prefix: str, after: str, at: int) -> int:
        cond, params = _range(prefix, after)
        if at == self.rev:
            sql = f"SELECT COUNT(*) FROM current WHERE {cond}"
        else:
            sql = ("SELECT COUNT(*) FROM log l JOIN (SELECT MAX(id) AS id FROM log WHERE"
                   f" {cond} AND id <= ? GROUP BY name) m ON l.id = m.id WHERE l.deleted = 0")
            params.append(at)
        return int(self.db.execute(sql, params).fetchone()[0])

    def replay(self, prefix: str, start: int, limit: int) -> builtins.list[Event]:
        """Events under prefix with revision >= start, oldest first, at most limit."""
        if start < self.compacted:
            raise CompactedError(start, self.compacted)
        cond, params = _range(prefix)
        rows = self.db.execute(
            f"SELECT {_ROW} FROM log WHERE id >= ? AND {cond} ORDER BY id LIMIT ?",
            [start, *params, limit]).fetchall()
        return [row_event(r) for r in rows]

    # -- compaction ----------------------------------------------------------------------------
    def compact_begin(self, revision: int) -> int | None:
        """Record the new compacted revision; return the first id to sweep (None: no-op)."""
        if revision > self.rev:
            raise StorageError(f"cannot compact at {revision}: newer than current {self.rev}")
        if revision <= self.compacted:
            return None
        self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('compacted', ?)",
                        (revision,))
        self.compacted = revision
        return int(self.db.execute("SELECT COALESCE(MIN(id), 0) FROM log").fetchone()[0])

    def compact_chunk(self, revision: int, lo: int) -> int | None:
        """Delete superseded rows with id in [lo, lo + chunk) below revision; next lo or None."""
        hi = min(lo + COMPACT_CHUNK, revision)
        self.db.execute(
            "DELETE FROM log WHERE id >= ? AND id < ? AND (deleted = 1 OR EXISTS ("
            " SELECT 1 FROM log n WHERE n.name = log.name AND n.id > log.id AND n.id <= ?))",
            (lo, hi, revision))
        return hi if hi < revision else None
