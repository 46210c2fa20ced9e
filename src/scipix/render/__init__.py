"""Rendering LaTeX to images (needs a TeX installation); used by benchmarks and training."""

from scipix.render.tex import TexRenderer, tex_available

__all__ = ["TexRenderer", "tex_available"]
