#!/usr/bin/env python3
"""Print the italic corrections of TeX's math italic font (cmmi10.tfm, via tftopl) as the
Python dict in scipix/pdf/mathfonts.py (``ITALIC_CORRECTIONS``, in ems, keyed by the
character PDFium reports). Needs TeX Live's tftopl; the table is committed, so the package
itself needs no TeX.

    python scripts/italic_corrections.py
"""

from __future__ import annotations

import re
import subprocess

# cmmi10 codes -> Unicode: Greek capitals, Greek small letters, then Latin letters
GREEK = "ΓΔΘΛΞΠΣΥΦΨΩαβγδϵζηθικλμνξπρστυϕχψωεϑϖϱςφ"


def unicode_of(code: int) -> str | None:
    if code < len(GREEK):
        return GREEK[code]
    if 0x41 <= code <= 0x5A or 0x61 <= code <= 0x7A:
        return chr(code)
    return None


def main() -> None:
    path = subprocess.run(
        ["kpsewhich", "cmmi10.tfm"], check=True, capture_output=True, text=True
    ).stdout.strip()
    pl = subprocess.run(["tftopl", path], check=True, capture_output=True, text=True).stdout
    table: dict[str, float] = {}
    for block in re.split(r"\n\(CHARACTER ", pl)[1:]:
        head = block.split("\n", 1)[0].split()
        code = ord(head[1]) if head[0] == "C" else int(head[1], 8)
        m = re.search(r"\(CHARIC R ([-0-9.]+)\)", block)
        ch = unicode_of(code)
        if m and ch is not None and float(m.group(1)) > 0:
            table[ch] = round(float(m.group(1)), 4)
    print("ITALIC_CORRECTIONS: dict[str, float] = {")
    items = [f'"{k}": {v}' for k, v in table.items()]
    for i in range(0, len(items), 6):
        print("    " + ", ".join(items[i : i + 6]) + ",")
    print("}")


if __name__ == "__main__":
    main()
