"""The shipped recognizer end to end on images rendered in the test (mathtext, no TeX)."""

from __future__ import annotations

import io
import math
import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image

import scipix
from scipix.errors import ImageError, ModelError
from scipix.evaluation import image_match
from scipix.io import DecodedImage, load_image
from scipix.postprocess import compact_latex
from scipix.preprocess import Preprocessed
from scipix.recognizer import MODELS, Recognizer
from scipix.recognizer.reading import Ballot, Reading
from scipix.recognizer.segment import CROP, N_FEATURES, Components, segment

Render = Callable[..., NDArray[np.uint8]]


@pytest.fixture(scope="module")
def recognizer() -> Recognizer:
    return Recognizer.from_name()


def _png(img: NDArray[np.uint8]) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, "PNG")
    return buf.getvalue()


@pytest.mark.parametrize(
    ("mathtext_src", "expected"),
    [
        (r"x^{2}+y^{2}=z^{2}", "x^{2}+y^{2}=z^{2}"),
        (r"\frac{a}{b}", r"\frac{a}{b}"),
        (r"E=mc^{2}", "E=mc^{2}"),
        (r"\alpha+\beta", r"\alpha+\beta"),
    ],
)
def test_simple_formulas(
    recognizer: Recognizer, mathtext: Render, mathtext_src: str, expected: str
) -> None:
    result = recognizer.recognize(_png(mathtext(mathtext_src, dpi=200)))
    assert result.latex_styled == expected
    assert result.text == f"\\( {expected} \\)"
    assert 0.0 <= result.confidence <= 1.0
    assert result.boxes and all(b.width > 0 and b.height > 0 for b in result.boxes)
    assert result.timings.total > 0


def test_example_image_reads_the_quadratic_formula(recognizer: Recognizer) -> None:
    root = Path(__file__).resolve().parents[2]
    result = recognizer.recognize(root / "examples" / "quadratic.png")
    assert result.latex_styled == r"x=\frac{-b\pm\sqrt{b^{2}-4ac}}{2a}"
    assert result.confidence > 0.5
    # per-symbol boxes, labelled with the tokens the decoder read from them, left to right
    labels = [b.label for b in result.boxes if b.label]
    assert labels[:4] == ["x", "=", r"\frac", "-"]
    assert {r"\sqrt", r"\pm", "4", "c"} <= set(labels)
    frac = next(b for b in result.boxes if b.label == r"\frac")
    assert frac.width > 0.6 * result.image_width  # the fraction bar spans the formula


def test_blank_image_gives_empty_result(recognizer: Recognizer) -> None:
    result = recognizer.recognize(np.full((60, 200), 255, np.uint8))
    assert result.latex == "" and result.confidence == 0.0
    assert "blank" in result.reason


def test_bad_image_raises_image_error(recognizer: Recognizer) -> None:
    with pytest.raises(ImageError):
        recognizer.recognize(b"PK\x03\x04 this is a zip, not an image")


def test_confidence_is_lower_for_noise(recognizer: Recognizer, mathtext: Render) -> None:
    good = recognizer.recognize(mathtext(r"a+b=c", dpi=200))
    rng = np.random.default_rng(0)
    noise = np.where(rng.random((80, 300)) < 0.08, 0, 255).astype(np.uint8)
    bad = recognizer.recognize(noise)
    assert good.confidence > bad.confidence


def test_rm_spaces_false_keeps_token_spacing(recognizer: Recognizer, mathtext: Render) -> None:
    result = recognizer.recognize(
        mathtext(r"\frac{a}{b}", dpi=200), scipix.RecognizeOptions(rm_spaces=False)
    )
    assert result.latex == r"\frac { a } { b }"
    assert result.latex_styled == r"\frac{a}{b}"


def test_top_level_recognize(mathtext: Render) -> None:
    assert scipix.recognize(mathtext(r"E=mc^{2}", dpi=200)).latex_styled == "E=mc^{2}"


