"""The command line: --version, config show/validate, ocr output and one-line errors."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw
from typer.testing import CliRunner

from scipix import __version__
from scipix.cli import app
from scipix.config import Settings
from scipix.engines import registry
from scipix.engines.base import RecognizeOptions
from scipix.io import DecodedImage
from scipix.types import OcrResult

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "scipix.example.toml"
runner = CliRunner()


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in list(os.environ):
        if name.upper().startswith(("SCIPIX_", "MATHPIX_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("SCIPIX_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the real entry point in a fresh interpreter (what a user sees, tracebacks included)."""
    return subprocess.run(
        [sys.executable, "-m", "scipix", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def png_file(path: Path) -> Path:
    img = Image.new("L", (80, 30), 255)
    ImageDraw.Draw(img).line((5, 15, 75, 15), fill=0, width=2)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    path.write_bytes(buf.getvalue())
    return path


class SizeEngine:
    """A test engine that reports the decoded size, to exercise the CLI's output paths."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @property
    def name(self) -> str:
        return "size"

    def ready(self) -> bool:
        return True

    def recognize(self, image: DecodedImage, options: RecognizeOptions | None = None) -> OcrResult:
        latex = f"{image.width}\\times{image.height}"
        return OcrResult(
            latex=latex,
            latex_styled=latex,
            text=f"\\({latex}\\)",
            confidence=0.5,
            confidence_rate=0.75,
            image_width=image.width,
            image_height=image.height,
            engine=self.name,
        )


@pytest.fixture
def size_engine(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setitem(registry._REGISTERED, "size", SizeEngine)
    return "size"


# --- --version, help ---------------------------------------------------------------------------


def test_version_flag() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"scipix {__version__}"


def test_version_subprocess() -> None:
    proc = run_cli("--version")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"scipix {__version__}"


def test_help_lists_commands() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "ocr" in result.stdout
    assert "config" in result.stdout


# --- config ------------------------------------------------------------------------------------


def test_config_validate_good_file() -> None:
    result = runner.invoke(app, ["config", "validate", str(EXAMPLE)])
    assert result.exit_code == 0, result.output
    assert "ok" in result.stdout


def test_config_validate_without_file() -> None:
    result = runner.invoke(app, ["config", "validate"])
    assert result.exit_code == 0, result.output
    assert "no config file" in result.stdout


def test_config_validate_bad_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[server]\nprot = 1\nport = 'x'\n")
    proc = run_cli("config", "validate", str(bad))
    assert proc.returncode == 1
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "server.prot: unknown key" in lines[0]
    assert "server.port" in lines[0]
    assert "Traceback" not in proc.stderr


def test_config_validate_missing_and_broken_files(tmp_path: Path) -> None:
    result = runner.invoke(app, ["config", "validate", str(tmp_path / "absent.toml")])
    assert result.exit_code == 1
    assert "not found" in result.stderr
    broken = tmp_path / "broken.toml"
    broken.write_text("[server\n")
    result = runner.invoke(app, ["config", "validate", str(broken)])
    assert result.exit_code == 1
    assert "invalid TOML" in result.stderr


def test_config_show_toml_masks_secrets(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import tomllib

    monkeypatch.setenv("MATHPIX_APP_KEY", "top-secret-value")
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        '[server]\nport = 9123\n[[server.api_keys]]\napp_id = "alice"\nkey = "alice-secret"\n'
    )
    result = runner.invoke(app, ["config", "show", "--config", str(cfg)])
    assert result.exit_code == 0, result.output
    assert "top-secret-value" not in result.stdout
    assert "alice-secret" not in result.stdout
    shown = tomllib.loads(result.stdout)
    assert shown["server"]["port"] == 9123
    assert shown["api"]["key"] == "**********"
    assert shown["server"]["api_keys"][0]["app_id"] == "alice"
    assert shown["cache"]["hnsw"]["m"] == 32


def test_config_show_json_and_set() -> None:
    result = runner.invoke(
        app, ["config", "show", "--json", "--set", "server.port=9999", "--set", "cluster.nodes=[]"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["server"]["port"] == 9999
    assert data["cluster"]["nodes"] == []


def test_config_show_bad_set() -> None:
    result = runner.invoke(app, ["config", "show", "--set", "server.nope=1"])
    assert result.exit_code == 1
    assert "server.nope: unknown key" in result.stderr
    result = runner.invoke(app, ["config", "show", "--set", "novalue"])
    assert result.exit_code == 1
    assert "KEY=VALUE" in result.stderr


def test_config_show_reads_env_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    cfg = tmp_path / "env.toml"
    cfg.write_text("[metrics]\nport = 9555\n")
    monkeypatch.setenv("SCIPIX_CONFIG", str(cfg))
    result = runner.invoke(app, ["config", "show", "--json"])
    assert json.loads(result.stdout)["metrics"]["port"] == 9555


# --- ocr ---------------------------------------------------------------------------------------


def test_ocr_non_image_is_one_line_error(tmp_path: Path) -> None:
    fake = tmp_path / "notes.png"
    fake.write_text("this is not an image\n")
    proc = run_cli("ocr", str(fake))
    assert proc.returncode != 0
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "notes.png" in lines[0]
    assert "not a supported image" in lines[0]
    assert "Traceback" not in proc.stderr


def test_ocr_missing_and_empty_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    result = runner.invoke(app, ["ocr", str(tmp_path / "absent.png"), str(empty)])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2
    assert "no such file" in lines[0]
    assert "empty" in lines[1]


def test_ocr_unknown_engine(tmp_path: Path) -> None:
    image = png_file(tmp_path / "f.png")
    result = runner.invoke(app, ["ocr", "--engine", "nope", str(image)])
    assert result.exit_code == 1
    assert "unknown engine 'nope'" in result.stderr
    assert result.stdout == ""


def test_ocr_unavailable_engine_is_config_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(registry._BUILTIN, "ghost", ("scipix.engines.no_such_module", "X"))
    image = png_file(tmp_path / "f.png")
    result = runner.invoke(app, ["ocr", "--engine", "ghost", str(image)])
    assert result.exit_code == 1
    assert "engine 'ghost' is not available" in result.stderr
    assert result.stdout == ""


def test_ocr_latex_and_text(size_engine: str, tmp_path: Path) -> None:
    image = png_file(tmp_path / "f.png")
    result = runner.invoke(app, ["ocr", "--engine", size_engine, str(image)])
    assert result.exit_code == 0, result.output
    assert result.stdout == "80\\times30\n"
    result = runner.invoke(app, ["ocr", "-e", size_engine, "--format", "text", str(image)])
    assert result.stdout == "\\(80\\times30\\)\n"


def test_ocr_engine_from_config(size_engine: str, tmp_path: Path) -> None:
    image = png_file(tmp_path / "f.png")
    result = runner.invoke(app, ["ocr", "--set", f"engines.default={size_engine}", str(image)])
    assert result.exit_code == 0, result.output
    assert result.stdout == "80\\times30\n"


def test_ocr_json(size_engine: str, tmp_path: Path) -> None:
    image = png_file(tmp_path / "f.png")
    for flags in (["--json"], ["--format", "json"]):
        result = runner.invoke(app, ["ocr", "-e", size_engine, *flags, str(image)])
        assert result.exit_code == 0, result.output
        data = json.loads(result.stdout)
        assert data["file"] == str(image)
        assert data["latex_styled"] == "80\\times30"
        assert data["text"] == "\\(80\\times30\\)"
        assert data["confidence"] == 0.5
        assert data["confidence_rate"] == 0.75


def test_ocr_many_files_one_bad(size_engine: str, tmp_path: Path) -> None:
    good1 = png_file(tmp_path / "a.png")
    bad = tmp_path / "b.png"
    bad.write_bytes(b"PK\x03\x04 zip")
    good2 = png_file(tmp_path / "c.png")
    result = runner.invoke(app, ["ocr", "-e", size_engine, str(good1), str(bad), str(good2)])
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [f"{good1}: 80\\times30", f"{good2}: 80\\times30"]
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1 and "b.png" in errors[0]


def test_ocr_bad_format_is_usage_error(tmp_path: Path) -> None:
    image = png_file(tmp_path / "f.png")
    result = runner.invoke(app, ["ocr", "--format", "docx", str(image)])
    assert result.exit_code == 2


def test_ocr_reads_the_example_and_caches_it() -> None:
    example = str(REPO / "examples" / "quadratic.png")
    first = run_cli("ocr", example, "--json")
    assert first.returncode == 0, first.stderr
    data = json.loads(first.stdout)
    assert data["latex_styled"] == r"x=\frac{-b\pm\sqrt{b^{2}-4ac}}{2a}"
    assert data["cached"] is False
    second = json.loads(run_cli("ocr", example, "--json").stdout)
    assert second["cached"] is True and second["latex_styled"] == data["latex_styled"]
    mathml = run_cli("ocr", example, "--format", "mathml")
    assert mathml.stdout.startswith("<math") and "<mfrac>" in mathml.stdout
    stats = run_cli("cache", "stats")
    assert "entries: 1" in stats.stdout


def test_ocr_warns_on_low_confidence(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    noise = np.where(rng.random((80, 300)) < 0.08, 0, 255).astype(np.uint8)
    path = tmp_path / "noise.png"
    Image.fromarray(noise).save(path)
    out = run_cli("ocr", str(path), "--set", "postprocessing.confidence_threshold=0.9")
    assert out.returncode == 0
    assert "low confidence" in out.stderr and "Traceback" not in out.stderr
