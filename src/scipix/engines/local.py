"""The default engine: the bundled local recognizer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scipix.engines.base import RecognizeOptions
from scipix.io import DecodedImage
from scipix.recognizer import Recognizer
from scipix.types import OcrResult

if TYPE_CHECKING:
    from scipix.config import Settings


class LocalEngine:
    """Runs the recognizer in-process; the model loads once, in the constructor."""

    def __init__(self, settings: Settings) -> None:
        cfg = settings.engines.local
        self.recognizer = Recognizer.from_name(
            cfg.model,
            model_dir=cfg.model_dir,
            beam_width=cfg.beam_width,
            num_threads=cfg.num_threads,
        )

    @property
    def name(self) -> str:
        return "local"

    def recognize(self, image: DecodedImage, options: RecognizeOptions | None = None) -> OcrResult:
        return self.recognizer.recognize(image, options)

    def ready(self) -> bool:
        return True
