"""A small persistent job store on SQLite (WAL) for batch and, later, PDF jobs.

A job has a kind (``batch``, ``pdf``, ...), an owner (the API key's app_id), a status, a progress
in [0, 1], the accepted request (JSON), an optional callback, and numbered items (a batch's
images, a PDF's pages), each with its own input, status and result or error. Every change is
committed at once, so a job accepted before a crash or a restart is still there afterwards and its
unfinished items can be resumed. Methods block on the database: call them from a thread.
"""

from __future__ import annotations

import enum
import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import JsonValue

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    owner TEXT NOT NULL,
    status TEXT NOT NULL,
    progress REAL NOT NULL DEFAULT 0,
    num_items INTEGER NOT NULL DEFAULT 0,
    num_completed INTEGER NOT NULL DEFAULT 0,
    num_errors INTEGER NOT NULL DEFAULT 0,
    request TEXT NOT NULL,
    callback TEXT,
    callback_status TEXT,
    error TEXT,
    created_at REAL NOT NULL,
    modified_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_status ON jobs(status);
CREATE INDEX IF NOT EXISTS jobs_owner ON jobs(owner, kind, created_at);
CREATE TABLE IF NOT EXISTS job_items (
    job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    key TEXT NOT NULL,
    status TEXT NOT NULL,
    input TEXT NOT NULL,
    result TEXT,
    error TEXT,
    modified_at REAL NOT NULL,
    PRIMARY KEY (job_id, idx)
);
"""


class JobPhase(enum.StrEnum):
    """Job status, with the Mathpix PDF names: received -> loaded -> split -> completed|error."""

    RECEIVED = "received"
    LOADED = "loaded"
    SPLIT = "split"
    COMPLETED = "completed"
    ERROR = "error"

    @property
    def finished(self) -> bool:
        return self in (JobPhase.COMPLETED, JobPhase.ERROR)


class ItemStatus(enum.StrEnum):
    PENDING = "pending"
    COMPLETED = "completed"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class ItemSpec:
    """An item to create: its key (batch key, page number) and its input."""

    key: str
    input: JsonValue


@dataclass(frozen=True, slots=True)
class JobRecord:
    id: str
    kind: str
    owner: str
    status: JobPhase
    progress: float
    num_items: int
    num_completed: int
    num_errors: int
    request: JsonValue
    callback: JsonValue
    callback_status: str | None
    error: str | None
    created_at: float
    modified_at: float


@dataclass(frozen=True, slots=True)
class ItemRecord:
    job_id: str
    idx: int
    key: str
    status: ItemStatus
    input: JsonValue
    result: JsonValue
    error: JsonValue


def open_db(path: Path) -> sqlite3.Connection:
    """A connection in WAL mode that any thread may use (callers serialise with a lock)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, check_same_thread=False, timeout=30.0, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    return conn


def _loads(text: str | None) -> JsonValue:
    return None if text is None else json.loads(text)


def _dumps(value: JsonValue) -> str | None:
    return None if value is None else json.dumps(value)


_JOB_COLUMNS = (
    "id, kind, owner, status, progress, num_items, num_completed, num_errors, request,"
    " callback, callback_status, error, created_at, modified_at"
)


def _job(r: Any) -> JobRecord:
    return JobRecord(
        id=str(r[0]),
        kind=str(r[1]),
        owner=str(r[2]),
        status=JobPhase(str(r[3])),
        progress=float(r[4]),
        num_items=int(r[5]),
        num_completed=int(r[6]),
        num_errors=int(r[7]),
        request=_loads(r[8]),
        callback=_loads(r[9]),
        callback_status=None if r[10] is None else str(r[10]),
        error=None if r[11] is None else str(r[11]),
        created_at=float(r[12]),
        modified_at=float(r[13]),
    )


