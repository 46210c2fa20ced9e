"""Typed result objects shared by every layer (design document section 8.3)."""

from __future__ import annotations

import enum
import time
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class BoundingBox:
    """An axis-aligned box in image pixels, with the confidence of what it holds."""

    x: int
    y: int
    width: int
    height: int
    confidence: float = 1.0
    label: str = ""

    @property
    def x1(self) -> int:
        return self.x + self.width

    @property
    def y1(self) -> int:
        return self.y + self.height


@dataclass(frozen=True, slots=True)
class Timings:
    """Seconds spent in each stage of one recognition."""

    decode: float = 0.0
    preprocess: float = 0.0
    recognize: float = 0.0
    postprocess: float = 0.0
    total: float = 0.0


@dataclass(frozen=True, slots=True)
class OcrResult:
    """The answer for one image.

    ``latex`` is the normalised single-equation LaTeX; ``latex_styled`` is the same equation as
    it should be typeset; ``text`` is Mathpix Markdown with ``\\( \\)`` delimiters.
    ``confidence`` is the calibrated probability that the whole result is right and
    ``confidence_rate`` the mean per-symbol confidence. ``reason`` says why a result is empty.
    """

    latex: str
    latex_styled: str
    text: str
    confidence: float
    confidence_rate: float
    boxes: tuple[BoundingBox, ...] = ()
    image_width: int = 0
    image_height: int = 0
    timings: Timings = field(default_factory=Timings)
    cached: bool = False
    engine: str = "local"
    reason: str = ""
    auto_rotate_degrees: float = 0.0
    timestamp: float = field(default_factory=time.time)

    @property
    def is_empty(self) -> bool:
        return not self.latex

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class PageResult:
    """The result for one page of a PDF."""

    page_num: int
    latex: str
    confidence: float
    bounding_boxes: tuple[BoundingBox, ...] = ()
    text: str = ""
    error: str = ""


class JobState(enum.StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class JobStatus:
    """Status of an asynchronous job (PDF or batch); ``progress`` is in [0, 1]."""

    job_id: str
    status: JobState
    progress: float = 0.0
    result: tuple[PageResult, ...] | None = None
    error: str | None = None


__all__ = ["BoundingBox", "JobState", "JobStatus", "OcrResult", "PageResult", "Timings"]
