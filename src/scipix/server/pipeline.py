"""The CPU side of a request, run on a worker thread: decode, recognise, build the answer.

Nothing here touches the event loop; :class:`scipix.server.service.OcrService` calls these
functions through the worker pool.
"""

from __future__ import annotations

import html
import logging
from dataclasses import dataclass
from typing import Literal

import numpy as np

from scipix.engines.base import Engine, RecognizeOptions
from scipix.errors import ScipixError
from scipix.formats import to_asciimath, to_mathml
from scipix.io import DecodedImage, decode_bytes, load_image
from scipix.server.errors import ApiError
from scipix.server.fetch import decode_data_url
from scipix.server.models import (
    DataItem,
    DataOptions,
    LatexOptions,
    LatexResponse,
    LineData,
    Position,
    Region,
    StrokeData,
    TextOptions,
    TextResponse,
)
from scipix.server.strokes import render_strokes, validate_strokes
from scipix.types import OcrResult

log = logging.getLogger("scipix.server")

Conversion = Literal["mathml", "asciimath"]


@dataclass(frozen=True, slots=True)
class CallInfo:
    """What a worker needs to know about the request besides its options."""

    request_id: str
    version: str
    max_bytes: int
    max_pixels: int


@dataclass(frozen=True, slots=True)
class Recognized:
    result: OcrResult
    width: int  # the whole image
    height: int
    offset: tuple[int, int]  # top-left of the recognised region


# --- decoding and recognising --------------------------------------------------------------------


def decode_payload(payload: bytes | str, info: CallInfo) -> DecodedImage:
    """Decode raw bytes, or a ``data:`` URL, into a validated image."""
    data = decode_data_url(payload) if isinstance(payload, str) else payload
    if not data:
        raise ApiError("image_missing", "the image is empty")
    return decode_bytes(data, max_bytes=info.max_bytes, max_pixels=info.max_pixels)


def crop(image: DecodedImage, region: Region | None) -> tuple[DecodedImage, tuple[int, int]]:
    """The part of ``image`` inside ``region`` (clipped to the image) and its offset."""
    if region is None:
        return image, (0, 0)
    x0, y0 = min(region.top_left_x, image.width), min(region.top_left_y, image.height)
    x1 = min(x0 + region.width, image.width)
    y1 = min(y0 + region.height, image.height)
    if x1 - x0 < 2 or y1 - y0 < 2:
        raise ApiError("opts_value_out_of_range", "the region lies outside the image")
    rgb = image.rgb[y0:y1, x0:x1] if image.rgb is not None else None
    part = DecodedImage(
        gray=np.ascontiguousarray(image.gray[y0:y1, x0:x1]),
        format=image.format,
        width=x1 - x0,
        height=y1 - y0,
        rgb=np.ascontiguousarray(rgb) if rgb is not None else None,
    )
    return part, (x0, y0)


def recognize(
    engine: Engine,
    image: DecodedImage,
    region: Region | None,
    options: RecognizeOptions,
) -> Recognized:
    part, offset = crop(image, region)
    result = engine.recognize(part, options)
    if result.is_empty:
        raise ApiError("image_no_content", result.reason or "no math found in the image")
    return Recognized(result, image.width, image.height, offset)


def check_confidence(
    result: OcrResult, threshold: float | None, rate_threshold: float | None = None
) -> None:
    if threshold is not None and result.confidence < threshold:
        raise ApiError(
            "math_confidence",
            f"confidence {result.confidence:.3f} is below the threshold {threshold:.3f}",
        )
    if rate_threshold is not None and result.confidence_rate < rate_threshold:
        raise ApiError(
            "math_confidence",
            f"confidence_rate {result.confidence_rate:.3f} is below {rate_threshold:.3f}",
        )


# --- output helpers ------------------------------------------------------------------------------


def redelimit(text: str, inline: tuple[str, str], display: tuple[str, str]) -> str:
    """Swap the outer ``\\( \\)`` or ``\\[ \\]`` of Mathpix Markdown for the requested ones."""
    stripped = text.strip()
    for (opening, closing), (new_open, new_close) in (
        (("\\(", "\\)"), inline),
        (("\\[", "\\]"), display),
    ):
        if (
            stripped.startswith(opening)
            and stripped.endswith(closing)
            and not stripped.endswith("\\" + closing)
        ):
            return new_open + stripped[len(opening) : -len(closing)] + new_close
    return text


def convert(kind: Conversion, latex: str) -> str | None:
    """MathML or AsciiMath for ``latex`` (None when it cannot be converted)."""
    try:
        return to_mathml(latex) if kind == "mathml" else to_asciimath(latex)
    except (ScipixError, ValueError, KeyError, IndexError, TypeError) as exc:
        log.info("cannot convert LaTeX to %s: %s", kind, exc)
        return None


def _bbox(rec: Recognized) -> tuple[int, int, int, int]:
    """x, y, width, height of the recognised ink in whole-image pixels."""
    boxes = rec.result.boxes
    ox, oy = rec.offset
    if not boxes:
        part_w = rec.result.image_width or rec.width - ox
        part_h = rec.result.image_height or rec.height - oy
        return ox, oy, part_w, part_h
    x0 = min(b.x for b in boxes)
    y0 = min(b.y for b in boxes)
    x1 = max(b.x1 for b in boxes)
    y1 = max(b.y1 for b in boxes)
    return ox + x0, oy + y0, x1 - x0, y1 - y0


def _rotation(result: OcrResult) -> tuple[float, int]:
    degrees = round(result.auto_rotate_degrees)
    return (1.0 if degrees else 0.0), degrees


