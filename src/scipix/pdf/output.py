"""Converted pages -> Mathpix Markdown (.mmd), Markdown (.md), LaTeX (.tex), lines.json."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from scipix.pdf.model import PageLine, PageResult

FORMATS = ("mmd", "md", "tex", "lines.json")


@dataclass(frozen=True, slots=True)
class Delimiters:
    inline: tuple[str, str] = ("\\(", "\\)")
    display: tuple[str, str] = ("\\[", "\\]")


MD_DELIMITERS = Delimiters(("$", "$"), ("$$", "$$"))
_TEX_SPECIAL = re.compile(r"([&%$#_{}])")


def tex_escape(text: str) -> str:
    text = text.replace("\\", "\0")
    text = _TEX_SPECIAL.sub(r"\\\1", text)
    text = text.replace("~", r"\textasciitilde{}").replace("^", r"\textasciicircum{}")
    return text.replace("\0", r"\textbackslash{}")


def line_text(line: PageLine, delims: Delimiters, escape: bool = False) -> str:
    """A line as text with its inline formulas between delimiters."""
    if line.kind == "math":
        latex = line.segments[0].value if line.segments else ""
        if latex and line.tag:
            latex += f" \\tag{{{line.tag}}}"
        return f"{delims.display[0]}\n{latex}\n{delims.display[1]}" if latex else ""
    parts: list[str] = []
    for seg in line.segments:
        if seg.kind == "math":
            if seg.value:
                parts.append(f"{delims.inline[0]}{seg.value}{delims.inline[1]}")
        else:
            parts.append(tex_escape(seg.value) if escape else seg.value)
    out = ""
    for part in (p for p in parts if p):
        out += part if not out or part[0] in ".,;:!?)" else " " + part
    return out


def _join(prev: str, nxt: str) -> str:
    if prev.endswith("-") and nxt[:1].islower() and prev[-2:-1].isalpha():
        return prev[:-1] + nxt  # de-hyphenate a word broken at the line end
    return f"{prev} {nxt}" if prev else nxt


def _blocks(pages: Sequence[PageResult], delims: Delimiters, tex: bool) -> list[str]:
    blocks: list[str] = []
    for page in pages:
        if page.error is not None:
            continue
        current = ""
        current_block = -1
        for line in page.lines:
            text = line_text(line, delims, escape=tex)
            if line.kind == "text" and line.block == current_block and current:
                current = _join(current, text)
                continue
            if current:
                blocks.append(current)
            current, current_block = "", line.block
            if not text:
                continue
            if line.kind == "heading":
                level = min(max(line.heading_level, 1), 3)
                if tex:
                    cmd = ("section*", "subsection*", "subsubsection*")[level - 1]
                    blocks.append(f"\\{cmd}{{{text}}}")
                else:
                    blocks.append("#" * level + " " + text)
            elif line.kind == "math":
                blocks.append(text)
            else:
                current = text
        if current:
            blocks.append(current)
    return blocks


def to_mmd(pages: Sequence[PageResult], delims: Delimiters | None = None) -> str:
    return "\n\n".join(_blocks(pages, delims or Delimiters(), tex=False)) + "\n"


def to_md(pages: Sequence[PageResult]) -> str:
    return "\n\n".join(_blocks(pages, MD_DELIMITERS, tex=False)) + "\n"


def to_tex(pages: Sequence[PageResult]) -> str:
    body = "\n\n".join(_blocks(pages, Delimiters(), tex=True))
    return (
        "\\documentclass{article}\n"
        "\\usepackage[utf8]{inputenc}\n"
        "\\usepackage[T1]{fontenc}\n"
        "\\usepackage{amsmath,amssymb}\n"
        "\\begin{document}\n\n"
        f"{body}\n\n"
        "\\end{document}\n"
    )


def to_lines_json(pages: Sequence[PageResult], delims: Delimiters | None = None) -> str:
    d = delims or Delimiters()
    out: list[dict[str, Any]] = []
    for page in pages:
        data = page.to_json()
        for line_json, line in zip(data["lines"], page.lines, strict=True):
            line_json["text"] = line_text(line, d)
        out.append(data)
    return json.dumps({"pages": out}, ensure_ascii=False, indent=1)


def render(pages: Sequence[PageResult], fmt: str, delims: Delimiters | None = None) -> str:
    """``pages`` in ``fmt`` (one of :data:`FORMATS`)."""
    if fmt == "mmd":
        return to_mmd(pages, delims)
    if fmt == "md":
        return to_md(pages)
    if fmt == "tex":
        return to_tex(pages)
    if fmt == "lines.json":
        return to_lines_json(pages, delims)
    raise ValueError(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")


__all__ = [
    "FORMATS",
    "MD_DELIMITERS",
    "Delimiters",
    "line_text",
    "render",
    "tex_escape",
    "to_lines_json",
    "to_md",
    "to_mmd",
    "to_tex",
]