class JobStore:
    """Jobs and their items in one SQLite file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn = open_db(path)
        self._conn.executescript(_SCHEMA)
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # --- writing -----------------------------------------------------------------------------

    def create(
        self,
        kind: str,
        owner: str,
        request: JsonValue,
        items: Sequence[ItemSpec] = (),
        callback: JsonValue = None,
        job_id: str | None = None,
    ) -> JobRecord:
        """Persist a new job with its items (status ``split`` when it has items)."""
        job_id = job_id or uuid.uuid4().hex
        now = time.time()
        status = JobPhase.SPLIT if items else JobPhase.RECEIVED
        with self._lock, self._conn:
            self._conn.execute("BEGIN IMMEDIATE")
            self._conn.execute(
                f"INSERT INTO jobs ({_JOB_COLUMNS}) VALUES (?,?,?,?,0,?,0,0,?,?,?,NULL,?,?)",
                (
                    job_id,
                    kind,
                    owner,
                    status.value,
                    len(items),
                    json.dumps(request),
                    _dumps(callback),
                    "pending" if callback is not None else None,
                    now,
                    now,
                ),
            )
            self._conn.executemany(
                "INSERT INTO job_items (job_id, idx, key, status, input, modified_at)"
                " VALUES (?,?,?,?,?,?)",
                [
                    (job_id, i, item.key, ItemStatus.PENDING.value, json.dumps(item.input), now)
                    for i, item in enumerate(items)
                ],
            )
        record = self.get(job_id)
        assert record is not None
        return record

    def add_items(self, job_id: str, items: Sequence[ItemSpec], status: JobPhase) -> None:
        """Append items to a job (a PDF once its pages are known) and set its status."""
        now = time.time()
        with self._lock, self._conn:
            self._conn.execute("BEGIN IMMEDIATE")
            (start,) = self._conn.execute(
                "SELECT COUNT(*) FROM job_items WHERE job_id = ?", (job_id,)
            ).fetchone()
            self._conn.executemany(
                "INSERT INTO job_items (job_id, idx, key, status, input, modified_at)"
                " VALUES (?,?,?,?,?,?)",
                [
                    (job_id, start + i, it.key, ItemStatus.PENDING.value, json.dumps(it.input), now)
                    for i, it in enumerate(items)
                ],
            )
            self._conn.execute(
                "UPDATE jobs SET num_items = num_items + ?, status = ?, modified_at = ?"
                " WHERE id = ?",
                (len(items), status.value, now, job_id),
            )

    def finish_item(
        self, job_id: str, idx: int, *, result: JsonValue = None, error: JsonValue = None
    ) -> JobRecord:
        """Store an item's result (or error), update the job's counts and progress.

        The job becomes ``completed`` when its last item is done. Finishing an item twice
        counts it once.
        """
        status = ItemStatus.ERROR if error is not None else ItemStatus.COMPLETED
        now = time.time()
        with self._lock, self._conn:
            self._conn.execute("BEGIN IMMEDIATE")
            changed = self._conn.execute(
                "UPDATE job_items SET status = ?, result = ?, error = ?, modified_at = ?"
                " WHERE job_id = ? AND idx = ? AND status = ?",
                (status.value, _dumps(result), _dumps(error), now, job_id, idx, "pending"),
            ).rowcount
            if changed:
                self._conn.execute(
                    "UPDATE jobs SET num_completed = num_completed + 1,"
                    " num_errors = num_errors + ?,"
                    " progress = CAST(num_completed + 1 AS REAL) / MAX(num_items, 1),"
                    " status = CASE WHEN num_completed + 1 >= num_items THEN ? ELSE status END,"
                    " modified_at = ? WHERE id = ?",
                    (int(status is ItemStatus.ERROR), JobPhase.COMPLETED.value, now, job_id),
                )
        record = self.get(job_id)
        assert record is not None
        return record

    def set_status(self, job_id: str, status: JobPhase, error: str | None = None) -> None:
        progress_sql = ", progress = 1.0" if status is JobPhase.COMPLETED else ""
        with self._lock, self._conn:
            self._conn.execute(
                f"UPDATE jobs SET status = ?, error = ?, modified_at = ?{progress_sql}"
                " WHERE id = ?",
                (status.value, error, time.time(), job_id),
            )

    def set_callback_status(self, job_id: str, status: str) -> None:
        with self._lock, self._conn:
            self._conn.execute("UPDATE jobs SET callback_status = ? WHERE id = ?", (status, job_id))

    def delete(self, job_id: str) -> bool:
        with self._lock, self._conn:
            return self._conn.execute("DELETE FROM jobs WHERE id = ?", (job_id,)).rowcount > 0

    # --- reading -----------------------------------------------------------------------------

    def get(self, job_id: str, owner: str | None = None) -> JobRecord | None:
        """The job, or None when it does not exist (or belongs to another owner)."""
        sql = f"SELECT {_JOB_COLUMNS} FROM jobs WHERE id = ?"
        params: tuple[str, ...] = (job_id,)
        if owner is not None:
            sql += " AND owner = ?"
            params = (job_id, owner)
        with self._lock:
            row = self._conn.execute(sql, params).fetchone()
        return None if row is None else _job(row)

    def items(self, job_id: str, status: ItemStatus | None = None) -> list[ItemRecord]:
        sql = "SELECT idx, key, status, input, result, error FROM job_items WHERE job_id = ?"
        params: tuple[str, ...] = (job_id,)
        if status is not None:
            sql += " AND status = ?"
            params = (job_id, status.value)
        with self._lock:
            rows = self._conn.execute(sql + " ORDER BY idx", params).fetchall()
        return [
            ItemRecord(
                job_id=job_id,
                idx=int(r[0]),
                key=str(r[1]),
                status=ItemStatus(r[2]),
                input=_loads(r[3]),
                result=_loads(r[4]),
                error=_loads(r[5]),
            )
            for r in rows
        ]

    def unfinished(self, kind: str | None = None) -> list[JobRecord]:
        """Jobs not completed and not failed, oldest first (to resume after a restart)."""
        sql = f"SELECT {_JOB_COLUMNS} FROM jobs WHERE status NOT IN (?, ?)"
        params: list[str] = [JobPhase.COMPLETED.value, JobPhase.ERROR.value]
        if kind is not None:
            sql += " AND kind = ?"
            params.append(kind)
        with self._lock:
            rows = self._conn.execute(sql + " ORDER BY created_at", params).fetchall()
        return [_job(r) for r in rows]

    def pending_callbacks(self) -> list[JobRecord]:
        """Finished jobs whose callback has not been delivered yet."""
        sql = (
            f"SELECT {_JOB_COLUMNS} FROM jobs WHERE callback_status = 'pending'"
            " AND status IN (?, ?) ORDER BY created_at"
        )
        with self._lock:
            rows = self._conn.execute(
                sql, (JobPhase.COMPLETED.value, JobPhase.ERROR.value)
            ).fetchall()
        return [_job(r) for r in rows]

    def list_jobs(
        self, owner: str, kind: str, page: int = 1, per_page: int = 100
    ) -> list[JobRecord]:
        """One page of an owner's jobs of a kind, newest first."""
        with self._lock:
            rows = self._conn.execute(
                f"SELECT {_JOB_COLUMNS} FROM jobs WHERE owner = ? AND kind = ?"
                " ORDER BY created_at DESC LIMIT ? OFFSET ?",
                (owner, kind, per_page, (page - 1) * per_page),
            ).fetchall()
        return [_job(r) for r in rows]


__all__ = [
    "ItemRecord",
    "ItemSpec",
    "ItemStatus",
    "JobPhase",
    "JobRecord",
    "JobStore",
    "open_db",
]
