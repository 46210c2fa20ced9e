"""``/v3/pdf``: PDF conversion jobs on the persistent job store.

``POST /v3/pdf`` validates the file (encrypted, broken, empty or too long PDFs are refused at
once with their Mathpix error ids), stores it under ``<data_dir>/pdf/<id>/`` and creates a job
with one item per chosen page; the job runner converts pages in parallel on idle workers. The
outputs (``.mmd``, ``.md``, ``.tex``, ``.lines.json``) are assembled from the stored pages once
the job is completed and kept next to the input.
"""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
import uuid
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, JsonValue

from scipix.jobs.runner import ItemOutcome, JobRunner
from scipix.jobs.store import ItemRecord, ItemSpec, ItemStatus, JobPhase, JobRecord, JobStore
from scipix.pdf import (
    FORMATS,
    Delimiters,
    PageOptions,
    PageResult,
    PdfLimits,
    convert_bytes_page,
    page_count,
    page_error,
    parse_page_ranges,
    render,
)
from scipix.pdf.document import PdfTooLarge
from scipix.server.auth import Principal
from scipix.server.body import read_image_request
from scipix.server.errors import ApiError, error_body
from scipix.server.fetch import fetch_image
from scipix.server.routes import caller
from scipix.server.service import OcrService

KIND = "pdf"
INPUT_NAME = "input.pdf"
_MEDIA = {
    "mmd": "text/plain; charset=utf-8",
    "md": "text/markdown; charset=utf-8",
    "tex": "application/x-tex; charset=utf-8",
    "lines.json": "application/json",
}