def _data_items(latex: str, opts: DataOptions) -> list[DataItem]:
    items: list[DataItem] = []
    if opts.include_asciimath and (ascii_ := convert("asciimath", latex)) is not None:
        items.append(DataItem(type="asciimath", value=ascii_))
    if opts.include_mathml and (mathml := convert("mathml", latex)) is not None:
        items.append(DataItem(type="mathml", value=mathml))
    if opts.include_latex:
        items.append(DataItem(type="latex", value=latex))
    return items


def _html(latex: str, opts: DataOptions) -> str:
    parts = ['<div><span class="math-inline">']
    if opts.include_asciimath and (ascii_ := convert("asciimath", latex)) is not None:
        parts.append(f'<asciimath style="display: none;">{html.escape(ascii_)}</asciimath>')
    parts.append(f'<latex style="display: none">{html.escape(latex)}</latex>')
    mathml = convert("mathml", latex)
    parts.append(mathml if mathml is not None else html.escape(latex))
    parts.append("</span></div>")
    return "".join(parts)


# --- answers -------------------------------------------------------------------------------------


def text_response(
    rec: Recognized, opts: TextOptions, info: CallInfo, *, handwritten: bool = False
) -> TextResponse:
    result = rec.result
    check_confidence(result, opts.confidence_threshold, opts.confidence_rate_threshold)
    text = redelimit(
        result.text or f"\\( {result.latex} \\)",
        opts.math_inline_delimiters,
        opts.math_display_delimiters,
    )
    rotate_conf, rotate_deg = _rotation(result)
    response = TextResponse(
        request_id=info.request_id,
        version=info.version,
        image_width=rec.width,
        image_height=rec.height,
        is_printed=not handwritten,
        is_handwritten=handwritten,
        auto_rotate_confidence=rotate_conf,
        auto_rotate_degrees=rotate_deg,
        confidence=result.confidence,
        confidence_rate=result.confidence_rate,
        cached=result.cached,
    )
    formats = set(opts.formats)
    data_opts = opts.data_options or DataOptions()
    if "text" in formats:
        response.text = text
    if "latex_styled" in formats:
        response.latex_styled = result.latex_styled or result.latex
    if "data" in formats or opts.data_options is not None:
        response.data = _data_items(result.latex, data_opts)
    if "html" in formats:
        response.html = _html(result.latex, data_opts)
    if opts.include_line_data:
        x, y, w, h = _bbox(rec)
        response.line_data = [
            LineData(
                cnt=[[x, y], [x + w, y], [x + w, y + h], [x, y + h]],
                is_printed=not handwritten,
                is_handwritten=handwritten,
                text=text,
                confidence=result.confidence,
                confidence_rate=result.confidence_rate,
            )
        ]
    return response


def latex_response(rec: Recognized, opts: LatexOptions, info: CallInfo) -> LatexResponse:
    result = rec.result
    check_confidence(result, opts.confidence_threshold)
    x, y, w, h = _bbox(rec)
    rotate_conf, rotate_deg = _rotation(result)
    response = LatexResponse(
        request_id=info.request_id,
        version=info.version,
        latex_confidence=result.confidence,
        latex_confidence_rate=result.confidence_rate,
        position=Position(top_left_x=x, top_left_y=y, width=w, height=h),
        auto_rotate_confidence=rotate_conf,
        auto_rotate_degrees=rotate_deg,
        cached=result.cached,
    )
    latex = result.latex
    formats = set(opts.formats)
    if not formats:
        response.latex = latex
    if "text" in formats:
        response.text = redelimit(result.text or f"\\( {latex} \\)", ("\\(", "\\)"), ("\\[", "\\]"))
    if "latex_normal" in formats:
        response.latex_normal = latex
    if "latex_styled" in formats:
        response.latex_styled = result.latex_styled or latex
    if "latex_simplified" in formats:
        response.latex_simplified = latex
    if "latex_list" in formats:
        response.latex_list = [latex]
    if "mathml" in formats:
        response.mathml = convert("mathml", latex)
    if "asciimath" in formats:
        response.asciimath = convert("asciimath", latex)
    return response


# --- worker entry points -------------------------------------------------------------------------


def _recognize_options(opts: TextOptions | LatexOptions) -> RecognizeOptions:
    # The engine (and the cache behind it) always answers with the default delimiters; the
    # requested ones are put in by redelimit(), so cached answers fit every request.
    if isinstance(opts, TextOptions):
        return RecognizeOptions(use_cache=opts.use_cache, rm_spaces=opts.rm_spaces)
    return RecognizeOptions(use_cache=opts.use_cache)


def process_text(
    engine: Engine, payload: bytes | str, opts: TextOptions, info: CallInfo
) -> tuple[TextResponse, OcrResult]:
    image = decode_payload(payload, info)
    rec = recognize(engine, image, opts.region, _recognize_options(opts))
    return text_response(rec, opts, info), rec.result


def process_latex(
    engine: Engine, payload: bytes | str, opts: LatexOptions, info: CallInfo
) -> tuple[LatexResponse, OcrResult]:
    image = decode_payload(payload, info)
    rec = recognize(engine, image, opts.region, _recognize_options(opts))
    return latex_response(rec, opts, info), rec.result


def process_strokes(
    engine: Engine, strokes: StrokeData, opts: TextOptions, info: CallInfo
) -> tuple[TextResponse, OcrResult]:
    canvas = render_strokes(validate_strokes(strokes))
    image = load_image(canvas, max_pixels=info.max_pixels)
    rec = recognize(engine, image, opts.region, _recognize_options(opts))
    return text_response(rec, opts, info, handwritten=True), rec.result


__all__ = [
    "CallInfo",
    "Recognized",
    "check_confidence",
    "convert",
    "crop",
    "decode_payload",
    "latex_response",
    "process_latex",
    "process_strokes",
    "process_text",
    "recognize",
    "redelimit",
    "text_response",
]
