"""LaTeX postprocessing: token sequences to compact, balanced, validated LaTeX."""

from scipix.postprocess.latex import (
    LatexCheck,
    check_latex,
    compact_latex,
    normalize_functions,
    repair_latex,
    separate_double_scripts,
    strip_outer_braces,
    tokenize_latex,
    widen_array_columns,
)

__all__ = [
    "LatexCheck",
    "check_latex",
    "compact_latex",
    "normalize_functions",
    "repair_latex",
    "separate_double_scripts",
    "strip_outer_braces",
    "tokenize_latex",
    "widen_array_columns",
]