class PdfOptions(BaseModel):
    """The options of ``POST /v3/pdf`` (JSON body or multipart ``options_json``)."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = None
    page_ranges: str | None = None
    math_inline_delimiters: tuple[str, str] = ("\\(", "\\)")
    math_display_delimiters: tuple[str, str] = ("\\[", "\\]")
    rm_spaces: bool = True
    conversion_formats: dict[str, bool] = Field(default_factory=dict)
    metadata: dict[str, JsonValue] | None = None


class PdfSubmitResponse(BaseModel):
    pdf_id: str


class PdfStatusResponse(BaseModel):
    pdf_id: str
    status: str
    num_pages: int
    num_pages_completed: int
    percent_done: float
    error: str | None = None


def _item_error(value: JsonValue) -> dict[str, str]:
    """The ``{id, message}`` of an item that failed with an error object (or anything else)."""
    info = value.get("error_info") if isinstance(value, dict) else None
    if isinstance(info, dict):
        return {"id": str(info.get("id")), "message": str(info.get("message"))}
    return {"id": "sys_exception", "message": "the page failed"}


class PdfService:
    def __init__(self, ocr: OcrService, store: JobStore, runner: JobRunner, data_dir: Path) -> None:
        self.ocr = ocr
        self.store = store
        self.runner = runner
        self.root = data_dir / "pdf"
        cfg = ocr.settings.pdf
        self.limits = PdfLimits(cfg.max_pages, int(cfg.max_file_size_mb * 1024 * 1024))
        self.page_opts = PageOptions()
        runner.register(KIND, self.handle_item, self.error_json)

    def _dir(self, job_id: str) -> Path:
        return self.root / job_id

    # --- HTTP side -----------------------------------------------------------------------------

    async def submit(self, request: Request, principal: Principal) -> PdfSubmitResponse:
        parsed = await read_image_request(request, PdfOptions)
        opts = parsed.options
        bad = sorted(set(opts.conversion_formats) - set(FORMATS))
        if bad:
            raise ApiError("opts_unknown_format", f"unknown conversion format(s): {bad}")
        data = parsed.upload
        if data is None:
            if not opts.url:
                raise ApiError("pdf_missing", "no PDF: send a multipart 'file' or a JSON 'url'")
            policy = dataclasses.replace(self.ocr.policy, max_bytes=self.limits.max_bytes)
            data = await fetch_image(self.ocr.client, opts.url, policy)
        if len(data) > self.limits.max_bytes:
            raise PdfTooLarge(f"the PDF is over the limit of {self.limits.max_bytes} bytes")
        count = await asyncio.to_thread(page_count, data, self.limits)
        indexes = parse_page_ranges(opts.page_ranges, count)
        job_id = uuid.uuid4().hex
        folder = self._dir(job_id)
        await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
        await asyncio.to_thread((folder / INPUT_NAME).write_bytes, data)
        items = [ItemSpec(str(i + 1), {"index": i}) for i in indexes]
        request_json = opts.model_dump(mode="json", exclude={"url"})
        job = await asyncio.to_thread(
            self.store.create, KIND, principal.app_id, request_json, items, None, job_id
        )
        self.runner.submit(job.id)
        return PdfSubmitResponse(pdf_id=job.id)

    async def job(self, pdf_id: str, principal: Principal) -> JobRecord | None:
        job = await asyncio.to_thread(self.store.get, pdf_id, principal.app_id)
        return job if job is not None and job.kind == KIND else None

    @staticmethod
    def status_of(job: JobRecord) -> PdfStatusResponse:
        return PdfStatusResponse(
            pdf_id=job.id,
            status=job.status.value,
            num_pages=job.num_items,
            num_pages_completed=job.num_completed,
            percent_done=round(100.0 * job.progress, 2),
            error=job.error,
        )

    async def pages(self, job: JobRecord) -> list[PageResult]:
        items = await asyncio.to_thread(self.store.items, job.id)
        out: list[PageResult] = []
        for item in items:
            value = item.result if item.status is ItemStatus.COMPLETED else item.error
            if isinstance(value, dict) and "lines" in value:
                out.append(PageResult.from_json(value))
            else:
                out.append(PageResult(int(item.key), 0.0, 0.0, error=_item_error(value)))
        return out

    async def output(self, job: JobRecord, fmt: str) -> str:
        path = self._dir(job.id) / f"output.{fmt}"
        if await asyncio.to_thread(path.is_file):
            return await asyncio.to_thread(path.read_text, encoding="utf-8")
        opts = PdfOptions.model_validate(job.request)
        delims = Delimiters(opts.math_inline_delimiters, opts.math_display_delimiters)
        text = render(await self.pages(job), fmt, delims)
        await asyncio.to_thread(path.parent.mkdir, parents=True, exist_ok=True)
        await asyncio.to_thread(path.write_text, text, encoding="utf-8")
        return text

    async def delete(self, job: JobRecord) -> None:
        await asyncio.to_thread(self.store.delete, job.id)
        await asyncio.to_thread(shutil.rmtree, self._dir(job.id), True)

    # --- job side ------------------------------------------------------------------------------

    async def handle_item(self, job: JobRecord, item: ItemRecord) -> ItemOutcome:
        spec = item.input if isinstance(item.input, dict) else {}
        index = int(str(spec.get("index", int(item.key) - 1)))
        opts = PdfOptions.model_validate(job.request)
        page_opts = dataclasses.replace(self.page_opts, rm_spaces=opts.rm_spaces)
        path = self._dir(job.id) / INPUT_NAME
        try:
            data = await asyncio.to_thread(path.read_bytes)
        except OSError:
            return ItemOutcome(error=page_error(index + 1, FileNotFoundError()).to_json())
        engine = self.ocr.engine
        result = await self.ocr.pool.run_background(
            convert_bytes_page, data, index, engine, page_opts
        )
        if result.error is not None:
            return ItemOutcome(error=result.to_json())
        return ItemOutcome(result=result.to_json())

    def error_json(self, exc: BaseException) -> JsonValue:
        err = ApiError("sys_exception", "internal error while converting this page")
        return error_body(err).model_dump(mode="json")


# --- routes ----------------------------------------------------------------------------------

pdf_router = APIRouter()
Caller = Annotated[Principal, Depends(caller)]


def _service(request: Request) -> PdfService:
    value = getattr(request.app.state, "pdf", None)
    if not isinstance(value, PdfService):
        raise ApiError("sys_busy", "the server is starting", retry_after=1.0)
    return value


Service = Annotated[PdfService, Depends(_service)]


def _not_found(message: str, error_id: str = "pdf_unknown_id") -> JSONResponse:
    body = error_body(ApiError(error_id, message)).model_dump(mode="json")
    return JSONResponse(body, status_code=404)


def _split(name: str) -> tuple[str, str | None]:
    for fmt in sorted(FORMATS, key=len, reverse=True):
        if name.endswith("." + fmt):
            return name[: -len(fmt) - 1], fmt
    return name, None


@pdf_router.post("/v3/pdf", summary="Convert a PDF (Mathpix v3/pdf)", response_model=None)
async def v3_pdf(request: Request, svc: Service, principal: Caller) -> JSONResponse:
    answer = await svc.submit(request, principal)
    return JSONResponse(answer.model_dump())


@pdf_router.get("/v3/pdf/{name}", summary="Status or output of a PDF job", response_model=None)
async def v3_pdf_get(name: str, svc: Service, principal: Caller) -> Response:
    pdf_id, fmt = _split(name)
    job = await svc.job(pdf_id, principal)
    if job is None:
        return _not_found(f"unknown pdf id: {pdf_id}")
    if fmt is None:
        return JSONResponse(svc.status_of(job).model_dump(exclude_none=True))
    if job.status is not JobPhase.COMPLETED:
        return _not_found(f"the PDF is not converted yet ({job.status.value})", "pdf_not_ready")
    return Response(await svc.output(job, fmt), media_type=_MEDIA[fmt])


@pdf_router.get("/v3/converter/{pdf_id}", summary="Conversion status of a PDF job")
async def v3_converter(pdf_id: str, svc: Service, principal: Caller) -> JSONResponse:
    job = await svc.job(pdf_id, principal)
    if job is None:
        return _not_found(f"unknown pdf id: {pdf_id}")
    state = "completed" if job.status is JobPhase.COMPLETED else "processing"
    if job.status is JobPhase.ERROR:
        state = "error"
    body: dict[str, Any] = {
        "status": state,
        "conversion_status": {fmt: {"status": state} for fmt in FORMATS},
    }
    return JSONResponse(body)


@pdf_router.delete("/v3/pdf/{pdf_id}", summary="Delete a PDF job and its files")
async def v3_pdf_delete(pdf_id: str, svc: Service, principal: Caller) -> JSONResponse:
    job = await svc.job(pdf_id, principal)
    if job is None:
        return _not_found(f"unknown pdf id: {pdf_id}")
    await svc.delete(job)
    return JSONResponse({"pdf_id": pdf_id, "deleted": True})


__all__ = ["KIND", "PdfOptions", "PdfService", "pdf_router"]
