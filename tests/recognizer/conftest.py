"""Formula images rendered in the tests with matplotlib mathtext (no TeX needed)."""

from __future__ import annotations

import io
from collections.abc import Callable

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
