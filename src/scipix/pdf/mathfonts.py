"""Which LaTeX symbol a PDF glyph is, from its character and its font.

TeX's fonts say what each glyph means: CMMI letters are math italic, CMR letters are upright
(``\\mathrm``, operator names), MSBM letters are blackboard bold, CMSY capitals calligraphic,
EUFM letters fraktur. PDFium reports most glyphs as Unicode; glyphs of the extension font
(CMEX: big operators, big delimiters, radicals, wide accents) whose names Unicode lacks come
back as their font code, which :data:`CMEX_CODES` reads (the code table of ``cmex10.afm``).
Latin Modern fonts are read like their Computer Modern originals.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from scipix.pdf.layout import base_font

# the TeX atom class of a symbol, plus the roles the glyph parser gives special treatment
SymClass = Literal[
    "ord",
    "bin",
    "rel",
    "open",
    "close",
    "punct",
    "bigop",  # sum, integral, ... (limits above/below in display style)
    "radical",  # the radical sign; its overbar is a rule
    "accent",  # an accent over the symbol below it
    "prime",
    "not",  # the negation slash laid over the next relation
    "piece",  # part of an extensible delimiter
    "letter",  # an upright letter: joined into \mathrm{...} or an operator name
    "bracetip",  # an end or the middle of a horizontal brace (\overbrace, \underbrace)
]


@dataclass(frozen=True, slots=True)
class Sym:
    latex: str
    cls: SymClass
    style: str = ""  # a font command to wrap the symbol in: mathbb, mathcal, mathbf, ...
    big: str = ""  # a fixed-size delimiter's size command: big, Big, bigg or Bigg


# cmex10 font codes (cmex10.afm): big delimiters, big operators, radicals, wide accents
_CMEX_DELIMS: dict[str, tuple[int, ...]] = {
    "(": (0x00, 0x10, 0x12, 0x20),
    ")": (0x01, 0x11, 0x13, 0x21),
    "[": (0x02, 0x68, 0x14, 0x22),
    "]": (0x03, 0x69, 0x15, 0x23),
    "\\lfloor": (0x04, 0x6A, 0x16, 0x24),
    "\\rfloor": (0x05, 0x6B, 0x17, 0x25),
    "\\lceil": (0x06, 0x6C, 0x18, 0x26),
    "\\rceil": (0x07, 0x6D, 0x19, 0x27),
    "\\{": (0x08, 0x6E, 0x1A, 0x28),
    "\\}": (0x09, 0x6F, 0x1B, 0x29),
    "\\langle": (0x0A, 0x44, 0x1C, 0x2A),
    "\\rangle": (0x0B, 0x45, 0x1D, 0x2B),
    "/": (0x0E, 0x2E, 0x1E, 0x2C),
    "\\backslash": (0x0F, 0x2F, 0x1F, 0x2D),
}
_CLOSING = {")", "]", "\\rfloor", "\\rceil", "\\}", "\\rangle"}
_CMEX_OPS = {
    0x46: "\\bigsqcup",
    0x48: "\\oint",
    0x4A: "\\bigodot",
    0x4C: "\\bigoplus",
    0x4E: "\\bigotimes",
    0x50: "\\sum",
    0x51: "\\prod",
    0x52: "\\int",
    0x53: "\\bigcup",
    0x54: "\\bigcap",
    0x55: "\\biguplus",
    0x56: "\\bigwedge",
    0x57: "\\bigvee",
    0x60: "\\coprod",
}
CMEX_CODES: dict[int, Sym] = {}
for _latex, _codes in _CMEX_DELIMS.items():
    for _code, _big in zip(_codes, ("big", "Big", "bigg", "Bigg"), strict=True):
        CMEX_CODES[_code] = Sym(_latex, "close" if _latex in _CLOSING else "open", big=_big)
for _code, _latex in _CMEX_OPS.items():
    CMEX_CODES[_code] = Sym(_latex, "bigop")  # text size
    CMEX_CODES[_code + 8 if 0x50 <= _code <= 0x57 else _code + 1] = Sym(_latex, "bigop")
for _code in (0x70, 0x71, 0x72, 0x73):
    CMEX_CODES[_code] = Sym("\\sqrt", "radical")
for _code in (0x74, 0x75, 0x76):  # bottom, vertical and top pieces of a tall radical
    CMEX_CODES[_code] = Sym("\\sqrt", "piece")
for _code in (0x62, 0x63, 0x64):
    CMEX_CODES[_code] = Sym("\\widehat", "accent")
for _code in (0x65, 0x66, 0x67):
    CMEX_CODES[_code] = Sym("\\widetilde", "accent")
CMEX_CODES[0x0C] = Sym("|", "piece")
CMEX_CODES[0x0D] = Sym("\\|", "piece")
# extensible pieces: top, middle, bottom and repeat parts of big delimiters (by font code)
_PIECES = {
    "(": (0x30, 0x40, 0x42),
    ")": (0x31, 0x41, 0x43),
    "[": (0x32, 0x34, 0x36),
    "]": (0x33, 0x35, 0x37),
    "\\{": (0x38, 0x3A, 0x3C, 0x3E),
    "\\}": (0x39, 0x3B, 0x3D),
}
for _latex, _codes in _PIECES.items():
    for _code in _codes:
        CMEX_CODES[_code] = Sym(_latex, "piece")
CMEX_CODES[0x3F] = Sym("|", "piece")
for _code in (0x7A, 0x7B, 0x7C, 0x7D):  # brace tips: down-left, down-right, up-left, up-right
    CMEX_CODES[_code] = Sym("\\brace", "bracetip")
CMEX_CODES[0x77] = Sym("\\|", "piece")
# the same pieces when PDFium maps their Adobe glyph names to private-use code points
_PUA_PIECES = {
    "(": "\uf8eb\uf8ec\uf8ed",
    ")": "\uf8f6\uf8f7\uf8f8",
    "[": "\uf8ee\uf8ef\uf8f0",
    "]": "\uf8f9\uf8fa\uf8fb",
    "\\{": "\uf8f1\uf8f2\uf8f3\uf8f4",
    "\\}": "\uf8fc\uf8fd\uf8fe",
}

# Unicode -> LaTeX for symbols whose meaning does not depend on the font
_GREEK = {
    "α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ϵ": "epsilon", "ε": "varepsilon",
    "ζ": "zeta", "η": "eta", "θ": "theta", "ϑ": "vartheta", "ι": "iota", "κ": "kappa",
    "λ": "lambda", "μ": "mu", "µ": "mu", "ν": "nu", "ξ": "xi", "π": "pi", "ϖ": "varpi",
    "ρ": "rho", "ϱ": "varrho", "σ": "sigma", "ς": "varsigma", "τ": "tau", "υ": "upsilon",
    "ϕ": "phi", "φ": "varphi", "χ": "chi", "ψ": "psi", "ω": "omega", "Γ": "Gamma",
    "Δ": "Delta", "∆": "Delta", "Θ": "Theta", "Λ": "Lambda", "Ξ": "Xi", "Π": "Pi",
    "Σ": "Sigma", "Υ": "Upsilon", "Φ": "Phi", "Ψ": "Psi", "Ω": "Omega", "\u2126": "Omega",
}  # fmt: skip
_SYMBOLS: dict[str, tuple[str, SymClass]] = {
    "+": ("+", "bin"), "−": ("-", "bin"), "-": ("-", "bin"), "±": ("\\pm", "bin"),
    "∓": ("\\mp", "bin"), "×": ("\\times", "bin"), "÷": ("\\div", "bin"),
    "·": ("\\cdot", "bin"), "⋅": ("\\cdot", "bin"), "∗": ("\\ast", "bin"), "◦": ("\\circ", "bin"),
    "∘": ("\\circ", "bin"), "•": ("\\bullet", "bin"), "∩": ("\\cap", "bin"),
    "∪": ("\\cup", "bin"), "⊎": ("\\uplus", "bin"), "⊓": ("\\sqcap", "bin"),
    "⊔": ("\\sqcup", "bin"), "∧": ("\\wedge", "bin"), "∨": ("\\vee", "bin"),
    "⊕": ("\\oplus", "bin"), "⊖": ("\\ominus", "bin"), "⊗": ("\\otimes", "bin"),
    "⊘": ("\\oslash", "bin"), "⊙": ("\\odot", "bin"), "†": ("\\dagger", "bin"),
    "‡": ("\\ddagger", "bin"), "⋆": ("\\star", "bin"), "\\": ("\\setminus", "bin"),
    "∖": ("\\setminus", "bin"), "≀": ("\\wr", "bin"), "△": ("\\triangle", "ord"),
    "=": ("=", "rel"), "<": ("<", "rel"), ">": (">", "rel"), "≤": ("\\leq", "rel"),
    "≥": ("\\geq", "rel"), "≠": ("\\neq", "rel"), "≡": ("\\equiv", "rel"),
    "∼": ("\\sim", "rel"), "≃": ("\\simeq", "rel"), "≈": ("\\approx", "rel"),
    "≅": ("\\cong", "rel"), "≍": ("\\asymp", "rel"), "∝": ("\\propto", "rel"),
    "≺": ("\\prec", "rel"), "≻": ("\\succ", "rel"), "⪯": ("\\preceq", "rel"),
    "⪰": ("\\succeq", "rel"), "≪": ("\\ll", "rel"), "≫": ("\\gg", "rel"),
    "⊂": ("\\subset", "rel"), "⊃": ("\\supset", "rel"), "⊆": ("\\subseteq", "rel"),
    "⊇": ("\\supseteq", "rel"), "⊑": ("\\sqsubseteq", "rel"), "⊒": ("\\sqsupseteq", "rel"),
    "∈": ("\\in", "rel"), "∋": ("\\ni", "rel"), "⊢": ("\\vdash", "rel"),
    "⊣": ("\\dashv", "rel"), "⊥": ("\\perp", "rel"), "∣": ("\\mid", "rel"),
    "≐": ("\\doteq", "rel"), "⌣": ("\\smile", "rel"), "⌢": ("\\frown", "rel"),
    "|=": ("\\models", "rel"), "←": ("\\leftarrow", "rel"), "→": ("\\rightarrow", "rel"),
    "↑": ("\\uparrow", "rel"), "↓": ("\\downarrow", "rel"), "↔": ("\\leftrightarrow", "rel"),
    "↕": ("\\updownarrow", "rel"), "⇐": ("\\Leftarrow", "rel"), "⇒": ("\\Rightarrow", "rel"),
    "⇑": ("\\Uparrow", "rel"), "⇓": ("\\Downarrow", "rel"), "⇔": ("\\Leftrightarrow", "rel"),
    "↗": ("\\nearrow", "rel"), "↘": ("\\searrow", "rel"), "↙": ("\\swarrow", "rel"),
    "↖": ("\\nwarrow", "rel"), "↦": ("\\mapsto", "rel"), "⇀": ("\\rightharpoonup", "rel"),
    "↼": ("\\leftharpoonup", "rel"), "⇁": ("\\rightharpoondown", "rel"),
    "↽": ("\\leftharpoondown", "rel"), "⇌": ("\\rightleftharpoons", "rel"),
    ":": (":", "rel"), "(": ("(", "open"), ")": (")", "close"), "[": ("[", "open"),
    "]": ("]", "close"), "{": ("\\{", "open"), "}": ("\\}", "close"),
    "⟨": ("\\langle", "open"), "⟩": ("\\rangle", "close"), "⌈": ("\\lceil", "open"),
    "⌉": ("\\rceil", "close"), "⌊": ("\\lfloor", "open"), "⌋": ("\\rfloor", "close"),
    "|": ("|", "ord"), "∥": ("\\|", "ord"), "‖": ("\\|", "ord"), ",": (",", "punct"),
    ";": (";", "punct"), ".": (".", "ord"), "/": ("/", "ord"), "!": ("!", "close"),
    "?": ("?", "close"), "'": ("'", "ord"), "∞": ("\\infty", "ord"), "∂": ("\\partial", "ord"),
    "∇": ("\\nabla", "ord"), "∀": ("\\forall", "ord"), "∃": ("\\exists", "ord"),
    "¬": ("\\neg", "ord"), "∅": ("\\emptyset", "ord"), "ℵ": ("\\aleph", "ord"),
    "ℏ": ("\\hbar", "ord"), "ℓ": ("\\ell", "ord"), "℘": ("\\wp", "ord"), "ℜ": ("\\Re", "ord"),
    "ℑ": ("\\Im", "ord"), "ı": ("\\imath", "ord"), "ȷ": ("\\jmath", "ord"),
    "♭": ("\\flat", "ord"), "♮": ("\\natural", "ord"), "♯": ("\\sharp", "ord"),
    "♣": ("\\clubsuit", "ord"), "♢": ("\\diamondsuit", "ord"), "♡": ("\\heartsuit", "ord"),
    "♠": ("\\spadesuit", "ord"), "⊤": ("\\top", "ord"), "∠": ("\\angle", "ord"),
    "√": ("\\sqrt", "radical"), "′": ("\\prime", "prime"), "̸": ("\\not", "not"),
    "∑": ("\\sum", "bigop"), "∏": ("\\prod", "bigop"), "∐": ("\\coprod", "bigop"),
    "∫": ("\\int", "bigop"), "∮": ("\\oint", "bigop"), "⋃": ("\\bigcup", "bigop"),
    "⋂": ("\\bigcap", "bigop"), "⋁": ("\\bigvee", "bigop"), "⋀": ("\\bigwedge", "bigop"),
    "⨁": ("\\bigoplus", "bigop"), "⨂": ("\\bigotimes", "bigop"), "⨀": ("\\bigodot", "bigop"),
    "ˆ": ("\\hat", "accent"), "^": ("\\hat", "accent"), "˜": ("\\tilde", "accent"),
    "~": ("\\tilde", "accent"), "¯": ("\\bar", "accent"), "˙": ("\\dot", "accent"),
    "¨": ("\\ddot", "accent"), "´": ("\\acute", "accent"), "`": ("\\grave", "accent"),
    "˘": ("\\breve", "accent"), "ˇ": ("\\check", "accent"), "⃗": ("\\vec", "accent"),
    "˚": ("\\mathring", "accent"),
}  # fmt: skip

# font families by base-name prefix (Computer Modern, AMS, Latin Modern)
_FAMILIES: tuple[tuple[str, str], ...] = (
    ("CMMIB", "boldsymbol"),
    ("CMBSY", "boldsymbol"),
    ("CMMI", "mi"),
    ("LMMATHITALIC", "mi"),
    ("CMSY", "sy"),
    ("LMMATHSYMBOLS", "sy"),
    ("CMEX", "ex"),
    ("LMMATHEXTENSION", "ex"),
    ("MSBM", "mathbb"),
    ("MSAM", "ams"),
    ("EUFM", "mathfrak"),
    ("EUFB", "mathfrak"),
    ("EUSM", "mathscr"),
    ("RSFS", "mathscr"),
    ("CMBX", "mathbf"),
    ("LMROMAN10BOLD", "mathbf"),
    ("LMROMAN12BOLD", "mathbf"),
    ("CMSS", "mathsf"),
    ("LMSANS", "mathsf"),
    ("CMTT", "mathtt"),
    ("LMMONO", "mathtt"),
    ("CMTI", "mathit"),
    ("CMR", "rm"),
    ("LMROMAN", "rm"),
)


# italic corrections of cmmi10 in ems (scripts/italic_corrections.py prints this table):
# TeX sets this much extra room after a math italic letter
ITALIC_CORRECTIONS: dict[str, float] = {
    "Γ": 0.1389,
    "Θ": 0.0278,
    "Ξ": 0.0757,
    "Π": 0.0812,
    "Σ": 0.0576,
    "Υ": 0.1389,
    "Ψ": 0.11,
    "Ω": 0.0502,
    "α": 0.0037,
    "β": 0.0528,
    "γ": 0.0556,
    "δ": 0.0378,
    "ζ": 0.0738,
    "η": 0.0359,
    "θ": 0.0278,
    "ν": 0.0637,
    "ξ": 0.046,
    "π": 0.0359,
    "σ": 0.0359,
    "τ": 0.1132,
    "υ": 0.0359,
    "ψ": 0.0359,
    "ω": 0.0359,
    "ϖ": 0.0278,
    "ς": 0.0799,
    "B": 0.0502,
    "C": 0.0715,
    "D": 0.0278,
    "E": 0.0576,
    "F": 0.1389,
    "H": 0.0812,
    "I": 0.0785,
    "J": 0.0962,
    "K": 0.0715,
    "M": 0.109,
    "N": 0.109,
    "O": 0.0278,
    "P": 0.1389,
    "R": 0.0077,
    "S": 0.0576,
    "T": 0.1389,
    "U": 0.109,
    "V": 0.2222,
    "W": 0.1389,
    "X": 0.0785,
    "Y": 0.2222,
    "Z": 0.0715,
    "f": 0.1076,
    "g": 0.0359,
    "j": 0.0572,
    "k": 0.0315,
    "l": 0.0197,
    "q": 0.0359,
    "r": 0.0278,
    "v": 0.0359,
    "w": 0.0269,
    "y": 0.0359,
    "z": 0.044,
}


def italic_correction(ch: str, font: str) -> float:
    """The italic correction, in ems, TeX puts after ``ch`` set in ``font``."""
    return ITALIC_CORRECTIONS.get(ch, 0.0) if family(font) == "mi" else 0.0


def family(font: str) -> str:
    """The family of a TeX font name ("mi", "sy", "ex", "rm", "mathbb", ...); "" if unknown."""
    base = base_font(font)
    for prefix, fam in _FAMILIES:
        if base.startswith(prefix):
            if fam == "rm" and ("ITALIC" in base and base.startswith("LMROMAN")):
                return "mathit"
            return fam
    return ""


def symbol(ch: str, font: str) -> Sym | None:
    """The LaTeX symbol a glyph stands for, or None when it cannot be told."""
    fam = family(font)
    if not fam or not ch:
        return None
    if fam == "ex":
        for latex, chars in _PUA_PIECES.items():
            if ch in chars:
                return Sym(latex, "piece")
        if ch in "⌠⌡":  # integral pieces
            return None
        sym = CMEX_CODES.get(ord(ch))
        if sym is not None:
            return sym
        return _by_unicode(ch, "")
    if ch.isascii() and ch.isalpha():
        if fam == "mi":
            return Sym(ch, "ord")
        if fam == "sy":
            return Sym(ch, "ord", "mathcal") if ch.isupper() else None
        if fam == "rm":
            return Sym(ch, "letter")
        if fam in ("mathbb", "mathfrak", "mathscr", "mathbf", "mathsf", "mathtt", "mathit"):
            return Sym(ch, "ord", fam)
        if fam == "boldsymbol":
            return Sym(ch, "ord", "boldsymbol")
        return None
    if ch.isascii() and ch.isdigit():
        if fam in ("rm", "mi"):
            return Sym(ch, "ord")
        if fam in ("mathbf", "mathsf", "mathtt", "mathbb"):
            return Sym(ch, "ord", fam)
        if fam == "sy" and ch == "7":
            return Sym("\\mapstochar", "rel")  # the bar of \mapsto
        return None
    if fam == "mathbb":
        if ch == "ℏ":
            return Sym("\\hbar", "ord")
        if ch in "[\\":  # amsfonts puts its wide accents in msbm
            return Sym("\\widehat", "accent")
        if ch in "]^":
            return Sym("\\widetilde", "accent")
    return _by_unicode(ch, "mathbf" if fam in ("mathbf", "boldsymbol") else "")


def _by_unicode(ch: str, style: str) -> Sym | None:
    name = _GREEK.get(ch)
    if name is not None:
        return Sym("\\" + name, "ord", "boldsymbol" if style else "")
    hit = _SYMBOLS.get(ch)
    if hit is not None:
        return Sym(hit[0], hit[1])
    return None


__all__ = [
    "CMEX_CODES",
    "ITALIC_CORRECTIONS",
    "Sym",
    "SymClass",
    "family",
    "italic_correction",
    "symbol",
]
