"""The default engine: the bundled local recognizer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scipix.engines.base import RecognizeOptions
from scipix.io import DecodedImage
from scipix.preprocess import PreprocessConfig, Preprocessor
from scipix.recognizer import Recognizer, RecognizerSettings
from scipix.types import OcrResult

if TYPE_CHECKING:
    from scipix.config import Settings


class LocalEngine:
    """Runs the recognizer in-process; the model loads once, in the constructor."""

    def __init__(self, settings: Settings) -> None:
        cfg = settings.engines.local
        pre, post = settings.preprocessing, settings.postprocessing
        self.recognizer = Recognizer.from_name(
            cfg.model,
            model_dir=cfg.model_dir,
            beam_width=cfg.beam_width,
            num_threads=cfg.num_threads,
            scan_model=cfg.scan_model,
            preprocessor=Preprocessor(
                PreprocessConfig(
                    flatten_background=pre.contrast_enhancement,
                    deskew=pre.deskew,
                    despeckle=pre.denoise,
                )
            ),
            settings=RecognizerSettings(
                auto_rotate=pre.auto_rotate,
                repair=post.validate_syntax,
                normalize_functions=post.normalize_symbols,
                retry_below=cfg.retry_below,
                retry_scales=tuple(cfg.retry_scales),
                cross_check=cfg.cross_check,
                third_size=cfg.third_size,
                respace=cfg.respace,
                delimiters=cfg.delimiters,
                scan_thresholds=tuple(cfg.scan_thresholds),
                scan_below=cfg.scan_below,
                scan_resize=cfg.scan_resize,
                clean_thresholds=tuple(cfg.clean_thresholds),
                clean_below=cfg.clean_below,
            ),
        )

    @property
    def name(self) -> str:
        return "local"

    def recognize(self, image: DecodedImage, options: RecognizeOptions | None = None) -> OcrResult:
        return self.recognizer.recognize(image, options)

    def ready(self) -> bool:
        return True
