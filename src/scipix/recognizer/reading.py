"""A reading of a formula image: the model's tokens with what they were read from, the
features its confidence is computed from, and token-level cleanup that needs the image."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from scipix.recognizer.model import Cache, Decoded, SequenceModel
from scipix.recognizer.segment import Components
from scipix.recognizer.spacing import BLANK

_STRUCTURAL = frozenset({"{", "}", "^", "_", "&", "\\\\", "\\left", "\\right"})
# tokens that legitimately come twice from one component (dots, punctuation, spaces)
_REPEATABLE = frozenset({*BLANK, *_STRUCTURAL, ".", ",", ";", ":", "'", "\\!", "\\ldots"})


@dataclass(frozen=True, slots=True)
class Reading:
    """What the model read before formatting: tokens, their probabilities, the components."""

    tokens: list[str]
    decoded: Decoded
    valid: bool
    components: Components
    offset: tuple[int, int]
    scale: float = 1.0  # the reading was made on the image resized by this factor
    # whether the image read at its other size gave the same LaTeX; None: read once
    agreement: bool | None = None
    # the encoder's output the reading was decoded from (to score other readings on it)
    memory: Cache | None = field(default=None, repr=False, compare=False)
    # the mean log-probability of its tokens (and end) read from the other size's image;
    # None: read once
    cross_logp: float | None = None
    # the share of its gaps unlike TeX's (SpacingTable.misfit), measured on the reading kept
    misfit: float = 0.0

    def symbols(self) -> list[tuple[str, float | None]]:
        """For each component, the LaTeX tokens the decoder read from it (scripts and braces
        left out) and the lowest probability among them; ("", None) for a component no token
        came from (e.g. the second bar of '=')."""
        tokens: list[list[str]] = [[] for _ in range(len(self.components))]
        probs: list[list[float]] = [[] for _ in range(len(self.components))]
        d = self.decoded
        for tok, p, where in zip(d.tokens, d.probs, d.alignment, strict=True):
            if tok not in _STRUCTURAL and 0 <= where < len(tokens):
                tokens[where].append(tok)
                probs[where].append(p)
        return [(" ".join(t), min(p) if p else None) for t, p in zip(tokens, probs, strict=True)]

    def repeats_a_glyph(self) -> bool:
        """Whether the decoder read the same symbol twice from one component (``\\Upsilon
        \\Upsilon`` from one glyph): a stutter seen almost only in wrong readings (at 150 dpi
        in 73 of 86 im2latex readings that have one). An array's column letters don't count."""
        seen: set[tuple[str, int]] = set()
        d = self.decoded
        in_columns = False
        for i, (tok, where) in enumerate(zip(d.tokens, d.alignment, strict=True)):
            if i >= 2 and d.tokens[i - 2] == "\\begin{array}" and d.tokens[i - 1] == "{":
                in_columns = True
            if in_columns:
                in_columns = tok != "}"
                continue
            if tok in _REPEATABLE:
                continue
            if (tok, where) in seen:
                return True
            seen.add((tok, where))
        return False

    def confidence_features(self) -> tuple[float, ...]:
        """Mean and min token log-probability, log length, finished, structurally valid,
        how many tokens were read with probability under 0.5 and under 0.9, whether a
        symbol was read twice from one component, and whether the image read at its other
        size gave the same LaTeX or not (both 0 when it was read once), and the mean
        log-probability of the tokens read from the other size's image (read once: from
        this one), and the share of its gaps unlike TeX's (0 until measured)."""
        agree = 1.0 if self.agreement is True else 0.0
        disagree = 1.0 if self.agreement is False else 0.0
        if not self.decoded.probs:
            return (-20.0, -20.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, agree, disagree, -20.0, 0.0)
        probs = np.asarray(self.decoded.probs, dtype=np.float64)
        logp = np.log(np.maximum(probs, 1e-9))
        cross = float(logp.mean()) if self.cross_logp is None else self.cross_logp
        return (
            float(logp.mean()),
            float(logp.min()),
            math.log(len(logp) + 1.0),
            1.0 if self.decoded.finished else 0.0,
            1.0 if self.valid else 0.0,
            float((probs < 0.5).sum()),
            float((probs < 0.9).sum()),
            1.0 if self.repeats_a_glyph() else 0.0,
            agree,
            disagree,
            max(cross, -20.0),
            self.misfit,
        )


class Ballot:
    """Readings of one formula from several images of it (sizes, ink thresholds): each
    distinct token sequence's log-probability summed over all the images' encodings. Each
    reading is scored on the others' encodings in one teacher-forced decoder run each, from
    where it parts from the image's own reading (an image that read the same tokens gives its
    own log-probability). Keeping the likeliest picks the right one of differing readings
    more often than their confidences do: at 150 dpi, of the two sizes' readings, 172
    against 165 of the 429 im2latex formulas whose readings differ, 109 against 98 of 402
    held-out arXiv formulas."""

    def __init__(self, model: SequenceModel) -> None:
        self._model = model
        self.views: list[Reading] = []
        self._totals: dict[tuple[str, ...], float] = {}

    def add(self, view: Reading) -> None:
        """Count ``view``'s image for every sequence so far, and its sequence if new."""
        if view.memory is None:
            raise ValueError("a reading without its encoding cannot be scored")
        for key in self._totals:
            self._totals[key] += self._on(view, key)
        self.views.append(view)
        key = tuple(view.decoded.tokens)
        if key not in self._totals:
            self._totals[key] = sum(self._on(v, key) for v in self.views)

    def _on(self, view: Reading, tokens: tuple[str, ...]) -> float:
        if tuple(view.decoded.tokens) == tokens:
            return view.decoded.logp
        assert view.memory is not None
        return self._model.score(view.memory, list(tokens), view.decoded)

    def total(self, reading: Reading) -> float:
        return self._totals[tuple(reading.decoded.tokens)]

    def margin(self) -> float:
        """How much likelier the likeliest sequence is than the next (inf with one)."""
        best = sorted(self._totals.values(), reverse=True)
        return best[0] - best[1] if len(best) > 1 else math.inf

    def likeliest(self) -> tuple[Reading, float]:
        """The likeliest reading (the first added wins ties) and the mean log-probability
        per token of its tokens under the other images."""
        kept = max(self.views, key=self.total)
        others = (self.total(kept) - kept.decoded.logp) / max(len(self.views) - 1, 1)
        return kept, others / (len(kept.decoded.probs) + 1)
