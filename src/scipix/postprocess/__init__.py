"""LaTeX postprocessing: token sequences to compact, balanced, validated LaTeX."""

from scipix.postprocess.latex import (
    LatexCheck,
    check_latex,
    compact_latex,
    normalize_functions,
    repair_latex,
    strip_outer_braces,
    tokenize_latex,
)

__all__ = [
    "LatexCheck",
    "check_latex",
    "compact_latex",
    "normalize_functions",
    "repair_latex",
    "strip_outer_braces",
    "tokenize_latex",
]
