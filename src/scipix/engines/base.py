"""The engine protocol: anything that turns a decoded image into an OcrResult."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from scipix.io import DecodedImage
from scipix.types import OcrResult


@dataclass(frozen=True, slots=True)
class RecognizeOptions:
    """Per-request options every engine understands."""

    use_cache: bool = True
    rm_spaces: bool = True
    math_inline_delimiters: tuple[str, str] = ("\\(", "\\)")
    math_display_delimiters: tuple[str, str] = ("\\[", "\\]")


@runtime_checkable
class Engine(Protocol):
    """An OCR engine. Implementations load their models once, in the constructor."""

    @property
    def name(self) -> str: ...

    def recognize(self, image: DecodedImage, options: RecognizeOptions | None = None) -> OcrResult:
        """Recognise one formula image. Raises ScipixError subclasses on failure."""
        ...

    def ready(self) -> bool:
        """True when the engine can answer (models loaded, remote reachable)."""
        ...


__all__ = ["Engine", "RecognizeOptions"]