def test_corrupt_weights_are_refused(tmp_path: Path) -> None:
    cfg = MODELS["symbolseq-v5"]
    src = cfg.files()
    assert src.ngrams is not None
    for f in (src.encoder, src.decoder, src.vocab, src.ngrams):
        shutil.copy(f, tmp_path / f.name)
    table = tmp_path / src.ngrams.name
    table.write_text(
        table.read_text(encoding="utf-8").replace('"{", 1.0]', '"}", 1.0]', 1), "utf-8"
    )
    with pytest.raises(ModelError, match="SHA-256"):
        Recognizer.from_name(model_dir=tmp_path)
    shutil.copy(src.ngrams, table)
    data = bytearray((tmp_path / cfg.decoder).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (tmp_path / cfg.decoder).write_bytes(bytes(data))
    with pytest.raises(ModelError, match="SHA-256"):
        Recognizer.from_name(model_dir=tmp_path)
    (tmp_path / cfg.decoder).unlink()
    with pytest.raises(ModelError, match="not found"):
        Recognizer.from_name(model_dir=tmp_path)
    assert replace(cfg, beam_width=2).beam_width == 2


@pytest.mark.parametrize("turns", [1, 3])
def test_auto_rotate_reads_a_turned_formula(recognizer: Recognizer, turns: int) -> None:
    root = Path(__file__).resolve().parents[2]
    upright = recognizer.recognize(root / "examples" / "quadratic.png")
    gray = np.asarray(Image.open(root / "examples" / "quadratic.png").convert("L"))
    turned = np.ascontiguousarray(np.rot90(gray, -turns))  # the user's image is turned
    result = recognizer.recognize(turned)
    assert result.latex_styled == upright.latex_styled
    assert result.auto_rotate_degrees == {1: 90.0, 3: -90.0}[turns]
    # boxes come back in the coordinates of the image as given
    frac = next(b for b in result.boxes if b.label == r"\frac")
    assert frac.height > frac.width and frac.y1 <= result.image_height


def test_auto_rotate_off_leaves_the_image(mathtext: Render) -> None:
    from scipix.recognizer import RecognizerSettings

    rec = Recognizer.from_name(settings=RecognizerSettings(auto_rotate=False))
    gray = np.ascontiguousarray(np.rot90(mathtext(r"x^{2}+y^{2}=z^{2}", dpi=200), -1))
    assert rec.recognize(gray).auto_rotate_degrees == 0.0


def test_local_engine_takes_its_settings_from_config() -> None:
    from scipix.config import load_settings
    from scipix.engines.local import LocalEngine

    settings = load_settings(
        None,
        {
            "preprocessing.auto_rotate": False,
            "preprocessing.denoise": False,
            "postprocessing.normalize_symbols": False,
        },
    )
    rec = LocalEngine(settings).recognizer
    assert not rec.settings.auto_rotate and not rec.settings.normalize_functions
    assert rec.settings.repair and not rec.preprocessor.config.despeckle
    assert rec.preprocessor.config.deskew


def test_unsure_reading_is_retried_rescaled_with_boxes_in_the_original_image(
    mathtext: Render,
) -> None:
    from scipix.recognizer import RecognizerSettings

    gray = mathtext(r"x^{2}+y^{2}=r^{2}", dpi=100)  # 5 px symbols: read resized x1.5 too
    always = RecognizerSettings(retry_below=1.01, retry_scales=(0.75, 1.5))
    never = RecognizerSettings(retry_scales=())
    retried = Recognizer.from_name(settings=always).recognize(gray)
    plain = Recognizer.from_name(settings=never).recognize(gray)
    assert retried.confidence > plain.confidence  # the resized reading was the surer one
    assert retried.latex_styled == "x^{2}+y^{2}=r^{2}"
    ink_cols = np.nonzero(gray < 128)[1]
    for box in retried.boxes:  # mapped back from the resized image
        assert box.x >= 0 and box.x1 <= gray.shape[1] + 1
        assert box.y >= 0 and box.y1 <= gray.shape[0] + 1
    assert min(b.x for b in retried.boxes) <= ink_cols.min() + 2
    assert max(b.x1 for b in retried.boxes) >= ink_cols.max() - 2


def test_small_symbols_are_read_at_the_preferred_size_first(mathtext: Render) -> None:
    from scipix.recognizer import RecognizerSettings

    gray = mathtext(r"\frac{a+b}{c}=\sqrt{x_{1}^{2}+y}", dpi=90)
    first_only = Recognizer.from_name(settings=RecognizerSettings(retry_below=0.0))
    reading = first_only.read(gray)
    assert reading is not None and reading.scale == 1.5  # 4 px symbols: enlarged
    # a scan is read as it is first: resizing would enlarge its noise
    rng = np.random.default_rng(0)
    noisy = np.clip(gray.astype(np.float32) * 0.85 + rng.normal(0, 4, gray.shape), 0, 255)
    scanned = first_only.read(noisy.astype(np.uint8))
    assert scanned is not None and scanned.scale == 1.0
    large = first_only.read(mathtext(r"\frac{a+b}{c}", dpi=360))
    assert large is not None and large.scale == 1.0  # already near the preferred size


def test_resized_readings_stay_within_the_pixel_limit(recognizer: Recognizer) -> None:
    """Small symbols are read enlarged, but never beyond the pixel limit of an input image."""
    assert recognizer._rescale_for(8.0, (400, 2000)) == 1.5
    assert recognizer._rescale_for(8.0, (6000, 6000)) is None  # 81 MP enlarged
    assert recognizer._rescale_for(30.0, (6000, 6000)) == 0.75  # shrinking is fine


def test_retry_settings_come_from_config() -> None:
    from scipix.config import load_settings
    from scipix.engines.local import LocalEngine
    from scipix.engines.registry import cache_producer

    settings = load_settings(
        None, {"engines.local.retry_scales": [], "engines.local.retry_below": 0.3}
    )
    rec = LocalEngine(settings).recognizer
    assert rec.settings.retry_scales == () and rec.settings.retry_below == 0.3
    assert cache_producer(settings) != cache_producer(load_settings(None, {}))
    judged = load_settings(
        None, {"engines.local.cross_check": False, "engines.local.third_size": False}
    )
    rec = LocalEngine(judged).recognizer
    assert not rec.settings.cross_check and not rec.settings.third_size
    assert cache_producer(judged) != cache_producer(load_settings(None, {}))
    one_model = load_settings(None, {"engines.local.scan_model": False})
    assert LocalEngine(one_model).recognizer.scan_model is None
    assert LocalEngine(load_settings(None, {})).recognizer.scan_model is not None
    assert cache_producer(one_model) != cache_producer(load_settings(None, {}))


def _components(boxes: list[list[int]]) -> Components:
    """Hand-made components 20 px tall at the given boxes (x0, y0, x1, y1), blank crops."""
    n = len(boxes)
    return Components(
        np.zeros((n, CROP, CROP), np.uint8),
        np.array(boxes, np.int32),
        np.zeros((n, N_FEATURES), np.float32),
        np.full(n, 100.0, np.float32),
        20.0,
    )


def test_math_spaces_need_room_in_the_image() -> None:
    from scipix.recognizer.spacing import drop_unsupported_spaces

    # three symbols 20 px tall: a, then b 4 px later (0.2 heights), then c 16 px later (0.8)
    comps = _components([[0, 0, 10, 20], [14, 0, 24, 20], [40, 0, 50, 20]])
    tokens = ["a", "\\,", "b", "\\,", "^", "{", "c", "}"]
    align = [0, 1, 1, 2, 2, 2, 2, 2]
    assert drop_unsupported_spaces(tokens, align, comps) == ["a", "b", "\\,", "^", "{", "c", "}"]
    # other spaces, and spaces with unknown neighbours, are left alone
    assert drop_unsupported_spaces(["a", "\\quad", "b"], [0, 1, 1], comps) == ["a", "\\quad", "b"]
    assert drop_unsupported_spaces(["\\,", "a"], [0, 0], comps) == ["\\,", "a"]


def test_a_symbol_read_twice_from_one_component_lowers_confidence() -> None:
    from scipix.recognizer.model import Decoded
    from scipix.recognizer.reading import Reading

    comps = _components([[0, 0, 10, 20], [14, 0, 24, 20]])

    def reading(tokens: list[str], align: list[int]) -> Reading:
        decoded = Decoded(tokens, [0.95] * len(tokens), True, align)
        return Reading(tokens, decoded, True, comps, (0, 0))

    stutter = reading(["\\uparrow", "\\downarrow", "\\downarrow"], [0, 1, 1])
    clean = reading(["\\uparrow", "\\downarrow"], [0, 1])
    assert stutter.repeats_a_glyph() and not clean.repeats_a_glyph()
    # the same symbol from two components, dots, and an array's column letters are fine
    assert not reading(["\\int", "\\int"], [0, 1]).repeats_a_glyph()
    assert not reading(["x", ".", "."], [0, 1, 1]).repeats_a_glyph()
    cols = ["\\begin{array}", "{", "c", "c", "}", "a", "&", "b", "\\end{array}"]
    assert not reading(cols, [0, 0, 0, 0, 0, 0, 0, 1, 1]).repeats_a_glyph()
    # same tokens and probabilities, only the stutter differs
    other = reading(["\\uparrow", "\\downarrow", "\\downarrow"], [0, 1, 0])
    assert not other.repeats_a_glyph()
    rec = Recognizer.from_name()
    assert rec.confidence(stutter) < rec.confidence(other) - 0.05


def test_beam_search_reads_with_the_layer_caches(recognizer: Recognizer) -> None:
    """Beam decoding carries each hypothesis's per-layer caches; on a clear formula it agrees
    with greedy decoding and labels the same symbols."""
    root = Path(__file__).resolve().parents[2]
    beam = Recognizer.from_name(beam_width=3)
    greedy = recognizer.recognize(root / "examples" / "quadratic.png")
    result = beam.recognize(root / "examples" / "quadratic.png")
    assert result.latex_styled == greedy.latex_styled
    assert [b.label for b in result.boxes] == [b.label for b in greedy.boxes]


def _counting_runs(rec: Recognizer, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Record how many tokens each decoder run of ``rec`` is fed."""
    fed: list[int] = []
    run = rec.model._run

    def counted(toks: list[int], *args: object) -> object:
        fed.append(len(toks))
        return run(toks, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(rec.model, "_run", counted)
    return fed


def test_speculative_decoding_reads_the_same_tokens_in_fewer_runs(
    mathtext: Render, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A draft (another reading) and the table of predictable tokens only change how many
    decoder runs a reading takes: with the formula's own reading as the draft, or a draft
    with a token substituted, dropped or doubled, or none, the tokens read are the same."""
    from scipix.recognizer.segment import segment

    gray = mathtext(r"\frac{a_{1}+b^{2}}{\sqrt{x_{i}}}=\sum_{k=1}^{n}c_{k}", dpi=200)
    rec = Recognizer.from_name()
    plain_model = Recognizer.from_name().model
    plain_model.ngrams = None
    pre = rec.preprocessor(gray)
    comps = segment(pre.ink)
    cross = rec.model.encode(comps.crops, comps.features)
    plain = plain_model.decode(cross)
    assert plain.finished and len(plain.tokens) > 20
    fed = _counting_runs(rec, monkeypatch)
    toks = plain.tokens
    drafts = {
        "none": None,
        "itself": plain,
        "substituted": replace(plain, tokens=[*toks[:5], "y", *toks[6:]]),
        "dropped": replace(plain, tokens=[*toks[:8], *toks[9:]]),
        "doubled": replace(plain, tokens=[*toks[:12], toks[12], *toks[12:]]),
        "unrelated": replace(plain, tokens=["\\alpha"] * 30),
    }
    runs = {}
    for name, draft in drafts.items():
        fed.clear()
        got = rec.model.decode(cross, draft=draft)
        assert got.tokens == plain.tokens, name
        # the component each symbol was read from (a brace or script mark attends to no
        # glyph of its own, so its nearly tied choice may differ)
        inked = [i for i, t in enumerate(toks) if t not in {"{", "}", "^", "_"}]
        assert [got.alignment[i] for i in inked] == [plain.alignment[i] for i in inked], name
        assert np.allclose(got.probs, plain.probs, atol=0.05), name
        runs[name] = len(fed)
    # one run per token (plus the end) without speculation; the draft's tokens come in a few
    # runs, the predictable ones ('{' after '_' or '^' ...) save runs even without a draft
    assert runs["itself"] <= 4 < runs["none"] < len(toks) + 1
    assert max(runs["substituted"], runs["dropped"], runs["doubled"]) <= 12
    assert runs["unrelated"] <= runs["none"] + 3  # a useless draft is soon left for the table


def test_both_sizes_are_read_and_their_agreement_counts_in_the_confidence(
    mathtext: Render,
) -> None:
    """By default an image is read at the preferred size and as it is; the reading kept knows
    whether the other agreed, which raises its confidence (disagreeing lowers it)."""
    from scipix.recognizer import RecognizerSettings

    gray = mathtext(r"x^{2}+y^{2}=z^{2}", dpi=150)
    rec = Recognizer.from_name()
    reading = rec.read(gray)
    assert reading is not None and reading.agreement is True
    assert " ".join(reading.tokens) == "x ^ { 2 } + y ^ { 2 } = z ^ { 2 }"
    once = Recognizer.from_name(settings=RecognizerSettings(retry_scales=())).read(gray)
    assert once is not None and once.agreement is None and once.tokens == reading.tokens
    # how likely the tokens are under the other image: known without a run when they agree
    assert once.cross_logp is None and reading.cross_logp is not None
    assert -0.5 < reading.cross_logp < 0.0
    sure = rec.confidence(reading)
    assert sure > rec.confidence(replace(reading, agreement=None))
    assert rec.confidence(replace(reading, agreement=False)) < sure


def test_a_scan_is_also_read_at_other_thresholds(mathtext: Render, scanned: Render) -> None:
    """Scans are read again from their ink cut at other thresholds; the reading kept is the
    likeliest under all the cuts' encodings together (by confidence without the cross
    check: at least as confident as without the cuts), and still right on a clear one."""
    from scipix.recognizer import RecognizerSettings

    clean = mathtext(r"\frac{a+b}{c}=x^{2}", dpi=150)
    scan = scanned(clean)
    rec = Recognizer.from_name(settings=RecognizerSettings(scan_below=1.01))  # always
    kept = rec.read(scan)
    assert kept is not None
    # right: the same ink as the formula (the model may group the fraction in braces)
    assert image_match(mathtext(compact_latex(kept.tokens), dpi=150), clean)
    pre = rec.preprocessor(scan)
    assert pre.noisy
    views = [rec._read_sizes(load_image(scan), pre)]
    for factor in rec.settings.scan_thresholds:
        cut = rec.preprocessor.rebinarized(pre, factor)
        views.append(rec.read_ink(cut.ink, (cut.offset_x, cut.offset_y), noisy=True))
    assert all(v is not None and v.memory is not None for v in views)
    assert len(views) == 1 + len(rec.settings.scan_thresholds) >= 3
    ballot = Ballot(rec.scan_model or rec.model)
    for view in views:
        assert view is not None
        ballot.add(view)
    assert ballot.total(kept) == pytest.approx(max(map(ballot.total, ballot.views)), abs=0.05)

    by_confidence = RecognizerSettings(scan_below=1.01, cross_check=False)
    with_thresholds = Recognizer.from_name(settings=by_confidence).read(scan)
    without = Recognizer.from_name(settings=RecognizerSettings(scan_thresholds=())).read(scan)
    assert with_thresholds is not None and without is not None
    plain = rec.confidence(replace(without, agreement=None, cross_logp=None))
    assert rec.confidence(replace(with_thresholds, agreement=None, cross_logp=None)) >= plain
    assert image_match(mathtext(compact_latex(with_thresholds.tokens), dpi=150), clean)


def test_a_scan_is_read_at_one_size_its_cuts_standing_for_the_other(
    mathtext: Render, scanned: Render
) -> None:
    """By default a scan is read as it is (not resized, though its symbols are far from the
    preferred size) and at its other thresholds; whether the cuts read the same stands for
    the agreement of two sizes. With ``scan_resize`` it is read resized too, as clean
    images are."""
    from scipix.recognizer import RecognizerSettings

    clean = mathtext(r"\alpha+\beta=\gamma", dpi=100)  # small symbols: resized when clean
    scan = scanned(clean)
    rec = Recognizer.from_name()
    assert rec.settings.scan_below == 1.0 and not rec.settings.scan_resize
    pre = rec.preprocessor(scan)
    assert pre.noisy
    assert rec._rescale_for(segment(pre.ink).scale, scan.shape[:2]) is not None
    one = rec._read_sizes(load_image(scan), pre)
    assert one is not None and one.scale == 1.0 and one.agreement is None
    kept = rec.read(scan)
    assert kept is not None and kept.scale == 1.0 and kept.agreement is not None
    cuts = [rec.preprocessor.rebinarized(pre, f) for f in rec.settings.scan_thresholds]
    readings = [one, *(rec.read_ink(c.ink, (c.offset_x, c.offset_y), noisy=True) for c in cuts)]
    same = len({tuple(r.decoded.tokens) for r in readings if r is not None}) == 1
    assert kept.agreement is same

    both = Recognizer.from_name(settings=RecognizerSettings(scan_resize=True))
    two = both._read_sizes(load_image(scan), pre)
    assert two is not None and two.agreement is not None  # the other size was read


def test_an_unsure_clean_image_is_also_read_at_other_thresholds(
    mathtext: Render, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A clean image whose reading is unsure (under ``clean_below``) is read again from its
    ink cut at ``clean_thresholds``; a sure one, one whose two sizes read the same, or with
    the cuts off, is not."""
    from scipix.recognizer import RecognizerSettings

    clean = mathtext(r"\frac{a+b}{c}=x^{2}", dpi=100)

    def cuts(
        settings: RecognizerSettings, agreed: bool = False
    ) -> tuple[list[float], Reading | None]:
        rec = Recognizer.from_name(settings=settings)
        seen: list[float] = []
        cut = rec.preprocessor.rebinarized
        sizes = rec._read_sizes

        def spy(pre: Preprocessed, factor: float) -> Preprocessed:
            seen.append(factor)
            return cut(pre, factor)

        def read_sizes(img: DecodedImage, pre: Preprocessed) -> Reading | None:
            reading = sizes(img, pre)
            assert reading is not None and reading.agreement is not True
            return replace(reading, agreement=True) if agreed else reading

        monkeypatch.setattr(rec.preprocessor, "rebinarized", spy)
        monkeypatch.setattr(rec, "_read_sizes", read_sizes)
        assert not rec.preprocessor(clean).noisy
        return seen, rec.read(clean)

    seen, kept = cuts(RecognizerSettings(clean_below=1.0))  # every reading is unsure
    assert seen == [0.95, 1.05] == list(RecognizerSettings().clean_thresholds)
    assert kept is not None
    assert image_match(mathtext(compact_latex(kept.tokens), dpi=100), clean)
    assert cuts(RecognizerSettings(clean_below=0.0))[0] == []  # every reading is sure
    assert cuts(RecognizerSettings(clean_below=1.0, clean_thresholds=()))[0] == []
    assert cuts(RecognizerSettings(clean_below=1.0), agreed=True)[0] == []


def test_differing_readings_are_judged_on_both_images(mathtext: Render) -> None:
    """A reading scored on its own encoding gets the log-probability it was decoded with;
    of two differing readings of the two sizes, the one likelier under both encodings is
    kept, so a wrong reading that claims to be sure loses to the right one (confidence
    alone would keep it)."""
    gray = mathtext(r"\frac{a+b}{c}=x^{2}", dpi=150)
    rec = Recognizer.from_name()
    right = rec.read(gray)
    assert right is not None and right.memory is not None and right.agreement is True
    own = rec.model.score(right.memory, right.decoded.tokens)
    assert own == pytest.approx(right.decoded.logp, abs=0.05)
    assert right.decoded.end_logp < 0.0  # the end token's own probability counts too
    # the reading of the other size (the same tokens here) holds the other image's encoding
    pre = rec.preprocessor(gray)
    if right.scale == 1.0:
        scale = rec._rescale_for(right.components.scale, gray.shape)
        assert scale is not None
        other_view = rec._read_resized(load_image(gray), scale)
    else:
        other_view = rec.read_ink(pre.ink, (pre.offset_x, pre.offset_y))
    assert other_view is not None and other_view.memory is not None
    toks = right.decoded.tokens
    wrong_tokens = [("y" if t == "x" else t) for t in toks]
    assert wrong_tokens != toks
    wrong_decoded = replace(
        other_view.decoded, tokens=wrong_tokens, probs=[0.999] * len(toks), end_logp=-1e-3
    )
    wrong = replace(other_view, tokens=wrong_tokens, decoded=wrong_decoded)
    assert rec.model.score(right.memory, wrong_tokens) < own - 2.0
    # scored from where it parts from the image's own reading: the same up to rounding
    from_own = rec.model.score(right.memory, wrong_tokens, right.decoded)
    assert from_own == pytest.approx(rec.model.score(right.memory, wrong_tokens), abs=0.5)
    right_conf = rec.confidence(right)
    assert rec.confidence(wrong) > right_conf  # it claims to be surer
    for views in ([right, wrong], [wrong, right]):
        ballot = Ballot(rec.model)
        for view in views:
            ballot.add(view)
        kept, cross = ballot.likeliest()
        assert kept is right and -0.5 < cross < 0.0 and ballot.margin() > 2.0


@pytest.mark.parametrize(("dpi", "sizes"), [(110, [1.5, 2.25]), (400, [0.75, 4 / 3])])
def test_sizes_that_disagree_closely_are_joined_by_a_third_size(
    mathtext: Render, monkeypatch: pytest.MonkeyPatch, dpi: int, sizes: list[float]
) -> None:
    """When the readings of the resized image and of the image as it is differ and neither
    is clearly likelier, the image is read a third time, at the larger size enlarged by the
    factor between the two, and the reading likeliest under all three images is kept: here
    the as-is reading is spoiled (a symbol swapped), and it is outvoted either way."""
    from scipix.recognizer import RecognizerSettings

    gray = mathtext(r"x^{2}+y^{2}=z^{2}", dpi=dpi)  # both sizes read it right
    rec = Recognizer.from_name()
    decode, resize = rec._decode, rec._read_resized
    scales: list[float] = []

    def spoiled(*args: object, **kwargs: object) -> object:
        reading = decode(*args, **kwargs)  # type: ignore[arg-type]
        if scales and scales[-1] < 0:  # inside a resized reading: left as it is
            return reading
        toks = ["y" if t == "x" else t for t in reading.decoded.tokens]
        return replace(reading, tokens=toks, decoded=replace(reading.decoded, tokens=toks))

    def resized(img: object, scale: float, draft: object = None, noisy: bool = False) -> object:
        scales.append(-scale)
        try:
            return resize(img, scale, draft, noisy)  # type: ignore[arg-type]
        finally:
            scales[-1] = scale

    from scipix.recognizer import predictor

    monkeypatch.setattr(rec, "_decode", spoiled)
    monkeypatch.setattr(rec, "_read_resized", resized)
    reading = rec.read(gray)  # the spoiled reading is far less likely: no third size needed
    assert reading is not None and reading.agreement is False and scales == sizes[:1]
    assert " ".join(reading.tokens) == "x ^ { 2 } + y ^ { 2 } = z ^ { 2 }"

    monkeypatch.setattr(predictor, "THIRD_SIZE_MARGIN", math.inf)  # a close call
    scales.clear()
    reading = rec.read(gray)
    assert reading is not None and reading.agreement is False
    # the preferred size, then the larger size enlarged by the factor between the two
    assert scales == pytest.approx(sizes)
    assert " ".join(reading.tokens) == "x ^ { 2 } + y ^ { 2 } = z ^ { 2 }"
    assert reading.cross_logp is not None and reading.cross_logp > -1.0

    two = Recognizer.from_name(settings=RecognizerSettings(third_size=False))
    monkeypatch.setattr(two, "_decode", spoiled)
    monkeypatch.setattr(two, "_read_resized", resized)
    scales.clear()
    assert two.read(gray) is not None and scales == sizes[:1]


def test_scans_are_read_by_the_scan_model_and_clean_images_by_the_main_one(
    mathtext: Render, scanned: Render, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shipped model has a scan companion (fine-tuned on degraded scans): every
    encoding of an image preprocessing takes for a scan (its cuts' too) is the companion's,
    every encoding of a clean render the main model's. ``scan_model=False`` leaves it out,
    and the cache fingerprint tells the two apart."""
    config = MODELS["symbolseq-v5"]
    assert config.scans is not None and config.scans in MODELS
    rec = Recognizer.from_name()
    assert rec.scan_model is not None and rec.scan_model is not rec.model
    calls = {"main": 0, "scan": 0}
    for key, model in (("main", rec.model), ("scan", rec.scan_model)):

        def counted(*args: object, _key: str = key, _run: Callable = model.encode) -> object:
            calls[_key] += 1
            return _run(*args)

        monkeypatch.setattr(model, "encode", counted)
    clean = mathtext(r"\frac{a+b}{c}=x^{2}", dpi=150)
    assert rec.read(clean) is not None
    assert calls["main"] >= 1 and calls["scan"] == 0
    calls.update(main=0, scan=0)
    scan = scanned(clean)
    assert rec.preprocessor(scan).noisy
    kept = rec.read(scan)
    assert kept is not None and image_match(mathtext(compact_latex(kept.tokens), dpi=150), clean)
    assert calls["main"] == 0 and calls["scan"] == 1 + len(rec.settings.scan_thresholds)

    without = Recognizer.from_name(scan_model=False)
    assert without.scan_model is None and without.config.scans is None
    assert without.config.fingerprint() != rec.config.fingerprint()
