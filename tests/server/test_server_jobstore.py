"""The SQLite job store and runner on their own (no HTTP)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from scipix.jobs import ItemOutcome, ItemSpec, ItemStatus, JobPhase, JobRunner, JobStore
from scipix.jobs.store import ItemRecord, JobRecord


def test_store_lifecycle(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.db")
    job = store.create(
        "batch", "alice", {"ocr_behavior": "latex"}, [ItemSpec("a", {"u": 1}), ItemSpec("b", 2)]
    )
    assert job.status is JobPhase.SPLIT and job.num_items == 2 and job.progress == 0
    assert store.get(job.id, owner="bob") is None
    job = store.finish_item(job.id, 0, result={"latex": "x"})
    assert job.num_completed == 1 and job.progress == pytest.approx(0.5)
    job = store.finish_item(job.id, 0, result={"latex": "again"})  # counted once
    assert job.num_completed == 1
    assert [j.id for j in store.unfinished()] == [job.id]
    job = store.finish_item(job.id, 1, error={"error": "bad"})
    assert job.status is JobPhase.COMPLETED and job.progress == 1.0 and job.num_errors == 1
    items = store.items(job.id)
    assert [(i.key, i.status) for i in items] == [
        ("a", ItemStatus.COMPLETED),
        ("b", ItemStatus.ERROR),
    ]
    assert items[0].result == {"latex": "x"} and items[1].error == {"error": "bad"}
    assert store.unfinished() == []
    store.close()
    reopened = JobStore(tmp_path / "jobs.db")  # persisted
    assert reopened.get(job.id) == job
    assert reopened.list_jobs("alice", "batch")[0].id == job.id
    assert reopened.delete(job.id) and reopened.get(job.id) is None
    reopened.close()


def test_store_pdf_like_job(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.db")
    job = store.create("pdf", "alice", {"page_ranges": "1-2"})
    assert job.status is JobPhase.RECEIVED and job.num_items == 0
    store.set_status(job.id, JobPhase.LOADED)
    store.add_items(job.id, [ItemSpec("1", {}), ItemSpec("2", {})], JobPhase.SPLIT)
    job2 = store.get(job.id)
    assert job2 is not None and job2.status is JobPhase.SPLIT and job2.num_items == 2
    assert [i.idx for i in store.items(job.id, ItemStatus.PENDING)] == [0, 1]
    store.close()


def test_runner_resumes_and_calls_back(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.db")
    job = store.create("double", "o", {}, [ItemSpec(str(i), i) for i in range(4)], {"post": "x"})
    store.finish_item(job.id, 0, result=0)  # done before the "restart"
    seen: list[int] = []
    delivered: list[str] = []

    async def handler(job: JobRecord, item: ItemRecord) -> ItemOutcome:
        assert isinstance(item.input, int)
        seen.append(item.input)
        if item.input == 3:
            raise RuntimeError("boom")
        return ItemOutcome(result=item.input * 10)

    async def on_finished(job: JobRecord) -> bool:
        delivered.append(job.id)
        return True

    async def main() -> None:
        runner = JobRunner(store, concurrency=2)
        runner.register("double", handler, lambda exc: {"error": str(exc)}, on_finished)
        assert await runner.start() == 1
        await runner.wait(job.id)

    asyncio.run(main())
    assert sorted(seen) == [1, 2, 3]
    done = store.get(job.id)
    assert done is not None and done.status is JobPhase.COMPLETED
    assert done.callback_status == "sent" and delivered == [job.id]
    assert store.items(job.id)[3].error == {"error": "boom"}
    store.close()


def test_history_is_capped(tmp_path: Path) -> None:
    import time

    from scipix.server.history import HistoryQuery, HistoryRecord, HistoryStore

    store = HistoryStore(tmp_path / "h.db", max_rows=10)
    for i in range(1000):
        store.add(HistoryRecord("o", str(i), time.time(), 0.1, "/v3/text", False, [], {}, {}))
    kept = store.query(HistoryQuery("o", per_page=1000))
    assert len(kept) == 10 and kept[0].request_id == "999"
    store.close()
