"""Each recognizer model's settings in one typed config, and the registry of shipped models."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from pathlib import Path

from scipix.recognizer.model import ModelFiles
from scipix.recognizer.spacing import SpacingTable

MODELS_DIR = Path(__file__).resolve().parent.parent / "models"


@dataclass(frozen=True, slots=True)
class ModelConfig:
    """Everything needed to load and run one recognizer model.

    ``calibration`` holds logistic-regression weights over the confidence features
    (mean token log-probability, min token log-probability, log length, finished, valid,
    tokens under probability 0.5, tokens under 0.9, a symbol read twice from one component,
    the image's reading at its other size agreeing, disagreeing, the mean log-probability of
    the tokens read from the image at its other size, the share of its gaps unlike TeX's)
    and a bias, fitted by
    ``training/calibrate.py`` on formulas outside the benchmark.
    """

    name: str
    encoder: str
    decoder: str
    vocab: str
    sha256: tuple[str, str, str]  # encoder, decoder, vocab
    ngrams: str | None = None  # predictable tokens (training/ngrams.py): faster greedy decoding
    ngrams_sha256: str = ""
    # symbol heights and natural gaps in em (training/spacing.py): explicit spaces from gaps
    spacing: str | None = None
    spacing_sha256: str = ""
    # the registered model that reads scans and photos (Recognizer's scan_model), if any
    scans: str | None = None
    crop_size: int = 24
    max_components: int = 256
    max_tokens: int = 200
    beam_width: int = 1
    calibration: tuple[float, ...] = (
        3.0,
        0.6,
        0.0,
        2.0,
        1.0,
        0.0,
        0.0,
        -2.0,
        1.0,
        -1.0,
        0.0,
        0.0,
        1.0,
    )

    def fingerprint(self) -> str:
        """Changes whenever the model could answer differently (weights, decoding, calibration)."""
        blob = json.dumps(
            [
                self.name,
                self.sha256,
                self.ngrams_sha256,
                self.spacing_sha256,
                self.beam_width,
                self.max_tokens,
                self.calibration,
                MODELS[self.scans].fingerprint() if self.scans in MODELS else self.scans,
            ]
        )
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def spacing_table(self, model_dir: Path | None = None) -> SpacingTable | None:
        """The spacing table (checked against its SHA-256), or None when the model has none."""
        if self.spacing is None:
            return None
        return SpacingTable.load((model_dir or MODELS_DIR) / self.spacing, self.spacing_sha256)

    def files(self, model_dir: Path | None = None) -> ModelFiles:
        d = model_dir or MODELS_DIR
        ngrams = None if self.ngrams is None else d / self.ngrams
        return ModelFiles(
            d / self.encoder,
            d / self.decoder,
            d / self.vocab,
            self.sha256,
            ngrams,
            self.ngrams_sha256,
        )


# training/README.md, step 10: v4 continued on a GPU over new renders, two runs averaged
_V5 = ModelConfig(
    name="symbolseq-v5",
    scans="symbolseq-v5-scan",
    encoder="symbolseq-v5-encoder.onnx",
    decoder="symbolseq-v5-decoder.onnx",
    vocab="symbolseq-v5-vocab.json",
    sha256=(
        "cc86ac8bf0bd3d117aa98050c5097226ba5d59cfe3c64f8b5a1b0c7e7a8008b2",
        "a69bf429b17cd8bae95fb9602d8e824e5559369c602ed9fefad617150a589fd0",
        "620a662aa314fee12844f42ef291110426730eedc7c7c44c983fdb3d13baef2a",
    ),
    # python training/ngrams.py --data training/.cache/pk21_tex training/.cache/pk21_syn
    # training/.cache/pk21_m1 training/.cache/pk21_m2 --vocab ... (v5's training
    # formulas): 8,931 contexts of 1-2 tokens
    ngrams="symbolseq-v5-ngrams.json",
    ngrams_sha256="8d3bf5d297218122e619dd68d596cea36f6b5d9f0832d6a0c81d7ef63a231ece",
    # python training/spacing.py --out ...: 3,000 training formulas at 100 / 150 / 300 dpi
    # (v2 since stop 20: inner atoms of \left...\right, unary operators after scripts,
    # heights of base-size symbols only)
    spacing="spacing-v2.json",
    spacing_sha256="5ff4e3a16a1dd2cb609fc4086b226d18fb3bb7c7f9435858f9689d3866d444f9",
    # training/calibrate.py --skip 184646 --n 1000 --all-dpis: n=2946, AUROC 0.860 -> 0.878
    # (v2); the stutter weight (-1.7162) from the same refit for v3, whose other weights
    # (AUROC 0.856 -> 0.859) were not taken, so unstuttered readings keep their confidence;
    # kept for v4 (AUROC 0.846 with them, 0.847 refitted); stop 17 reads both sizes and
    # added the agree / disagree weights and the bias, fitted with the others held
    # (--save, 2,946 readings: AUROC 0.857 -> 0.865; a full refit gave 0.866 there but
    # 0.852 vs 0.853 on im2latex and 0.912 vs 0.918 on the textbook set)
    # stop 18 keeps the likelier of two differing readings under both images and added
    # the mean log-probability of the kept tokens under the other image: its weight, a
    # common scale (x0.7664) for the others and the bias fitted with their ratios held
    # (--save, 2,946 readings: AUROC 0.861 -> 0.863; a full refit gave 0.866 there but
    # 0.845 vs 0.850 on im2latex and 0.909 vs 0.922 on the textbook set, 150 dpi)
    # stop 20 added the share of the kept reading's gaps unlike TeX's: its weight, a
    # common scale (x0.9130) for the others and the bias fitted with their ratios held
    # (--save, 2,946 readings: AUROC 0.856 -> 0.871; a full refit gave 0.874 there)
    calibration=(
        6.3358,
        1.1306,
        -0.3918,
        -0.0531,
        1.7828,
        -0.0761,
        -0.1213,
        -1.2009,
        0.1500,
        -0.3512,
        2.3055,
        -8.2666,
        2.8350,
    ),
)


MODELS: dict[str, ModelConfig] = {
    "symbolseq-v5": _V5,
    # training/README.md, steps 11-12: v5 fine-tuned on this CPU over 62,676 degraded scans
    # (on grey and on white paper), then over those and 8,000 scanned synthetic formulas,
    # then over 62,770 scans of other formulas and 16,000 scanned synthetic ones; reads the
    # images preprocessing takes for scans or photos (v5's ``scans``). v5's vocabulary,
    # n-grams, spacing table and calibration.
    "symbolseq-v5-scan": replace(
        _V5,
        name="symbolseq-v5-scan",
        encoder="symbolseq-v5-scan-encoder.onnx",
        decoder="symbolseq-v5-scan-decoder.onnx",
        sha256=(
            "12121b2bf0313943390a5eb83f384278d403634b02f9c26b8e622437d9fcb231",
            "6adc0c4fe3551f3d23fedea46fcee1a2478fa164b0eec6933afff66d6798cfc0",
            _V5.sha256[2],
        ),
        scans=None,
    ),
}
