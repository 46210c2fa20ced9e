"""Per-key request history for ``GET /v3/ocr-results``, kept in SQLite (WAL).

Only the options and the answer are stored, never the image (``src``) or the strokes. Requests
whose ``metadata.improve_mathpix`` is false are not stored, as with Mathpix.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pydantic import JsonValue

from scipix.jobs.store import open_db
from scipix.server.models import OcrResultEntry

_SCHEMA = """
CREATE TABLE IF NOT EXISTS ocr_results (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    owner TEXT NOT NULL,
    request_id TEXT NOT NULL,
    timestamp REAL NOT NULL,
    duration REAL NOT NULL,
    endpoint TEXT NOT NULL,
    is_handwritten INTEGER NOT NULL,
    tags TEXT NOT NULL,
    request_args TEXT NOT NULL,
    result TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ocr_results_owner_time ON ocr_results(owner, timestamp);
"""


@dataclass(frozen=True, slots=True)
class HistoryRecord:
    owner: str
    request_id: str
    timestamp: float
    duration: float
    endpoint: str
    is_handwritten: bool
    tags: list[str]
    request_args: dict[str, JsonValue]
    result: dict[str, JsonValue]


@dataclass(frozen=True, slots=True)
class HistoryQuery:
    owner: str
    page: int = 1
    per_page: int = 100
    from_ts: float | None = None
    to_ts: float | None = None
    is_handwritten: bool | None = None
    tags: tuple[str, ...] = ()


def iso_utc(ts: float) -> str:
    """``2021-07-02T18:48:46.080Z``."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


MAX_ROWS = 200_000  # the oldest entries beyond this are dropped
_PRUNE_EVERY = 1000


class HistoryStore:
    """The ``ocr_results`` table. Methods block: call them from a thread."""

    def __init__(self, path: Path, max_rows: int = MAX_ROWS) -> None:
        self._conn = open_db(path)
        self._conn.executescript(_SCHEMA)
        self._lock = threading.Lock()
        self.max_rows = max_rows
        self._added = 0

    def add(self, record: HistoryRecord) -> None:
        with self._lock:
            self._conn.execute(
                "INSERT INTO ocr_results (owner, request_id, timestamp, duration, endpoint,"
                " is_handwritten, tags, request_args, result) VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    record.owner,
                    record.request_id,
                    record.timestamp,
                    record.duration,
                    record.endpoint,
                    int(record.is_handwritten),
                    json.dumps(record.tags),
                    json.dumps(record.request_args),
                    json.dumps(record.result),
                ),
            )
            self._added += 1
            if self._added % _PRUNE_EVERY == 0:
                self._conn.execute(
                    "DELETE FROM ocr_results WHERE seq <= (SELECT seq FROM ocr_results"
                    " ORDER BY seq DESC LIMIT 1 OFFSET ?)",
                    (self.max_rows,),
                )

    def query(self, q: HistoryQuery) -> list[OcrResultEntry]:
        """One page of ``q.owner``'s results, newest first."""
        where = ["owner = ?"]
        params: list[str | float | int] = [q.owner]
        if q.from_ts is not None:
            where.append("timestamp >= ?")
            params.append(q.from_ts)
        if q.to_ts is not None:
            where.append("timestamp < ?")
            params.append(q.to_ts)
        if q.is_handwritten is not None:
            where.append("is_handwritten = ?")
            params.append(int(q.is_handwritten))
        for tag in q.tags:
            where.append("EXISTS (SELECT 1 FROM json_each(ocr_results.tags) WHERE value = ?)")
            params.append(tag)
        params.extend([q.per_page, (q.page - 1) * q.per_page])
        sql = (
            "SELECT request_id, timestamp, duration, endpoint, is_handwritten, request_args,"
            f" result FROM ocr_results WHERE {' AND '.join(where)}"
            " ORDER BY timestamp DESC, seq DESC LIMIT ? OFFSET ?"
        )
        with self._lock:
            rows = self._conn.execute(sql, params).fetchall()
        return [
            OcrResultEntry(
                request_id=row[0],
                timestamp=iso_utc(row[1]),
                duration=round(row[2], 4),
                endpoint=row[3],
                request_args=json.loads(row[5]),
                result=json.loads(row[6]),
                detections={"is_handwritten": bool(row[4]), "is_printed": not row[4]},
            )
            for row in rows
        ]

    def close(self) -> None:
        with self._lock:
            self._conn.close()


__all__ = ["HistoryQuery", "HistoryRecord", "HistoryStore", "iso_utc"]
