"""Each recognizer model's settings in one typed config, and the registry of shipped models."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

MODELS_DIR = Path(__file__).resolve().parent.parent / "models"


@dataclass(frozen=True, slots=True)
class ModelConfig:
    """Everything needed to load and run one recognizer model.

    ``calibration`` holds logistic-regression weights over the confidence features
    (mean token log-probability, min token log-probability, log length, finished, valid) and
    a bias, fitted by ``training/calibrate.py`` on formulas outside the benchmark.
    """

    name: str
    weights: str
    sha256: str
    crop_size: int = 24
    max_components: int = 256
    max_tokens: int = 200
    beam_width: int = 1
    calibration: tuple[float, ...] = field(default=(3.0, 0.6, 0.0, 2.0, 1.0, 1.0))

    def weights_path(self, model_dir: Path | None = None) -> Path:
        return (model_dir or MODELS_DIR) / self.weights


MODELS: dict[str, ModelConfig] = {
    "symbolseq-v1": ModelConfig(
        name="symbolseq-v1",
        weights="symbolseq-v1.npz",
        sha256="PENDING",
    ),
}
