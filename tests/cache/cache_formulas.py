"""Real rendered formula images for the cache tests (matplotlib mathtext, no TeX needed)."""

from __future__ import annotations

import io
from functools import lru_cache

import matplotlib
import numpy as np
from matplotlib import mathtext
from matplotlib.font_manager import FontProperties
from PIL import Image

from scipix.io import DecodedImage, decode_bytes

# Distinct formulas for hit tests (each renders fine in mathtext).
FORMULAS: tuple[str, ...] = (
    r"x^2",
    r"E = mc^2",
    r"\frac{a+b}{c}",
    r"\sqrt{x^2+y^2}",
    r"\sum_{i=1}^{n} i^2 = \frac{n(n+1)(2n+1)}{6}",
    r"\int_0^1 f(x)\,dx",
    r"e^{i\pi} + 1 = 0",
    r"\alpha\beta\gamma",
    r"\left(\genfrac{}{}{0}{}{1\quad 2}{3\quad 4}\right)",
    r"a_{ij} = b_{ji}",
    r"\lim_{x \to 0} \frac{\sin x}{x} = 1",
    r"f(x) = ax^2 + bx + c",
)

# Pairs that differ in exactly one symbol (or one sub/superscript placement). None may hit.
NEAR_MISSES: tuple[tuple[str, str], ...] = (
    (r"x^2", r"x^3"),
    (r"x^2", r"x_2"),
    (r"a+b", r"a-b"),
    (r"a_i", r"a_j"),
    (r"i", r"j"),
    (r"\alpha", r"a"),
    (r"\alpha + \beta", r"a + \beta"),
    (r"x^{n+1}", r"x^{n-1}"),
    (r"e^{i\pi}", r"e^{j\pi}"),
    (r"\frac{a}{b}", r"\frac{a}{d}"),
    (r"\frac{1}{2}", r"\frac{1}{3}"),
    (r"\sqrt{x}", r"\sqrt{y}"),
    (r"\sum_{i=1}^{n} x_i", r"\sum_{i=0}^{n} x_i"),
    (r"\int_0^1 f(x)\,dx", r"\int_0^2 f(x)\,dx"),
    (r"f(x) = x^2", r"f(x) = x^3"),
    (r"x_i^2", r"x_2^i"),
    (r"a_n^k", r"a_k^n"),
    (r"\sin x", r"\cos x"),
    (r"x < y", r"x > y"),
    (r"x \leq y", r"x < y"),
    (r"a = b", r"a \neq b"),
    (r"\mu", r"u"),
    (r"\nu", r"v"),
    (r"p", r"\rho"),
    (r"\omega", r"w"),
    (r"\pi r^2", r"\pi r^3"),
    (r"E = mc^2", r"E = mc^3"),
    (r"a^2 + b^2 = c^2", r"a^2 + b^2 = c^3"),
    (r"(x+1)^2", r"(x-1)^2"),
    (r"\Delta x", r"\nabla x"),
    (r"x \cdot y", r"x \times y"),
    (r"2x + 3", r"2x + 8"),
    (r"x'", r"x''"),
    (r"\hat{x}", r"\bar{x}"),
    (r"\vec{v}", r"\hat{v}"),
    (r"x_{12}", r"x_{13}"),
    (r"\phi", r"\varphi"),
    (r"\theta", r"\vartheta"),
    (r"a \in B", r"a \ni B"),
    (r"A \subset B", r"A \supset B"),
    (r"b", r"d"),
    (r"p", r"q"),
    (r"6", r"9"),
    (r"n", r"u"),
    (r"\log_2 x", r"\log_3 x"),
    (r"x^2 y", r"x y^2"),
    (r"a_{ij}", r"a_{ji}"),
    (r"[0, 1]", r"[0, 1)"),
    (r"a + b + c", r"a + b - c"),
    (r"\lim_{x \to 0} f(x)", r"\lim_{x \to 1} f(x)"),
    (
        r"\left(\genfrac{}{}{0}{}{1\quad 2}{3\quad 4}\right)",
        r"\left(\genfrac{}{}{0}{}{1\quad 2}{3\quad 5}\right)",
    ),
    (
        r"\left(\genfrac{}{}{0}{}{a\quad b}{c\quad d}\right)",
        r"\left(\genfrac{}{}{0}{}{a\quad b}{c\quad e}\right)",
    ),
    (
        r"\left[\genfrac{}{}{0}{}{x\quad 0}{0\quad y}\right]",
        r"\left[\genfrac{}{}{0}{}{x\quad 0}{0\quad z}\right]",
    ),
    (
        r"\sum_{i=1}^{n} i^2 = \frac{n(n+1)(2n+1)}{6}",
        r"\sum_{i=1}^{n} i^2 = \frac{n(n+1)(2n+1)}{5}",
    ),
    (
        r"\sum_{i=1}^{n} i^2 = \frac{n(n+1)(2n+1)}{6}",
        r"\sum_{j=1}^{n} i^2 = \frac{n(n+1)(2n+1)}{6}",
    ),
    (r"f(x) = ax^2 + bx + c", r"f(x) = ax^2 + bx - c"),
    (r"f(x) = ax^2 + bx + c", r"f(x) = ax^3 + bx + c"),
    (
        r"\frac{\partial u}{\partial t} = \alpha \nabla^2 u",
        r"\frac{\partial u}{\partial t} = a \nabla^2 u",
    ),
    (r"\int_a^b f(x)\,dx = F(b) - F(a)", r"\int_a^b f(x)\,dx = F(b) + F(a)"),
    (r"x_1 + x_2 + x_3", r"x_1 + x_2 + x^3"),
    (r"\alpha_i \beta_j", r"\alpha_j \beta_j"),
    (r"10", r"16"),
)


