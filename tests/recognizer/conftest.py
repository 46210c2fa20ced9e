"""Formula images rendered in the tests with matplotlib mathtext (no TeX needed)."""

from __future__ import annotations

import importlib.util
import io
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image


def render_mathtext(latex: str, dpi: int = 150, fontset: str = "cm") -> NDArray[np.uint8]:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import mathtext, rcParams

    buf = io.BytesIO()
    with matplotlib.rc_context({"mathtext.fontset": fontset}):
        mathtext.math_to_image(f"${latex}$", buf, dpi=dpi, format="png")
    del rcParams
    buf.seek(0)
    gray = np.asarray(Image.open(buf).convert("L"), dtype=np.uint8)
    return np.pad(gray, 10, constant_values=255)


@pytest.fixture
def mathtext() -> Callable[..., NDArray[np.uint8]]:
    return render_mathtext


def make_scanned(gray: NDArray[np.uint8], seed: int = 3) -> NDArray[np.uint8]:
    """A render made to look scanned: grey paper and grain."""
    rng = np.random.default_rng(seed)
    noisy = gray.astype(np.float32) * 0.8 + 30 + rng.normal(0, 6, gray.shape)
    return np.asarray(np.clip(noisy, 0, 255), dtype=np.uint8)


@pytest.fixture
def scanned() -> Callable[..., NDArray[np.uint8]]:
    return make_scanned


def training_module(name: str) -> ModuleType:
    """A script of training/ imported by path (training/ is not a package)."""
    path = Path(__file__).resolve().parents[2] / "training" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"scipix_training_{name}", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture
def training() -> Callable[[str], ModuleType]:
    return training_module
