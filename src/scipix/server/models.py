"""Typed request and response bodies of the Mathpix-compatible v3 API.

Field names and defaults follow the public Mathpix v3 reference. Options that Mathpix accepts
but Scipix has nothing to do for (``alphabets_allowed``, ``include_smiles``, ...) are accepted
and ignored; any other key is an ``opts_unknown_option`` error.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationError

from scipix.server.errors import ApiError

TextFormat = Literal["text", "data", "html", "latex_styled"]
LatexFormat = Literal[
    "text", "latex_normal", "latex_styled", "latex_simplified", "latex_list", "mathml", "asciimath"
]
OcrKind = Literal["math", "text"]
Delimiters = tuple[str, str]


def _text_formats() -> list[TextFormat]:
    return ["text"]


def _ocr_kinds() -> list[OcrKind]:
    return ["math"]


class Strict(BaseModel):
    """Unknown keys are errors."""

    model_config = ConfigDict(extra="forbid")


class Region(Strict):
    """The part of the image to read, in pixels."""

    top_left_x: int = Field(0, ge=0)
    top_left_y: int = Field(0, ge=0)
    width: int = Field(gt=0)
    height: int = Field(gt=0)


class DataOptions(Strict):
    """Which alternative representations go into ``data`` (and ``html``)."""

    include_latex: bool = False
    include_mathml: bool = False
    include_asciimath: bool = False
    include_svg: bool = False
    include_table_html: bool = False
    include_tsv: bool = False
    include_mathml_word: bool = False
    include_table_markdown: bool = False


class Callback(Strict):
    """Where to POST the results of an asynchronous request when it is done."""

    post: str = Field(min_length=1)
    reply: dict[str, JsonValue] | None = None
    body: dict[str, JsonValue] | None = None
    headers: dict[str, str] | None = None


class CommonOptions(Strict):
    """Options every image endpoint takes."""

    src: str | None = None
    metadata: dict[str, JsonValue] | None = None
    tags: list[str] | None = None
    region: Region | None = None
    confidence_threshold: float | None = Field(None, ge=0.0, le=1.0)
    callback: Callback | None = None
    async_: bool | None = Field(None, alias="async")
    # accepted, nothing to do for a formula recognizer
    skip_recrop: bool | None = None
    alphabets_allowed: dict[str, bool] | None = None
    enable_blue_hsv_filter: bool | None = None
    auto_rotate_confidence_threshold: float | None = Field(None, ge=0.0, le=1.0)
    include_detected_alphabets: bool | None = None
    improve_mathpix: bool | None = None
    # Scipix extensions (not Mathpix options)
    engine: str | None = Field(
        None,
        min_length=1,
        description="Scipix extension: the engine for this request (default: engines.default); "
        "an unknown engine, or one the key may not use, is an opts_unknown_engine error",
    )
    use_cache: bool = Field(
        True,
        description="Scipix extension: false skips the similarity cache (no lookup, no store)",
    )


class TextOptions(CommonOptions):
    """``POST /v3/text`` (and ``/v3/strokes``) options."""

    formats: list[TextFormat] = Field(default_factory=_text_formats)
    data_options: DataOptions | None = None
    math_inline_delimiters: Delimiters = ("\\(", "\\)")
    math_display_delimiters: Delimiters = ("\\[", "\\]")
    rm_spaces: bool = True
    confidence_rate_threshold: float | None = Field(None, ge=0.0, le=1.0)
    include_line_data: bool = False
    # accepted, nothing to do for a formula recognizer
    include_word_data: bool | None = None
    include_smiles: bool | None = None
    include_inchi: bool | None = None
    include_geometry_data: bool | None = None
    include_diagram_text: bool | None = None
    include_equation_tags: bool | None = None
    rm_fonts: bool | None = None
    idiomatic_eqn_arrays: bool | None = None
    idiomatic_braces: bool | None = None
    numbers_default_to_math: bool | None = None
    math_fonts_default_to_math: bool | None = None
    enable_spell_check: bool | None = None
    enable_tables_fallback: bool | None = None
    fullwidth_punctuation: bool | None = None


class LatexOptions(CommonOptions):
    """``POST /v3/latex`` (legacy) options."""

    formats: list[LatexFormat] = Field(default_factory=list)
    ocr: list[OcrKind] = Field(default_factory=_ocr_kinds)
    format_options: dict[str, JsonValue] | None = None
    beam_size: int | None = Field(None, ge=1, le=10)
    n_best: int | None = Field(None, ge=1, le=10)
    include_bbox: bool | None = None


class StrokeData(Strict):
    x: list[list[float]]
    y: list[list[float]]


class StrokesField(Strict):
    strokes: StrokeData


class StrokesOptions(TextOptions):
    """``POST /v3/strokes``: the v3/text options plus the strokes."""

    strokes: StrokesField | None = None
    strokes_session_id: str | None = None


class BatchUrl(BaseModel):
    """One batch entry given as an object: the url plus per-image options."""

    model_config = ConfigDict(extra="allow")

    url: str = Field(min_length=1)


class BatchRequest(BaseModel):
    """``POST /v3/batch``; the remaining keys are v3/latex (or v3/text) options for every url."""

    model_config = ConfigDict(extra="allow")

    urls: dict[str, str | BatchUrl] = Field(min_length=1)
    ocr_behavior: Literal["latex", "text"] = "latex"
    callback: Callback | None = None
    metadata: dict[str, JsonValue] | None = None


# --- responses ---------------------------------------------------------------------------------


class DataItem(BaseModel):
    type: str
    value: str


class LineData(BaseModel):
    type: str = "math"
    subtype: str = ""
    cnt: list[list[int]]
    included: bool = True
    is_printed: bool = True
    is_handwritten: bool = False
    text: str
    confidence: float
    confidence_rate: float
    conversion_output: bool = True


class TextResponse(BaseModel):
    """The answer of ``/v3/text`` and ``/v3/strokes``; absent fields are left out."""

    request_id: str
    version: str
    image_width: int
    image_height: int
    is_printed: bool
    is_handwritten: bool
    auto_rotate_confidence: float
    auto_rotate_degrees: int
    confidence: float
    confidence_rate: float
    text: str | None = None
    latex_styled: str | None = None
    html: str | None = None
    data: list[DataItem] | None = None
    line_data: list[LineData] | None = None
    cached: bool | None = None  # Scipix extension: answered from the similarity cache


class Position(BaseModel):
    top_left_x: int
    top_left_y: int
    width: int
    height: int


class LatexResponse(BaseModel):
    """The answer of the legacy ``/v3/latex``."""

    request_id: str
    version: str
    latex_confidence: float
    latex_confidence_rate: float
    position: Position
    auto_rotate_confidence: float
    auto_rotate_degrees: int
    is_printed: bool = True
    is_handwritten: bool = False
    latex: str | None = None
    text: str | None = None
    latex_normal: str | None = None
    latex_styled: str | None = None
    latex_simplified: str | None = None
    latex_list: list[str] | None = None
    mathml: str | None = None
    asciimath: str | None = None
    cached: bool | None = None  # Scipix extension: answered from the similarity cache


class BatchSubmitResponse(BaseModel):
    batch_id: str


class BatchResultsResponse(BaseModel):
    keys: list[str]
    results: dict[str, JsonValue]


class OcrResultEntry(BaseModel):
    timestamp: str
    duration: float
    endpoint: str
    request_id: str
    request_args: dict[str, JsonValue]
    result: dict[str, JsonValue]
    detections: dict[str, bool]


class OcrResultsResponse(BaseModel):
    ocr_results: list[OcrResultEntry]


class CacheSearchRequest(Strict):
    """``POST /cache/search`` (Scipix extension)."""

    latex: str = Field(min_length=1)
    k: int = Field(10, ge=1, le=100)


class CacheSearchResult(BaseModel):
    entry_id: int
    latex: str
    score: float  # LaTeX similarity, 0..1
    similarity: float  # the same as score (name used by the JS client)
    confidence: float
    hits: int
    created: float


class CacheSearchResponse(BaseModel):
    results: list[CacheSearchResult]


class CacheClearResponse(BaseModel):
    cleared: int  # entries removed


class HealthResponse(BaseModel):
    status: str
    model_loaded: bool
    engine: str
    version: str
    uptime_secs: float
    workers: int
    in_flight: int
    auth: bool


# --- validation errors -> Mathpix error ids ---------------------------------------------------

_RANGE_ERRORS = {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}
_NUMBER_ERRORS = {"float_parsing", "float_type", "int_parsing", "int_type", "int_from_float"}


def options_error(exc: ValidationError) -> ApiError:
    """The Mathpix error for the first problem in a request body's validation error."""
    err = exc.errors(include_url=False)[0]
    loc = [str(p) for p in err["loc"]]
    where = ".".join(loc) or "body"
    top = loc[0] if loc else ""
    kind = err["type"]
    if kind == "extra_forbidden":
        return ApiError("opts_unknown_option", f"unknown option: {where}")
    if top == "formats":
        given = err.get("input")
        return ApiError("opts_unknown_format", f"unknown format: {given!r}")
    if top == "ocr":
        return ApiError("opts_unknown_ocr", f"unknown ocr kind: {err.get('input')!r}")
    if top == "callback":
        return ApiError("opts_bad_callback", f"bad callback: {where}: {err['msg']}")
    if top == "strokes":
        return ApiError("strokes_syntax_error", f"bad strokes: {where}: {err['msg']}")
    if kind in _RANGE_ERRORS:
        return ApiError("opts_value_out_of_range", f"{where}: {err['msg']}")
    if kind in _NUMBER_ERRORS:
        return ApiError("opts_number_required", f"{where}: {err['msg']}")
    return ApiError("opts_invalid_value", f"{where}: {err['msg']}")


__all__ = [
    "BatchRequest",
    "BatchResultsResponse",
    "BatchSubmitResponse",
    "BatchUrl",
    "CacheClearResponse",
    "CacheSearchRequest",
    "CacheSearchResponse",
    "CacheSearchResult",
    "Callback",
    "CommonOptions",
    "DataItem",
    "DataOptions",
    "HealthResponse",
    "LatexFormat",
    "LatexOptions",
    "LatexResponse",
    "LineData",
    "OcrResultEntry",
    "OcrResultsResponse",
    "Position",
    "Region",
    "StrokeData",
    "StrokesField",
    "StrokesOptions",
    "TextFormat",
    "TextOptions",
    "TextResponse",
    "options_error",
]