@lru_cache(maxsize=1024)
def render_png(tex: str, dpi: int = 200, size: float = 14.0, fontset: str = "dejavusans") -> bytes:
    """Render ``$tex$`` to PNG bytes (black on white) with a mathtext font set."""
    buf = io.BytesIO()
    with matplotlib.rc_context({"mathtext.fontset": fontset}):
        mathtext.math_to_image(
            f"${tex}$", buf, dpi=dpi, format="png", prop=FontProperties(size=size)
        )
    return buf.getvalue()


def to_pil(png: bytes, pad: int = 30, ink: int = 0, paper: int = 255) -> Image.Image:
    """Flatten onto a plain background with ``pad`` px of margin; ink/paper grey levels."""
    rgba = Image.open(io.BytesIO(png)).convert("RGBA")
    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    gray = np.asarray(Image.alpha_composite(white, rgba).convert("L"), dtype=np.float32)
    alpha = 1.0 - gray / 255.0
    h, w = alpha.shape
    canvas = np.full((h + 2 * pad, w + 2 * pad), float(paper), np.float32)
    canvas[pad : pad + h, pad : pad + w] = paper + (ink - paper) * alpha
    return Image.fromarray(np.clip(canvas + 0.5, 0, 255).astype(np.uint8), mode="L")


def encode(img: Image.Image, fmt: str = "PNG", quality: int = 75) -> bytes:
    buf = io.BytesIO()
    if fmt == "JPEG":
        img.convert("RGB").save(buf, format="JPEG", quality=quality)
    else:
        img.save(buf, format=fmt)
    return buf.getvalue()


def scaled(img: Image.Image, factor: float) -> Image.Image:
    w, h = img.size
    return img.resize((round(w * factor), round(h * factor)), Image.Resampling.BICUBIC)


def decoded(tex: str, dpi: int = 200, fontset: str = "dejavusans") -> DecodedImage:
    """The plain rendering of ``tex`` (PNG, 30 px padding) as a DecodedImage."""
    return decode_bytes(encode(to_pil(render_png(tex, dpi, fontset=fontset))))


SCALED = ("scale0.8", "scale0.9", "scale1.1", "scale1.25", "jpeg-scale0.8")


def variants(tex: str, dpi: int = 200, fontset: str = "dejavusans") -> dict[str, DecodedImage]:
    """Re-encodings of one rendering that must all hit the cached original."""
    png = render_png(tex, dpi, fontset=fontset)
    base = to_pil(png)
    out = {
        "jpeg75": encode(base, "JPEG", 75),
        "pad10": encode(to_pil(png, pad=10)),
        "pad50": encode(to_pil(png, pad=50)),
        "scale0.8": encode(scaled(base, 0.8)),
        "scale0.9": encode(scaled(base, 0.9)),
        "scale1.1": encode(scaled(base, 1.1)),
        "scale1.25": encode(scaled(base, 1.25)),
        "dark-paper": encode(to_pil(png, ink=40, paper=200)),
        "bright-ink": encode(to_pil(png, ink=90, paper=255)),
        "inverted": encode(to_pil(png, ink=255, paper=0)),
        "jpeg-scale0.8": encode(scaled(base, 0.8), "JPEG", 75),
    }
    return {name: decode_bytes(data) for name, data in out.items()}
