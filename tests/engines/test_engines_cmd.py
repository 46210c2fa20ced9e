"""``scipix engines``: lists configured engines and probes each one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fake_mathpix import fake_mathpix
from typer.testing import CliRunner

from scipix.cli import app


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("MATHPIX_APP_ID", "MATHPIX_APP_KEY", "MATHPIX_API_KEY", "MATHPIX_API_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SCIPIX_DATA_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)


def test_engines_lists_and_probes(tmp_path: Path) -> None:
    with fake_mathpix() as site:
        config = tmp_path / "scipix.toml"
        config.write_text(
            f'[api]\nurl = "http://127.0.0.1:9/v3"\n'
            f'[engines]\ndefault = "fallback"\nfallback_remote = "up"\n'
            f'[engines.remotes.up]\nurl = "{site.url}"\napp_id = "i"\napp_key = "topsecret"\n',
            encoding="utf-8",
        )
        result = CliRunner().invoke(app, ["engines", "--json", "--config", str(config)])
        assert result.exit_code == 0, result.output
        rows = {row["name"]: row for row in json.loads(result.output)}
        assert set(rows) == {"local", "remote", "up", "fallback"}
        assert rows["remote"]["reachable"] is False
        assert rows["up"]["reachable"] is True and rows["up"]["kind"] == "remote"
        assert rows["fallback"]["default"] is True
        assert "topsecret" not in result.output
        text = CliRunner().invoke(app, ["engines", "--no-check", "--config", str(config)])
        assert text.exit_code == 0 and "* fallback" in text.output
