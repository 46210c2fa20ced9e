"""Render display formulas with real TeX (latex + dvipng), many formulas per TeX run.

Each formula goes on its own page of one document; formulas that fail to compile are
reported per formula (``None`` in the result) so callers can skip and count them.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from scipix.errors import ScipixError

PREAMBLE = r"""\documentclass[{size}pt]{{article}}
\usepackage{{amsmath,amssymb,bm}}
\pagestyle{{empty}}
\setlength{{\textwidth}}{{60cm}}\setlength{{\textheight}}{{60cm}}
\setlength{{\parindent}}{{0pt}}
\begin{{document}}
"""

_ERROR_LINE = re.compile(r"^l\.(\d+)", re.MULTILINE)
_FORBIDDEN = re.compile(
    r"\\(input|include|write|openout|openin|immediate|special|csname|catcode|def|edef|gdef|"
    r"let|newcommand|renewcommand|usepackage|documentclass|end\s*\{\s*document)"
)


def tex_available() -> bool:
    return shutil.which("latex") is not None and shutil.which("dvipng") is not None


class TexRenderer:
    """Renders formulas in display style at a given dpi; grayscale uint8 arrays, ink dark."""

    def __init__(self, *, font_size: int = 12, timeout_s: float = 120.0) -> None:
        if not tex_available():
            raise ScipixError(
                "latex and dvipng are needed to render LaTeX (apt-get install "
                "texlive-latex-base texlive-latex-recommended "
                "texlive-fonts-recommended dvipng)"
            )
        self.font_size = font_size
        self.timeout_s = timeout_s

    def render(self, formulas: Sequence[str], dpi: int = 150) -> list[NDArray[np.uint8] | None]:
        """Render every formula; failed ones come back as None."""
        out: list[NDArray[np.uint8] | None] = [None] * len(formulas)
        todo = [i for i, f in enumerate(formulas) if f.strip() and not _FORBIDDEN.search(f)]
        for _ in range(3):  # retry the formulas that shared a run with a failing one
            if not todo:
                break
            done, failed = self._render_batch([formulas[i] for i in todo], dpi)
            for k, img in done.items():
                out[todo[k]] = img
            if not failed or len(failed) == len(todo):
                break
            todo = [todo[k] for k in range(len(todo)) if k not in done and k not in failed]
        return out

    def _render_batch(
        self, formulas: Sequence[str], dpi: int
    ) -> tuple[dict[int, NDArray[np.uint8]], set[int]]:
        with tempfile.TemporaryDirectory(prefix="scipix-tex-") as tmp:
            d = Path(tmp)
            first_line = PREAMBLE.format(size=self.font_size).count("\n") + 1
            lines = [PREAMBLE.format(size=self.font_size)]
            for f in formulas:
                flat = " ".join(f.split())
                lines.append(f"$\\displaystyle {flat}$\\newpage\n")
            lines.append("\\end{document}\n")
            (d / "f.tex").write_text("".join(lines), encoding="utf-8")
            try:
                proc = subprocess.run(
                    ["latex", "-interaction=nonstopmode", "-halt-on-error=false", "f.tex"],
                    cwd=d,
                    capture_output=True,
                    text=True,
                    timeout=self.timeout_s,
                    errors="replace",
                )
            except subprocess.TimeoutExpired:
                return {}, set(range(len(formulas)))
            failed = {
                int(m.group(1)) - first_line
                for m in _ERROR_LINE.finditer(proc.stdout)
                if 0 <= int(m.group(1)) - first_line < len(formulas)
            }
            dvi = d / "f.dvi"
            if not dvi.exists():
                return {}, set(range(len(formulas)))
            subprocess.run(
                [
                    "dvipng",
                    "-q",
                    "-T",
                    "tight",
                    "-D",
                    str(dpi),
                    "-bg",
                    "White",
                    "-fg",
                    "Black",
                    "-o",
                    "p%06d.png",
                    "f.dvi",
                ],
                cwd=d,
                capture_output=True,
                timeout=self.timeout_s,
                check=False,
            )
            pages = sorted(d.glob("p*.png"))
            if len(pages) != len(formulas):
                # a formula shipped no page or several: bisect to find it
                return self._bisect(formulas, dpi)
            done: dict[int, NDArray[np.uint8]] = {}
            for k, p in enumerate(pages):
                if k in failed:
                    continue
                with Image.open(p) as im:
                    done[k] = np.asarray(im.convert("L"), dtype=np.uint8).copy()
            return done, failed

    def _bisect(
        self, formulas: Sequence[str], dpi: int
    ) -> tuple[dict[int, NDArray[np.uint8]], set[int]]:
        if len(formulas) == 1:
            return {}, {0}
        half = len(formulas) // 2
        d1, f1 = self._render_batch(formulas[:half], dpi)
        d2, f2 = self._render_batch(formulas[half:], dpi)
        done = dict(d1)
        done.update({k + half: v for k, v in d2.items()})
        return done, f1 | {k + half for k in f2}
