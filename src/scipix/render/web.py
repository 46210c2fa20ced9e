"""Render formulas as a web page shows them: KaTeX or MathJax (SVG) in headless Chromium.

Used by the robustness benchmark (``benchmarks/accuracy.py --kinds katex_x1,...``). Needs
Playwright for Python, a Chromium binary (Debian's ``/usr/bin/chromium`` by default; no
browser download) and the npm project in ``benchmarks/web`` (``npm ci`` there: KaTeX and
mathjax-full are served from its node_modules, never from a CDN).

All formulas go on one page in batches; each formula's box is screenshot on its own at the
page's device scale factor, so 1x is what a normal screen shows and 2x a HiDPI one.
Formulas the engine rejects (parse errors, unknown macros) come back as None.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from scipix.errors import ScipixError

WEB_DIR = Path(__file__).resolve().parents[3] / "benchmarks" / "web"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
)
Engine = Literal["katex", "mathjax"]

# Renders formulas[i] into <div class="f" id="f{start+i}">; returns the ids that failed.
_RENDER_JS = """
async ([engine, formulas, start]) => {
  const out = document.getElementById('out');
  out.innerHTML = '';
  const failed = [];
  for (let i = 0; i < formulas.length; i++) {
    const row = document.createElement('div');
    row.className = 'row';
    const box = document.createElement('div');
    box.className = 'f';
    box.id = 'f' + (start + i);
    row.appendChild(box);
    out.appendChild(row);
    try {
      if (engine === 'katex') {
        katex.render(formulas[i], box, {displayMode: true, throwOnError: true, strict: 'ignore'});
      } else {
        const node = await MathJax.tex2svgPromise(formulas[i], {display: true});
        if (node.querySelector('[data-mjx-error], merror, [data-mml-node="merror"]')) {
          throw new Error('merror');
        }
        box.appendChild(node);
      }
    } catch (e) {
      failed.push(start + i);
      row.remove();
    }
  }
  await document.fonts.ready;
  return failed;
}
"""
_MATHJAX_READY = "() => !!(window.MathJax && MathJax.startup && MathJax.startup.promise)"
_MATHJAX_STYLE = (
    "async () => { await MathJax.startup.promise; "
    "document.head.appendChild(MathJax.svgStylesheet()); }"
)


def web_available(web_dir: Path = WEB_DIR) -> bool:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return Path(CHROMIUM).exists() and (web_dir / "node_modules" / "katex").is_dir()


class WebRenderer:
    """KaTeX or MathJax screenshots; grayscale uint8 arrays, dark ink on white."""

    def __init__(
        self,
        engine: Engine,
        scale: float = 1.0,
        *,
        web_dir: Path = WEB_DIR,
        batch: int = 50,
        chromium: str = CHROMIUM,
        crop_from_page: bool = False,
    ) -> None:
        if not web_available(web_dir):
            raise ScipixError(
                f"web rendering needs Playwright for Python, {chromium} and `npm ci` in {web_dir}"
            )
        self.engine = engine
        self.scale = scale
        self.page_url = (web_dir / "index.html").as_uri()
        self.batch = batch
        self.chromium = chromium
        # one full-page screenshot per batch, cut at each formula's box: several times faster
        # than a screenshot per element (training data); pixels may shift by one at 2x
        self.crop_from_page = crop_from_page

    def render(self, formulas: Sequence[str]) -> list[NDArray[np.uint8] | None]:
        from playwright.sync_api import sync_playwright

        out: list[NDArray[np.uint8] | None] = [None] * len(formulas)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=self.chromium, args=list(CHROMIUM_ARGS))
            try:
                page = browser.new_page(
                    device_scale_factor=self.scale, viewport={"width": 1600, "height": 900}
                )
                page.goto(self.page_url)
                if self.engine == "mathjax":
                    page.wait_for_function(_MATHJAX_READY)
                    page.evaluate(_MATHJAX_STYLE)
                for start in range(0, len(formulas), self.batch):
                    chunk = [" ".join(f.split()) for f in formulas[start : start + self.batch]]
                    failed = set(page.evaluate(_RENDER_JS, [self.engine, chunk, start]))
                    if self.crop_from_page:
                        self._crop_batch(page, chunk, start, failed, out)
                        continue
                    for k in range(start, start + len(chunk)):
                        if k in failed or not chunk[k - start]:
                            continue
                        png = page.locator(f"#f{k}").screenshot(animations="disabled")
                        with Image.open(io.BytesIO(png)) as im:
                            out[k] = np.asarray(im.convert("L"), dtype=np.uint8).copy()
            finally:
                browser.close()
        return out

    def _crop_batch(
        self,
        page: Any,
        chunk: list[str],
        start: int,
        failed: set[int],
        out: list[NDArray[np.uint8] | None],
    ) -> None:
        ids = [k for k in range(start, start + len(chunk)) if k not in failed and chunk[k - start]]
        rects = page.evaluate(_RECTS_JS, [f"f{k}" for k in ids])
        png = page.screenshot(full_page=True, animations="disabled")
        with Image.open(io.BytesIO(png)) as im:
            shot = np.asarray(im.convert("L"), dtype=np.uint8)
        s = self.scale
        for k, r in zip(ids, rects, strict=True):
            if r is None:
                continue
            x0, y0 = math.floor(r[0] * s), math.floor(r[1] * s)
            x1, y1 = math.ceil((r[0] + r[2]) * s), math.ceil((r[1] + r[3]) * s)
            crop = shot[max(y0, 0) : y1, max(x0, 0) : x1]
            if crop.size:
                out[k] = crop.copy()


_RECTS_JS = """
(ids) => ids.map((id) => {
  const el = document.getElementById(id);
  if (!el) return null;
  const r = el.getBoundingClientRect();
  return [r.left + window.scrollX, r.top + window.scrollY, r.width, r.height];
})
"""


__all__ = ["CHROMIUM_ARGS", "WebRenderer", "web_available"]
