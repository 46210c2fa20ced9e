"""``POST /v3/batch`` and ``GET /v3/batch/{id}``: batch jobs on the persistent job store.

Each url becomes one job item holding the url and its merged options; the job runner fetches
and recognises the items in the background (on idle workers only, so interactive requests keep
the queue), stores each answer as soon as it is ready, and POSTs the results to the callback
when every item is done.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Literal, TypeVar

from pydantic import BaseModel, JsonValue

from scipix.engines.base import Engine
from scipix.errors import ScipixError
from scipix.jobs.runner import ItemOutcome, JobRunner
from scipix.jobs.store import ItemRecord, ItemSpec, ItemStatus, JobRecord, JobStore
from scipix.server import metrics
from scipix.server.auth import Principal
from scipix.server.body import validate
from scipix.server.errors import ApiError, error_body
from scipix.server.fetch import post_json
from scipix.server.models import (
    BatchRequest,
    BatchResultsResponse,
    BatchSubmitResponse,
    BatchUrl,
    Callback,
    LatexOptions,
    TextOptions,
)
from scipix.server.pipeline import CallInfo, process_latex, process_text
from scipix.server.service import OcrService, new_request_id
from scipix.types import OcrResult

log = logging.getLogger("scipix.server")

KIND = "batch"
_Opts = TypeVar("_Opts", TextOptions, LatexOptions)


class BatchItemInput(BaseModel):
    """What one stored item holds."""

    url: str
    options: dict[str, JsonValue]


class BatchJobRequest(BaseModel):
    """What the stored job request holds."""

    ocr_behavior: Literal["latex", "text"] = "latex"


class BatchService:
    def __init__(self, ocr: OcrService, store: JobStore, runner: JobRunner) -> None:
        self.ocr = ocr
        self.store = store
        self.runner = runner
        self.max_urls = ocr.settings.server.batch_max_urls
        runner.register(KIND, self.handle_item, self.error_json, self.deliver_callback)

    # --- HTTP side -----------------------------------------------------------------------------

    async def submit(self, body: dict[str, JsonValue], principal: Principal) -> BatchSubmitResponse:
        request = validate(BatchRequest, body)
        if len(request.urls) > self.max_urls:
            raise ApiError("opts_value_out_of_range", f"a batch holds at most {self.max_urls} urls")
        if request.callback is not None and not request.callback.post.lower().startswith(
            ("http://", "https://")
        ):
            raise ApiError("opts_bad_callback", "callback.post must be an http(s) URL")
        if request.callback is not None and "batch_id" in (request.callback.reply or {}):
            raise ApiError("opts_bad_callback", "callback.reply cannot contain batch_id")
        shared = dict(request.model_extra or {})
        if request.metadata is not None:
            shared["metadata"] = request.metadata
        model: type[TextOptions | LatexOptions] = (
            TextOptions if request.ocr_behavior == "text" else LatexOptions
        )
        items: list[ItemSpec] = []
        for key, entry in request.urls.items():
            if isinstance(entry, BatchUrl):
                url, own = entry.url, dict(entry.model_extra or {})
            else:
                url, own = entry, {}
            options = {**shared, **own}
            checked = validate(model, options)  # refuse bad options now, not in the results
            self.ocr.check_engine(checked.engine, principal)
            await self.ocr.engine_named(checked.engine)  # unknown engines too
            items.append(ItemSpec(key, BatchItemInput(url=url, options=options).model_dump()))
        job = await asyncio.to_thread(
            self.store.create,
            KIND,
            principal.app_id,
            BatchJobRequest(ocr_behavior=request.ocr_behavior).model_dump(),
            items,
            request.callback.model_dump(exclude_none=True) if request.callback else None,
        )
        self.runner.submit(job.id)
        return BatchSubmitResponse(batch_id=job.id)

    async def results(self, batch_id: str, principal: Principal) -> BatchResultsResponse:
        job = await asyncio.to_thread(self.store.get, batch_id, principal.app_id)
        if job is None or job.kind != KIND:
            raise ApiError("batch_unknown_id", f"unknown batch id: {batch_id}")
        return await self._results(job)

    async def _results(self, job: JobRecord) -> BatchResultsResponse:
        items = await asyncio.to_thread(self.store.items, job.id)
        results: dict[str, JsonValue] = {}
        for item in items:
            if item.status is ItemStatus.COMPLETED:
                results[item.key] = item.result
            elif item.status is ItemStatus.ERROR:
                results[item.key] = item.error
        return BatchResultsResponse(keys=[item.key for item in items], results=results)

    # --- job side ------------------------------------------------------------------------------

    async def handle_item(self, job: JobRecord, item: ItemRecord) -> ItemOutcome:
        spec = BatchItemInput.model_validate(item.input)
        behavior = BatchJobRequest.model_validate(job.request).ocr_behavior
        request_id = new_request_id()
        opts: TextOptions | LatexOptions | None = None
        data = {**spec.options, "src": spec.url}
        try:
            if behavior == "text":
                text_opts = opts = TextOptions.model_validate(data)
                answer, result = await self._recognize(process_text, text_opts, request_id)
            else:
                latex_opts = opts = LatexOptions.model_validate(data)
                answer, result = await self._recognize(process_latex, latex_opts, request_id)
        except ScipixError as exc:
            metrics.ERRORS.labels(kind=exc.error_id).inc()
            return ItemOutcome(error=error_body(exc, request_id).model_dump(mode="json"))
        metrics.OCR_REQUESTS.labels(endpoint="/v3/batch").inc()
        assert opts is not None
        metrics.observe_result(result.confidence, result.cached, self.ocr.counts_cache(opts))
        return ItemOutcome(result=answer)

    async def _recognize(
        self,
        work: Callable[[Engine, bytes | str, _Opts, CallInfo], tuple[BaseModel, OcrResult]],
        opts: _Opts,
        request_id: str,
    ) -> tuple[dict[str, JsonValue], OcrResult]:
        """Fetch the item's image and run ``work`` on it on an idle worker."""
        engine = await self.ocr.engine_named(opts.engine)
        info = self.ocr.call_info(request_id, engine)
        payload = await self.ocr.payload(opts, None)
        response, result = await self.ocr.pool.run_background(work, engine, payload, opts, info)
        return response.model_dump(mode="json", exclude_none=True), result

    def error_json(self, exc: BaseException) -> JsonValue:
        metrics.ERRORS.labels(kind="sys_exception").inc()
        err = ApiError("sys_exception", "internal error while processing this image")
        return error_body(err).model_dump(mode="json")

    async def deliver_callback(self, job: JobRecord) -> bool:
        if job.callback is None:
            return True
        callback = Callback.model_validate(job.callback)
        results = await self._results(job)
        payload: dict[str, JsonValue] = {
            **(callback.body or {}),
            **(callback.reply or {}),
            "batch_id": job.id,
            "keys": list(results.keys),
            "results": results.results,
        }
        policy = self.ocr.policy
        status = await post_json(self.ocr.client, callback.post, payload, policy, callback.headers)
        if 200 <= status < 300:
            log.info("batch %s: callback delivered", job.id)
            return True
        log.warning("batch %s: callback answered HTTP %d", job.id, status)
        return False


__all__ = ["KIND", "BatchService"]
