"""SQLite (WAL) metadata of the cache: entries, a change log, counters.

SQLite is the source of truth. Vector indexes are derived from it: every insert, delete and
clear appends to ``changes``, and each process brings its in-memory index up to date by
replaying the changes after the last sequence number it has seen (or rebuilds from ``entries``
when it has fallen behind the pruned log). Writers take SQLite's write lock (``BEGIN
IMMEDIATE``), so several processes may share one cache directory.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scipix.errors import CacheError

SCHEMA_VERSION = "1"
BUSY_TIMEOUT_MS = 30_000
KEEP_CHANGES = 50_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL,
    ink BLOB NOT NULL,
    ink_scale REAL NOT NULL,
    bbox_height INTEGER NOT NULL,
    embedding BLOB NOT NULL,
    payload BLOB NOT NULL,
    encrypted INTEGER NOT NULL,
    confidence REAL NOT NULL,
    engine TEXT NOT NULL,
    size_bytes INTEGER NOT NULL,
    created REAL NOT NULL,
    last_used REAL NOT NULL,
    hits INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS entries_key ON entries (key);
CREATE INDEX IF NOT EXISTS entries_lru ON entries (last_used);
CREATE TABLE IF NOT EXISTS changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    op TEXT NOT NULL,
    entry_id INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""

COUNTERS = ("hits", "misses", "exact_hits", "vector_hits", "rejected", "evictions", "bytes")


@dataclass(frozen=True, slots=True)
class NewEntry:
    """What :meth:`MetadataStore.insert` writes."""

    key: str
    ink: bytes
    ink_scale: float
    bbox_height: int
    embedding: bytes
    payload: bytes
    encrypted: bool
    confidence: float
    engine: str
    size_bytes: int


@dataclass(frozen=True, slots=True)
class EntryRow:
    """One stored entry (the embedding is read separately)."""

    id: int
    key: str
    ink: bytes
    ink_scale: float
    bbox_height: int
    payload: bytes
    encrypted: bool
    confidence: float
    engine: str
    size_bytes: int
    created: float
    last_used: float
    hits: int


@dataclass(frozen=True, slots=True)
class Change:
    """One line of the change log: ``op`` is ``add``, ``del`` or ``clear``."""

    seq: int
    op: str
    entry_id: int


_ROW_COLUMNS = (
    "id, key, ink, ink_scale, bbox_height, payload, encrypted, confidence, engine, size_bytes, "
    "created, last_used, hits"
)


def _row(r: tuple[object, ...]) -> EntryRow:
    return EntryRow(
        id=int(r[0]),  # type: ignore[call-overload]
        key=str(r[1]),
        ink=bytes(r[2]),  # type: ignore[call-overload]
        ink_scale=float(r[3]),  # type: ignore[arg-type]
        bbox_height=int(r[4]),  # type: ignore[call-overload]
        payload=bytes(r[5]),  # type: ignore[call-overload]
        encrypted=bool(r[6]),
        confidence=float(r[7]),  # type: ignore[arg-type]
        engine=str(r[8]),
        size_bytes=int(r[9]),  # type: ignore[call-overload]
        created=float(r[10]),  # type: ignore[arg-type]
        last_used=float(r[11]),  # type: ignore[arg-type]
        hits=int(r[12]),  # type: ignore[call-overload]
    )


class MetadataStore:
    """One connection to the cache database. Not shared across processes or threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._db = sqlite3.connect(
                str(path),
                timeout=BUSY_TIMEOUT_MS / 1000,
                isolation_level=None,
                check_same_thread=False,
            )
            self._db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = NORMAL")
            with self.transaction():
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        self._db.execute(statement)
                for name in COUNTERS:
                    self._db.execute(
                        "INSERT OR IGNORE INTO counters (name, value) VALUES (?, 0)", (name,)
                    )
                self._db.execute(
                    "INSERT OR IGNORE INTO meta (name, value) VALUES ('schema', ?)",
                    (SCHEMA_VERSION,),
                )
        except sqlite3.DatabaseError as exc:
            raise CacheError(f"cannot open the cache database {path}: {exc}") from None
        if self.meta("schema") != SCHEMA_VERSION:
            raise CacheError(f"{path}: unsupported cache schema {self.meta('schema')}")

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction holding SQLite's write lock from the start."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    @contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """A read transaction: every read inside sees the same state of the database."""
        self._db.execute("BEGIN")
        try:
            yield self._db
        finally:
            self._db.execute("COMMIT")

    # --- meta and counters -----------------------------------------------------------------

    def meta(self, name: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, name: str, value: str) -> None:
        self._db.execute(
            "INSERT INTO meta (name, value) VALUES (?, ?) "
            "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            (name, value),
        )

    def bump(self, name: str, by: int = 1) -> None:
        self._db.execute("UPDATE counters SET value = value + ? WHERE name = ?", (by, name))

    def counters(self) -> dict[str, int]:
        return {str(n): int(v) for n, v in self._db.execute("SELECT name, value FROM counters")}

    def count(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM entries").fetchone()[0])

    # --- entries ---------------------------------------------------------------------------

    def insert(self, entry: NewEntry, now: float | None = None) -> int:
        """Insert one entry and log it; call inside :meth:`transaction`."""
        t = time.time() if now is None else now
        cur = self._db.execute(
            "INSERT INTO entries (key, ink, ink_scale, bbox_height, embedding, payload, encrypted, "
            "confidence, engine, size_bytes, created, last_used) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                entry.key,
                entry.ink,
                entry.ink_scale,
                entry.bbox_height,
                entry.embedding,
                entry.payload,
                int(entry.encrypted),
                entry.confidence,
                entry.engine,
                entry.size_bytes,
                t,
                t,
            ),
        )
        entry_id = int(cur.lastrowid or 0)
        self._db.execute("INSERT INTO changes (op, entry_id) VALUES ('add', ?)", (entry_id,))
        self.bump("bytes", entry.size_bytes)
        return entry_id

    def replace_payload(
        self, entry_id: int, payload: bytes, encrypted: bool, confidence: float
    ) -> None:
        """Give an entry a new result (same image); call inside :meth:`transaction`."""
        self._db.execute(
            "UPDATE entries SET payload = ?, encrypted = ?, confidence = ?, last_used = ? "
            "WHERE id = ?",
            (payload, int(encrypted), confidence, time.time(), entry_id),
        )

    def delete(self, ids: list[int]) -> int:
        """Delete entries and log it; call inside :meth:`transaction`."""
        removed = 0
        for entry_id in ids:
            row = self._db.execute(
                "DELETE FROM entries WHERE id = ? RETURNING size_bytes", (entry_id,)
            ).fetchone()
            if row is None:
                continue
            removed += 1
            self.bump("bytes", -int(row[0]))
            self._db.execute("INSERT INTO changes (op, entry_id) VALUES ('del', ?)", (entry_id,))
        return removed

    def clear(self) -> None:
        """Delete every entry and log one ``clear``; call inside :meth:`transaction`."""
        self._db.execute("DELETE FROM entries")
        self._db.execute("UPDATE counters SET value = 0 WHERE name = 'bytes'")
        self._db.execute("INSERT INTO changes (op, entry_id) VALUES ('clear', 0)")

    def get(self, entry_id: int) -> EntryRow | None:
        r = self._db.execute(
            f"SELECT {_ROW_COLUMNS} FROM entries WHERE id = ?", (entry_id,)
        ).fetchone()
        return None if r is None else _row(r)

    def by_key(self, key: str, limit: int = 4) -> list[EntryRow]:
        rows = self._db.execute(
            f"SELECT {_ROW_COLUMNS} FROM entries WHERE key = ? ORDER BY id DESC LIMIT ?",
            (key, limit),
        ).fetchall()
        return [_row(r) for r in rows]

    def touch(self, entry_id: int, now: float | None = None) -> None:
        self._db.execute(
            "UPDATE entries SET last_used = ?, hits = hits + 1 WHERE id = ?",
            (time.time() if now is None else now, entry_id),
        )

    def embeddings(self, ids: list[int] | None = None) -> Iterator[tuple[int, bytes]]:
        """``(id, embedding)`` of the given entries, or of all of them."""
        for r in self._rows("embedding", ids):
            yield int(r[0]), bytes(r[1])

    def payloads(self, ids: list[int] | None = None) -> Iterator[tuple[int, bytes, bool]]:
        """``(id, payload, encrypted)`` of the given entries, or of all of them."""
        for r in self._rows("payload, encrypted", ids):
            yield int(r[0]), bytes(r[1]), bool(r[2])

    def _rows(self, columns: str, ids: list[int] | None) -> Iterator[tuple[Any, ...]]:
        """``id`` and ``columns`` of the given entries (500 ids per query), or of all."""
        if ids is None:
            yield from self._db.execute(f"SELECT id, {columns} FROM entries ORDER BY id")
            return
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            yield from self._db.execute(
                f"SELECT id, {columns} FROM entries WHERE id IN ({marks})", chunk
            ).fetchall()
            return
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for r in self._db.execute(
                f"SELECT id, payload, encrypted FROM entries WHERE id IN ({marks})", chunk
            ).fetchall():
                yield int(r[0]), bytes(r[1]), bool(r[2])

    def lru(self, limit: int) -> list[tuple[int, int]]:
        """``(id, size_bytes)`` of the least recently used entries."""
        rows = self._db.execute(
            "SELECT id, size_bytes FROM entries ORDER BY last_used, id LIMIT ?", (limit,)
        ).fetchall()
        return [(int(r[0]), int(r[1])) for r in rows]

    # --- change log ------------------------------------------------------------------------

    def last_seq(self) -> int:
        row = self._db.execute("SELECT MAX(seq) FROM changes").fetchone()
        return int(row[0] or 0)

    def first_seq(self) -> int:
        row = self._db.execute("SELECT MIN(seq) FROM changes").fetchone()
        return int(row[0] or 0)

    def changes_since(self, seq: int, limit: int = 100_000) -> list[Change]:
        rows = self._db.execute(
            "SELECT seq, op, entry_id FROM changes WHERE seq > ? ORDER BY seq LIMIT ?", (seq, limit)
        ).fetchall()
        return [Change(int(r[0]), str(r[1]), int(r[2])) for r in rows]

    def prune_changes(self, keep: int = KEEP_CHANGES) -> None:
        """Forget all but the last ``keep`` changes; call inside :meth:`transaction`."""
        self._db.execute(
            "DELETE FROM changes WHERE seq <= (SELECT MAX(seq) FROM changes) - ?", (keep,)
        )


__all__ = ["COUNTERS", "Change", "EntryRow", "MetadataStore", "NewEntry"]
