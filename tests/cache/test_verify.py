"""Normalisation and verification on real rendered formulas: copies match, near-misses never."""

from __future__ import annotations

import pytest
from cache_formulas import FORMULAS, NEAR_MISSES, SCALED, decoded, variants

from scipix.cache.normalize import NormalizedInk, normalize
from scipix.cache.verify import compare


def _ink(image: object) -> NormalizedInk:
    ink = normalize(image)  # type: ignore[arg-type]
    assert ink is not None
    return ink


def test_at_least_fifty_near_miss_pairs() -> None:
    assert len(NEAR_MISSES) >= 50
    assert len({pair for pair in NEAR_MISSES}) == len(NEAR_MISSES)


@pytest.mark.parametrize(
    ("dpi", "fontset"), [(200, "dejavusans"), (300, "dejavusans"), (300, "cm")]
)
def test_reencodings_are_the_same_formula(dpi: int, fontset: str) -> None:
    failures = []
    for tex in FORMULAS:
        base = _ink(decoded(tex, dpi, fontset))
        for name, image in variants(tex, dpi, fontset).items():
            ink = _ink(image)
            for a, b in ((base, ink), (ink, base)):
                verdict = compare(a, b)
                if not verdict.accepted:
                    failures.append((tex, name, verdict.reason, round(verdict.window_diff, 3)))
    assert failures == []


def test_same_pixels_give_the_same_exact_key() -> None:
    for tex in FORMULAS:
        base = _ink(decoded(tex))
        copies = variants(tex)
        for name in ("pad10", "pad50", "inverted"):
            assert _ink(copies[name]).key == base.key, (tex, name)


@pytest.mark.parametrize(("dpi", "fontset"), [(200, "dejavusans"), (200, "cm")])
def test_near_misses_never_match_in_any_copy(dpi: int, fontset: str) -> None:
    accepted = []
    for a, b in NEAR_MISSES:
        ink_a = _ink(decoded(a, dpi, fontset))
        copies = {"plain": decoded(b, dpi, fontset)}
        copies.update(
            {k: v for k, v in variants(b, dpi, fontset).items() if k in (*SCALED, "jpeg75")}
        )
        for name, image in copies.items():
            ink_b = _ink(image)
            for x, y in ((ink_a, ink_b), (ink_b, ink_a)):
                if compare(x, y).accepted:
                    accepted.append((a, b, name))
    assert accepted == []


@pytest.mark.parametrize("dpi", [100, 150, 300])
def test_near_misses_never_match_at_other_resolutions(dpi: int) -> None:
    accepted = [
        (a, b)
        for a, b in NEAR_MISSES
        if compare(_ink(decoded(a, dpi)), _ink(decoded(b, dpi))).accepted
    ]
    assert accepted == []


def test_blank_images_have_no_ink() -> None:
    import numpy as np

    from scipix.io import load_image

    assert normalize(load_image(np.full((40, 60), 255, np.uint8))) is None
    assert normalize(load_image(np.full((40, 60), 17, np.uint8))) is None


def test_small_rescaled_copies_miss_rather_than_guess() -> None:
    tiny = _ink(decoded("x^2", 100))
    smaller = _ink(variants("x^2", 100)["scale0.8"])
    verdict = compare(tiny, smaller)
    assert not verdict.accepted and verdict.reason == "resolution"
