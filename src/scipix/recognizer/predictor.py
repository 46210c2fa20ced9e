"""The recognizer: image -> preprocess -> segment -> sequence model -> LaTeX, with confidence."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from scipix.engines.base import RecognizeOptions
from scipix.errors import ConfigError
from scipix.formats import to_markdown
from scipix.io import DEFAULT_MAX_PIXELS, DecodedImage, ImageSource, load_image
from scipix.postprocess import (
    check_latex,
    compact_latex,
    normalize_functions,
    repair_latex,
    separate_double_scripts,
    strip_outer_braces,
    widen_array_columns,
)
from scipix.preprocess import Preprocessed, Preprocessor
from scipix.recognizer.config import MODELS, ModelConfig
from scipix.recognizer.delimiters import choose_delimiters
from scipix.recognizer.model import Decoded, SequenceModel
from scipix.recognizer.reading import Ballot, Reading
from scipix.recognizer.segment import Components, segment
from scipix.recognizer.spacing import SpacingTable, drop_unsupported_spaces
from scipix.recognizer.spacing import respace as set_spaces
from scipix.types import BoundingBox, OcrResult, Timings

# bumped whenever preprocessing or postprocessing changes what the same model answers (the
# similarity cache's producer tag includes it, so stale answers are dropped)
PIPELINE_REVISION = 8
PREFERRED_SYMBOL_PX = 19.0  # symbol height (segment's reference scale) the model reads best
# the two sizes' differing readings of a clean image get a third size unless one is likelier
# than the other by this many nats over both images
THIRD_SIZE_MARGIN = 5.0
# an image is not read resized beyond as many pixels as an input image may have
MAX_RESIZED_PIXELS = DEFAULT_MAX_PIXELS


@dataclass(frozen=True, slots=True)
class RecognizerSettings:
    """Behaviour around the model: orientation search and LaTeX postprocessing."""

    auto_rotate: bool = True  # try quarter turns when the upright reading is unsure
    repair: bool = True  # make invalid LaTeX valid (balance groups, split double scripts, ...)
    normalize_functions: bool = True  # \\mathrm{sin} -> \\sin
    # an image whose symbols are far from PREFERRED_SYMBOL_PX is read resized by the nearest
    # of retry_scales; when that reading's confidence is under retry_below (1.0: always) the
    # image is read as it is too and, when the two differ, one is kept (see cross_check),
    # with whether the two agree as a confidence feature; () reads every image as it is
    retry_below: float = 1.0
    retry_scales: tuple[float, ...] = (0.75, 1.5)
    # the second reading checks the first's tokens many per decoder run (faster; its
    # numbers differ from a token-by-token reading only by int8 rounding)
    draft_retry: bool = True
    # scans and photos (noisy paper) whose reading is unsure (confidence, agreement aside,
    # under scan_below; 1.0: always) are also read binarised at these multiples of their
    # threshold (blur and toner merge or break glyphs); the likeliest reading is kept (see
    # cross_check)
    scan_thresholds: tuple[float, ...] = (0.95, 1.05)
    scan_below: float = 1.0
    # clean images (renders, screenshots) whose reading is unsure (under clean_below) are
    # also read from cuts at these multiples of their threshold, the likeliest kept the same
    # way, unless the two sizes read the same (at 100 dpi +2.4 points on im2latex, +1.0 at
    # 150; () off)
    clean_thresholds: tuple[float, ...] = (0.95, 1.05)
    clean_below: float = 0.5
    # read scans and photos at their other size too (retry_scales), as clean images are;
    # off, the threshold readings take the second size's place (more accurate, as fast)
    scan_resize: bool = False
    # when the two sizes' readings differ, keep the one whose tokens are likelier under both
    # encodings together (each reading scored on the other's: one decoder run each) rather
    # than the more confident one; the same among a scan's threshold readings
    cross_check: bool = True
    # with cross_check, when the two sizes' readings of a clean image differ, also read it
    # at the larger of the two sizes enlarged by the factor between them (x2.25 after x1.5,
    # x1.33 after x0.75) and keep the likeliest of three
    third_size: bool = True
    # set the explicit spaces between side-by-side symbols from the measured gaps (the
    # model's spacing table); off, or without a table: only drop spaces where the ink
    # shows none
    respace: bool = True
    # with respace, write each delimiter pair as the size of its glyphs and the gaps around
    # it say: ( or \left( or \bigl( ... (scipix.recognizer.delimiters)
    delimiters: bool = True


_DEGREES = {0: 0.0, 1: 90.0, 2: 180.0, 3: -90.0}  # counter-clockwise turns -> degrees


def _fits(shape: tuple[int, ...], scale: float) -> bool:
    """Whether an image of ``shape`` resized by ``scale`` stays within 4x its longer side and
    ``MAX_RESIZED_PIXELS``."""
    h, w = shape[:2]
    size = (round(w * scale), round(h * scale))
    return max(size) <= 4 * max(h, w, 1) and size[0] * size[1] <= MAX_RESIZED_PIXELS


def _unrotate(box: BoundingBox, turns: int, width: int, height: int) -> BoundingBox:
    """A box found in the image turned ``turns`` quarter turns counter-clockwise (np.rot90),
    mapped back to the original ``width`` x ``height`` image."""
    x0, y0, x1, y1 = box.x, box.y, box.x1, box.y1
    if turns == 1:
        x0, y0, x1, y1 = width - y1, x0, width - y0, x1
    elif turns == 2:
        x0, y0, x1, y1 = width - x1, height - y1, width - x0, height - y0
    elif turns == 3:
        x0, y0, x1, y1 = y0, height - x1, y1, height - x0
    return BoundingBox(x0, y0, x1 - x0, y1 - y0, box.confidence, box.label)


class Recognizer:
    """Loads its model once; ``recognize`` is safe to call from several threads."""

    def __init__(
        self,
        config: ModelConfig,
        model: SequenceModel,
        preprocessor: Preprocessor | None = None,
        settings: RecognizerSettings | None = None,
        spacing: SpacingTable | None = None,
        scan_model: SequenceModel | None = None,
    ) -> None:
        """``scan_model`` reads the images preprocessing takes for scans or photos
        (:attr:`Preprocessed.noisy`); None: ``model`` reads them too (and ``config`` names
        no scan model, so its fingerprint says so)."""
        self.config = config if scan_model is not None else replace(config, scans=None)
        self.model = model
        self.scan_model = scan_model
        self.preprocessor = preprocessor or Preprocessor()
        self.settings = settings or RecognizerSettings()
        self.spacing = spacing

    @classmethod
    def from_name(
        cls,
        name: str = "symbolseq-v5",
        *,
        model_dir: Path | None = None,
        beam_width: int = 0,
        num_threads: int = 0,
        preprocessor: Preprocessor | None = None,
        settings: RecognizerSettings | None = None,
        scan_model: bool = True,
    ) -> Recognizer:
        """Build a recognizer for a shipped model (the factory the engine uses), with the
        model that reads its scans and photos (``ModelConfig.scans``) unless ``scan_model``
        is false."""
        if name not in MODELS:
            raise ConfigError(f"unknown recognizer model {name!r}; known: {sorted(MODELS)}")
        config = MODELS[name]
        if beam_width:
            config = replace(config, beam_width=beam_width)
        threads = num_threads or 1
        model = SequenceModel(config.files(model_dir), num_threads=threads)
        scans = None
        if scan_model and config.scans is not None:
            scans = SequenceModel(MODELS[config.scans].files(model_dir), num_threads=threads)
        spacing = config.spacing_table(model_dir)
        return cls(config, model, preprocessor, settings, spacing, scans)

    def recognize(
        self, image: DecodedImage | ImageSource, options: RecognizeOptions | None = None
    ) -> OcrResult:
        opts = options or RecognizeOptions()
        t0 = time.perf_counter()
        img = image if isinstance(image, DecodedImage) else load_image(image)
        t1 = time.perf_counter()
        pre = self.preprocessor(img.gray)
        t2 = time.perf_counter()
        if pre.is_blank:
            return self._empty(img, "no ink found: the image is blank", t0, t1, t2)
        reading = self._read_upright(img, pre)
        if reading is None:
            return self._empty(img, "no symbols found", t0, t1, t2)
        turns = 0
        if self.settings.auto_rotate:
            reading, turns = self._best_orientation(img, pre.ink.shape, reading)
        reading = self._respaced(reading)
        t3 = time.perf_counter()
        tokens = reading.tokens
        latex = compact_latex(tokens) if opts.rm_spaces else " ".join(tokens)
        confidence = self.confidence(reading)
        probs = reading.decoded.probs
        ox, oy = reading.offset
        k = 1.0 / reading.scale
        boxes = tuple(
            _unrotate(
                BoundingBox(
                    x=int((b[0] + ox) * k),
                    y=int((b[1] + oy) * k),
                    width=max(1, int((b[2] - b[0]) * k)),
                    height=max(1, int((b[3] - b[1]) * k)),
                    confidence=confidence if p is None else p,
                    label=label,
                ),
                turns,
                img.width,
                img.height,
            )
            for b, (label, p) in zip(reading.components.boxes, reading.symbols(), strict=True)
        )
        t4 = time.perf_counter()
        return OcrResult(
            latex=latex,
            latex_styled=compact_latex(tokens),
            text=to_markdown(latex, opts.math_inline_delimiters),
            confidence=confidence,
            confidence_rate=float(np.mean(probs)) if probs else 0.0,
            boxes=boxes,
            image_width=img.width,
            image_height=img.height,
            timings=Timings(t1 - t0, t2 - t1, t3 - t2, t4 - t3, t4 - t0),
            engine="local",
            reason="" if reading.decoded.finished else "the decoder hit its length limit",
            auto_rotate_degrees=_DEGREES[turns],
        )

    def _best_orientation(
        self, img: DecodedImage, ink_shape: tuple[int, ...], reading: Reading
    ) -> tuple[Reading, int]:
        """Try the image turned by a quarter turn either way when the upright reading is
        unsure and the ink is taller than wide (a formula rarely is); a turn is kept only when
        it reads clearly more confidently. Upside-down images are not detected (trying them
        costs a second full decode on every unsure formula). Returns the reading and the
        counter-clockwise quarter turns applied."""
        best, best_conf, turns = reading, self.confidence(reading), 0
        if best_conf >= 0.5:
            return best, 0
        if ink_shape[0] <= 1.3 * ink_shape[1]:
            return best, 0
        for k in (1, 3):
            pre = self.preprocessor(np.ascontiguousarray(np.rot90(img.gray, k)))
            if pre.is_blank:
                continue
            other = self.read_ink(pre.ink, (pre.offset_x, pre.offset_y), noisy=pre.noisy)
            if other is not None and self.confidence(other) > best_conf + 0.15:
                best, best_conf, turns = other, self.confidence(other), k
        return best, turns

    def _read_upright(self, img: DecodedImage, pre: Preprocessed) -> Reading | None:
        """Read the upright image at its sizes (:meth:`_read_sizes`) and at other ink
        thresholds too (:meth:`_read_thresholds`): scans and photos by ``scan_thresholds``
        and ``scan_below``, clean images by ``clean_thresholds`` and ``clean_below`` unless
        their two sizes read the same."""
        reading = self._read_sizes(img, pre)
        s = self.settings
        factors, below = (
            (s.scan_thresholds, s.scan_below) if pre.noisy else (s.clean_thresholds, s.clean_below)
        )
        if reading is None or not factors:
            return reading
        if not pre.noisy and reading.agreement is True:  # two sizes read the same: enough
            return reading
        return self._read_thresholds(pre, reading, factors, below)

    def _read_thresholds(
        self, pre: Preprocessed, reading: Reading, factors: tuple[float, ...], below: float
    ) -> Reading:
        """An image whose reading is unsure (confidence, what the other size said left out,
        under ``below``), read again from its ink cut at each of ``factors`` times its
        threshold, with ``reading`` as the draft. Blur and toner merge or break glyphs, and
        no one threshold undoes both; on small clean renders a cut moves a glyph's edge by a
        pixel. With ``cross_check`` the reading whose tokens are likeliest under all the
        cuts' encodings together is kept; else the most confident. A reading made at one
        size (scans are, by default: ``scan_resize``) takes whether the cuts all read the
        same as its agreement; a cut's reading kept over the first disagrees with it, and on
        a clean image must be at least as confident as the first.
        Scans at 150 dpi, im2latex, the benchmark's 200 formulas / 399 others (scan seed 7),
        each timed in one run: x0.9 and x1.1 when unsure, plus the second size (stop 21)
        53.3 / 46.6%, median 31.6 / 36.5 ms; x0.95 and x1.05 always, one size, 58.3 / 51.9%,
        34.3 / 34.6 ms; x0.85, x0.95 and x1.05: 59.8 / 50.9%, 51.0 / 46.9 ms. Textbook scans
        91.8 -> 92.3%. Clean im2latex renders, x0.95 and x1.05 when unsure and the sizes
        disagree: 60.6 -> 63.0%, 71.1 -> 72.1%, 72.7% both at 100 / 150 / 300 dpi, x1.18 /
        x1.05 the median time at 100 / 150 dpi."""
        # its confidence as if read once, its gaps measured as the kept reading's will be
        alone = self._respaced(replace(reading, agreement=None, cross_logp=None))
        best_conf = self.confidence(alone)
        if best_conf >= below:
            return reading
        readings = [reading]
        for factor in factors:
            alt = self.preprocessor.rebinarized(pre, factor)
            if alt.is_blank:
                continue
            other = self.read_ink(
                alt.ink, (alt.offset_x, alt.offset_y), draft=reading.decoded, noisy=pre.noisy
            )
            if other is not None:
                readings.append(other)
        if len(readings) == 1:
            return reading
        if reading.agreement is None:  # read at one size: the cuts stand for the sizes
            same = len({tuple(r.decoded.tokens) for r in readings}) == 1
            reading = replace(reading, agreement=same)
            readings[0] = reading
        if self.settings.cross_check and all(r.memory is not None for r in readings):
            ballot = Ballot(self._model_for(pre.noisy))
            for r in readings:
                ballot.add(r)
            kept, cross = ballot.likeliest()
            if kept is reading and reading.cross_logp is not None:
                return reading
            # a cut's reading kept over the first disagrees with it, whatever the sizes said
            agreement = reading.agreement if kept is reading else False
            out = replace(kept, agreement=agreement, cross_logp=cross)
            # a clean image's cut moves an edge by a pixel, and the likeliest under three
            # nearly equal encodings may be a glyph misread: it must also be as confident
            # (the first reading respaced as ``alone`` was, with its own agreement)
            first = replace(alone, agreement=reading.agreement, cross_logp=reading.cross_logp)
            if not pre.noisy and self.confidence(self._respaced(out)) < self.confidence(first):
                return reading
            return out
        best = reading
        for other in readings[1:]:
            other_conf = self.confidence(other)
            if other_conf > best_conf:
                best, best_conf = other, other_conf
        return best

    def _read_sizes(self, img: DecodedImage, pre: Preprocessed) -> Reading | None:
        """Read the upright image at the size the model reads best: an image whose symbols
        are far from about 19 px (as at 225 dpi) is read resized by the one of
        ``retry_scales`` that brings them nearest; unless that reading is sure (confidence at
        least ``retry_below``, under 1) the image is read as it is too; when the two differ,
        the likeliest is kept (:class:`Ballot`; a clean image gets a third size), and the
        reading kept knows whether the other agreed and how likely its tokens are under the
        other images. Scans and photos are read as they are first (resizing enlarges their
        noise), and only as they are unless ``scan_resize``. None when there is nothing to
        read."""
        comps = segment(pre.ink)
        if len(comps) == 0:
            return None
        offset = (pre.offset_x, pre.offset_y)
        scale = self._rescale_for(comps.scale, img.gray.shape[:2])
        if scale is None or (pre.noisy and not self.settings.scan_resize):
            return self._decode(comps, offset, noisy=pre.noisy)
        as_is: Callable[[Decoded | None], Reading | None] = partial(
            self._decode, comps, offset, noisy=pre.noisy
        )
        resized: Callable[[Decoded | None], Reading | None] = partial(
            self._read_resized, img, scale, noisy=pre.noisy
        )
        first, second = (as_is, resized) if pre.noisy else (resized, as_is)
        best = first(None)
        best_conf = -1.0 if best is None else self.confidence(best)
        if best_conf >= self.settings.retry_below and self.settings.retry_below < 1.0:
            return best
        # the first reading is the second's draft: where they agree, the decoder checks
        # many tokens per run (the second reading is the same as without it, only faster)
        draft = best.decoded if best is not None and self.settings.draft_retry else None
        other = second(draft)
        if other is None or best is None:
            return best or other
        # two readings that agree are right far more often (at 150 dpi 82% of the im2latex
        # formulas whose readings agree are read right, 25% of the others)
        if other.tokens == best.tokens:  # the other's own log-probability is of these tokens
            cross = other.decoded.logp / (len(other.decoded.probs) + 1)
            return replace(best, agreement=True, cross_logp=cross)
        if not self.settings.cross_check or best.memory is None or other.memory is None:
            kept = other if self.confidence(other) > best_conf else best
            return replace(kept, agreement=False)
        ballot = Ballot(self._model_for(pre.noisy))
        ballot.add(best)
        ballot.add(other)
        # the larger of the two sizes, enlarged once more by the factor between them
        third_scale = max(scale, 1.0) * max(scale, 1.0 / scale)
        close = ballot.margin() < THIRD_SIZE_MARGIN
        if (
            self.settings.third_size
            and not pre.noisy
            and close
            and _fits(img.gray.shape, third_scale)
        ):
            third = self._read_resized(img, third_scale, best.decoded)
            if third is not None and third.memory is not None:
                ballot.add(third)
        kept, cross = ballot.likeliest()
        return replace(kept, agreement=False, cross_logp=cross)

    def _rescale_for(self, symbol_px: float, shape: tuple[int, ...]) -> float | None:
        """The scale of ``retry_scales`` nearest the preferred symbol size, or None when none
        is nearer than the image as it is (or the resized image would be too big or small)."""
        if not self.settings.retry_scales:
            return None
        height = max(symbol_px, 1.0)

        def distance(scale: float) -> float:
            return abs(math.log(height * scale / PREFERRED_SYMBOL_PX))

        scale = min(self.settings.retry_scales, key=distance)
        h, w = shape
        size = (round(w * scale), round(h * scale))
        if distance(scale) >= distance(1.0) or not _fits(shape, scale) or min(size) < 4:
            return None
        return scale

    def _read_resized(
        self, img: DecodedImage, scale: float, draft: Decoded | None = None, noisy: bool = False
    ) -> Reading | None:
        """The image resized by ``scale``, preprocessed as the original was (``noisy``: its
        preprocessing took it for a scan or photo) and read (by the scan model when
        ``noisy``)."""
        h, w = img.gray.shape[:2]
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        method = cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA
        resized = np.asarray(cv2.resize(img.gray, size, interpolation=method), np.uint8)
        pre = self.preprocessor(resized, noisy=noisy)
        if pre.is_blank:
            return None
        reading = self.read_ink(pre.ink, (pre.offset_x, pre.offset_y), draft=draft, noisy=noisy)
        return None if reading is None else replace(reading, scale=scale)

    def read(self, gray: NDArray[np.uint8]) -> Reading | None:
        """Preprocess and read an upright grayscale image at the preferred size (what
        :meth:`recognize` does before formatting; no orientation search). None when there is
        no ink or nothing to read."""
        pre = self.preprocessor(gray)
        if pre.is_blank:
            return None
        reading = self._read_upright(load_image(gray), pre)
        return None if reading is None else self._respaced(reading)

    def read_ink(
        self,
        ink: NDArray[np.bool_],
        offset: tuple[int, int] = (0, 0),
        *,
        draft: Decoded | None = None,
        noisy: bool = False,
    ) -> Reading | None:
        """Segment an ink mask and decode it; None when there is nothing to read. ``draft``:
        another reading of the same formula, which makes greedy decoding faster where the
        two agree (see :meth:`SequenceModel.decode`); ``noisy``: the ink is a scan's or a
        photo's (read by the scan model, when there is one)."""
        comps = segment(ink)
        if len(comps) == 0:
            return None
        return self._decode(comps, offset, draft, noisy)

    def _model_for(self, noisy: bool) -> SequenceModel:
        """The model that reads scans and photos (``noisy``), or everything else."""
        return self.scan_model if noisy and self.scan_model is not None else self.model

    def _decode(
        self,
        comps: Components,
        offset: tuple[int, int],
        draft: Decoded | None = None,
        noisy: bool = False,
    ) -> Reading:
        model = self._model_for(noisy)
        mem = model.encode(comps.crops, comps.features)
        dec = model.decode(
            mem, max_len=self.config.max_tokens, beam=self.config.beam_width, draft=draft
        )
        tokens, valid, _ = self._tokens(dec, comps, respace=False)
        return Reading(tokens, dec, valid, comps, offset, memory=mem)

    def _tokens(
        self, dec: Decoded, comps: Components, *, respace: bool, scale: float = 1.0
    ) -> tuple[list[str], bool, float]:
        """The LaTeX tokens of a decoding, cleaned up, whether the model's own were valid, and
        the share of its gaps unlike TeX's. Explicit spaces the ink does not show are dropped;
        with ``respace`` (and the setting and a spacing table) the delimiters' forms are read
        from the ink, every space that can be measured is set from its gap instead, and the
        gaps are compared with TeX's (``scale``: the image was resized by it before)."""
        # the vocabulary writes a control space "\ " as a bare backslash (whitespace stripped)
        tokens = ["\\ " if t == "\\" else t for t in dec.tokens]
        misfit = 0.0
        if respace and self.spacing is not None and self.settings.respace:
            alignment = list(dec.alignment)
            if self.settings.delimiters:
                tokens, alignment = choose_delimiters(tokens, alignment, comps, self.spacing)
            misfit = self.spacing.misfit(tokens, alignment, comps, scale)
            tokens = set_spaces(tokens, alignment, comps, self.spacing, scale)
        else:
            tokens = drop_unsupported_spaces(tokens, dec.alignment, comps)
        # valid: balanced groups, no double script, no array row wider than its columns
        balanced = check_latex(tokens).ok
        fixed = widen_array_columns(
            separate_double_scripts(tokens if balanced else repair_latex(tokens))
        )
        valid = balanced and fixed == tokens
        if self.settings.repair:
            tokens = fixed
        tokens = strip_outer_braces(tokens)
        if self.settings.normalize_functions:
            tokens = normalize_functions(tokens)
        return tokens, valid, misfit

    def _respaced(self, reading: Reading) -> Reading:
        """The kept reading with its explicit spaces set from the measured gaps (once, on the
        reading kept: whether two readings agree is judged on the model's own spaces)."""
        if self.spacing is None or not self.settings.respace:
            return reading
        tokens, _, misfit = self._tokens(
            reading.decoded, reading.components, respace=True, scale=reading.scale
        )
        return replace(reading, tokens=tokens, misfit=misfit)

    def confidence(self, reading: Reading) -> float:
        """Calibrated probability that the reading is right (logistic over its features)."""
        if not reading.decoded.probs:
            return 0.0
        w = self.config.calibration
        z = sum(a * b for a, b in zip(w[:-1], reading.confidence_features(), strict=True)) + w[-1]
        return float(1.0 / (1.0 + math.exp(-max(min(z, 40.0), -40.0))))

    @staticmethod
    def _empty(img: DecodedImage, reason: str, t0: float, t1: float, t2: float) -> OcrResult:
        return OcrResult(
            latex="",
            latex_styled="",
            text="",
            confidence=0.0,
            confidence_rate=0.0,
            image_width=img.width,
            image_height=img.height,
            timings=Timings(t1 - t0, t2 - t1, 0.0, 0.0, time.perf_counter() - t0),
            engine="local",
            reason=reason,
        )
