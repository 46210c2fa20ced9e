"""The saved vector index file and the state beside it (which change it reflects)."""

from __future__ import annotations

import fcntl
import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from scipix.cache.index import Backend, VectorIndex, index_suffix

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class IndexState:
    """What a saved index holds: every change up to ``seq``, ``count`` vectors."""

    seq: int
    count: int
    backend: str
    dtype: str
    dim: int
    embed_version: int


class IndexFiles:
    """``<dir>/<name>.usearch`` (or ``.npz``) and ``<dir>/<name>.state.json``."""

    def __init__(self, directory: Path, name: str, backend: Backend) -> None:
        self.path = directory / f"{name}{index_suffix(backend)}"
        self.state_path = directory / f"{name}.state.json"
        self.lock_path = directory / "index.lock"

    def read_state(self) -> IndexState | None:
        try:
            data = json.loads(self.state_path.read_text(encoding="utf-8"))
            return IndexState(
                seq=int(data["seq"]),
                count=int(data["count"]),
                backend=str(data["backend"]),
                dtype=str(data["dtype"]),
                dim=int(data["dim"]),
                embed_version=int(data["embed_version"]),
            )
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("ignoring unreadable index state %s: %s", self.state_path, exc)
            return None

    @contextmanager
    def locked(self) -> Iterator[None]:
        """An exclusive lock between processes that write the index files."""
        with open(self.lock_path, "a+b") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    def save(self, index: VectorIndex, state: IndexState) -> None:
        """Write the index, then its state, each through a temporary file and a rename."""
        pid = os.getpid()
        tmp_index = self.path.with_name(f"{self.path.name}.tmp{pid}")
        tmp_state = self.state_path.with_name(f"{self.state_path.name}.tmp{pid}")
        with self.locked():
            try:
                index.save(tmp_index)
                os.replace(tmp_index, self.path)
                tmp_state.write_text(json.dumps(asdict(state)), encoding="utf-8")
                os.replace(tmp_state, self.state_path)
            finally:
                for tmp in (tmp_index, tmp_state):
                    tmp.unlink(missing_ok=True)

    def remove(self) -> None:
        with self.locked():
            self.state_path.unlink(missing_ok=True)
            self.path.unlink(missing_ok=True)

    def disk_bytes(self) -> int:
        try:
            return self.path.stat().st_size
        except OSError:
            return 0


__all__ = ["IndexFiles", "IndexState"]
