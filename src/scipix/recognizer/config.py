"""Each recognizer model's settings in one typed config, and the registry of shipped models."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from scipix.recognizer.model import ModelFiles

MODELS_DIR = Path(__file__).resolve().parent.parent / "models"


@dataclass(frozen=True, slots=True)
class ModelConfig:
    """Everything needed to load and run one recognizer model.

    ``calibration`` holds logistic-regression weights over the confidence features
    (mean token log-probability, min token log-probability, log length, finished, valid) and
    a bias, fitted by ``training/calibrate.py`` on formulas outside the benchmark.
    """

    name: str
    encoder: str
    decoder: str
    vocab: str
    sha256: tuple[str, str, str]  # encoder, decoder, vocab
    crop_size: int = 24
    max_components: int = 256
    max_tokens: int = 200
    beam_width: int = 1
    calibration: tuple[float, ...] = (3.0, 0.6, 0.0, 2.0, 1.0, 1.0)

    def files(self, model_dir: Path | None = None) -> ModelFiles:
        d = model_dir or MODELS_DIR
        return ModelFiles(d / self.encoder, d / self.decoder, d / self.vocab, self.sha256)


MODELS: dict[str, ModelConfig] = {
    "symbolseq-v1": ModelConfig(
        name="symbolseq-v1",
        encoder="symbolseq-v1-encoder.onnx",
        decoder="symbolseq-v1-decoder.onnx",
        vocab="symbolseq-v1-vocab.json",
        sha256=(
            "2d5a38b1e48d9c8c023330af59ad9c27429ad7be68042fb3322a4e3177bf35e0",
            "720e509cbde6147e84c58294c9db854ef20403ab7be298089dfc5e1650a94f88",
            "620a662aa314fee12844f42ef291110426730eedc7c7c44c983fdb3d13baef2a",
        ),
        # training/calibrate.py --skip 130000 --n 900: n=875, AUROC 0.876 -> 0.883
        calibration=(2.0054, 3.3921, -0.6433, 0.7501, 0.7728, 3.3665),
    ),
}
