"""Persistent jobs (batch, PDF): an SQLite job store and a resumable runner."""

from scipix.jobs.runner import ItemOutcome, JobRunner
from scipix.jobs.store import ItemRecord, ItemSpec, ItemStatus, JobPhase, JobRecord, JobStore

__all__ = [
    "ItemOutcome",
    "ItemRecord",
    "ItemSpec",
    "ItemStatus",
    "JobPhase",
    "JobRecord",
    "JobRunner",
    "JobStore",
]
