"""What a converted page holds: lines of text and math with their regions, as JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

SegmentKind = Literal["text", "math"]
LineKind = Literal["text", "math", "heading"]


@dataclass(frozen=True, slots=True)
class Box:
    """A region in PDF points, origin at the top left of the page."""

    x: float
    y: float
    width: float
    height: float

    @property
    def x1(self) -> float:
        return self.x + self.width

    @property
    def y1(self) -> float:
        return self.y + self.height

    def to_json(self) -> dict[str, float]:
        return {
            "top_left_x": round(self.x, 2),
            "top_left_y": round(self.y, 2),
            "width": round(self.width, 2),
            "height": round(self.height, 2),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Box:
        return cls(
            float(data["top_left_x"]),
            float(data["top_left_y"]),
            float(data["width"]),
            float(data["height"]),
        )


@dataclass(frozen=True, slots=True)
class Segment:
    """A run of plain text, or one formula (LaTeX without delimiters)."""

    kind: SegmentKind
    value: str
    confidence: float = 1.0

    def to_json(self) -> dict[str, Any]:
        return {"type": self.kind, "value": self.value, "confidence": round(self.confidence, 4)}


@dataclass(frozen=True, slots=True)
class PageLine:
    """A text line (with inline math segments), a heading, or a display formula."""

    kind: LineKind
    segments: tuple[Segment, ...]
    region: Box
    block: int  # paragraph number on the page: lines of one paragraph share it
    heading_level: int = 0
    confidence: float = 1.0
    tag: str = ""  # a display formula's equation number

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.kind,
            "region": self.region.to_json(),
            "block": self.block,
            "heading_level": self.heading_level,
            "confidence": round(self.confidence, 4),
            "segments": [s.to_json() for s in self.segments],
            **({"tag": self.tag} if self.tag else {}),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PageLine:
        return cls(
            kind=data["type"],
            segments=tuple(
                Segment(s["type"], str(s["value"]), float(s["confidence"]))
                for s in data["segments"]
            ),
            region=Box.from_json(data["region"]),
            block=int(data["block"]),
            heading_level=int(data["heading_level"]),
            tag=str(data.get("tag", "")),
            confidence=float(data["confidence"]),
        )


@dataclass(frozen=True, slots=True)
class PageResult:
    """One converted page (``page`` is 1-based); ``error`` is set when it failed."""

    page: int
    width: float
    height: float
    lines: tuple[PageLine, ...] = ()
    scanned: bool = False
    error: dict[str, str] | None = field(default=None)

    def to_json(self) -> dict[str, Any]:
        return {
            "page": self.page,
            "page_width": round(self.width, 2),
            "page_height": round(self.height, 2),
            "scanned": self.scanned,
            "error": self.error,
            "lines": [line.to_json() for line in self.lines],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PageResult:
        return cls(
            page=int(data["page"]),
            width=float(data["page_width"]),
            height=float(data["page_height"]),
            lines=tuple(PageLine.from_json(line) for line in data["lines"]),
            scanned=bool(data["scanned"]),
            error=data.get("error"),
        )


__all__ = ["Box", "LineKind", "PageLine", "PageResult", "Segment", "SegmentKind"]
