"""Config: precedence (defaults < file < env < overrides), ${VAR} expansion, errors naming keys."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, SecretStr

from scipix.config import (
    CONFIG_ENV,
    Settings,
    expand_vars,
    find_config_file,
    load_settings,
)
from scipix.errors import ConfigError

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "scipix.example.toml"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No SCIPIX_*/MATHPIX_* variables from the outside, a private data dir, cwd in tmp."""
    for name in list(os.environ):
        if name.upper().startswith(("SCIPIX_", "MATHPIX_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("SCIPIX_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write(tmp_path: Path, text: str, name: str = "scipix.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults(tmp_path: Path) -> None:
    s = load_settings()
    assert s.server.host == "127.0.0.1"
    assert s.server.port == 8080
    assert s.server.max_body_size_mb == 10
    assert s.server.max_body_bytes == 10 * 1024 * 1024
    assert s.server.request_timeout_secs == 30
    assert s.server.rate_limit.requests_per_minute > 0
    assert s.server.cors_origins == []
    assert s.server.api_keys == []
    assert s.engines.default == "local"
    assert s.data_dir == tmp_path / "data"
    assert s.cache.dir == tmp_path / "data" / "cache"
    assert s.cache_dir == s.cache.dir
    assert s.cache.hnsw.m == 32
    assert s.cache.quantization.bits == 8


def test_data_dir_default_without_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("SCIPIX_DATA_DIR")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert load_settings().data_dir == tmp_path / "xdg" / "scipix"
    monkeypatch.delenv("XDG_DATA_HOME")
    assert load_settings().data_dir == Path.home() / ".local" / "share" / "scipix"


def test_cache_dir_follows_data_dir_from_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("SCIPIX_DATA_DIR")
    path = write(tmp_path, f'data_dir = "{tmp_path / "elsewhere"}"\n')
    s = load_settings(path)
    assert s.cache.dir == tmp_path / "elsewhere" / "cache"


def test_precedence_file_env_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[server]
port = 1111
host = "0.0.0.0"
max_body_size_mb = 5

[cache.hnsw]
m = 16
""",
    )
    s = load_settings(path)
    assert (s.server.port, s.server.host, s.cache.hnsw.m) == (1111, "0.0.0.0", 16)

    monkeypatch.setenv("SCIPIX_SERVER__PORT", "2222")
    monkeypatch.setenv("SCIPIX_CACHE__HNSW__M", "24")
    s = load_settings(path)
    assert (s.server.port, s.cache.hnsw.m) == (2222, 24)
    assert s.server.host == "0.0.0.0"  # untouched file values survive a partial env section

    s = load_settings(path, {"server": {"port": 3333}, "cache.hnsw.m": 48})
    assert (s.server.port, s.cache.hnsw.m) == (3333, 48)
    assert s.server.host == "0.0.0.0"
    assert s.server.max_body_size_mb == 5


def test_config_path_from_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = write(tmp_path, "[server]\nport = 4444\n", name="other.toml")
    monkeypatch.setenv(CONFIG_ENV, str(path))
    assert find_config_file() == path
    assert load_settings().server.port == 4444
    # An explicit path wins over the variable.
    explicit = write(tmp_path, "[server]\nport = 5555\n", name="explicit.toml")
    assert load_settings(explicit).server.port == 5555


def test_scipix_toml_in_cwd_is_found(tmp_path: Path) -> None:
    write(tmp_path, "[server]\nport = 6666\n")
    assert load_settings().server.port == 6666


def test_env_expansion_in_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TEST_PORT", "7777")
    monkeypatch.setenv("TEST_KEY", "s3cret")
    monkeypatch.delenv("TEST_UNSET", raising=False)
    path = write(
        tmp_path,
        """
[api]
key = "${TEST_KEY}"
app_id = "${TEST_UNSET}"
url = "${TEST_UNSET:-https://example.org/v3}"

[server]
port = "${TEST_PORT}"
host = "${TEST_UNSET:-127.0.0.2}"
cors_origins = ["https://${TEST_UNSET:-a.example}", "literal $${NOT_EXPANDED}"]
""",
    )
    s = load_settings(path)
    assert s.api.key.get_secret_value() == "s3cret"
    assert s.api.app_id == ""
    assert s.api.url == "https://example.org/v3"
    assert s.server.port == 7777
    assert s.server.host == "127.0.0.2"
    assert s.server.cors_origins == ["https://a.example", "literal ${NOT_EXPANDED}"]


def test_expand_vars_rules() -> None:
    env = {"A": "1", "EMPTY": ""}
    assert expand_vars("${A}-${B}-${B:-x}-${EMPTY:-d}-$$-$A", env) == "1--x-d-$-$A"


def test_mathpix_env_names_for_api(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = write(tmp_path, '[api]\napp_id = "from-file"\n')
    monkeypatch.setenv("MATHPIX_APP_ID", "mp-id")
    monkeypatch.setenv("MATHPIX_API_KEY", "mp-api-key")
    monkeypatch.setenv("MATHPIX_API_URL", "https://mp.example/v3")
    s = load_settings(path)
    assert s.api.app_id == "mp-id"
    assert s.api.key.get_secret_value() == "mp-api-key"
    assert s.api.url == "https://mp.example/v3"
    monkeypatch.setenv("MATHPIX_APP_KEY", "mp-app-key")
    assert load_settings(path).api.key.get_secret_value() == "mp-app-key"
    # SCIPIX_* beats MATHPIX_*, and overrides beat both.
    monkeypatch.setenv("SCIPIX_API__APP_ID", "sx-id")
    assert load_settings(path).api.app_id == "sx-id"
    assert load_settings(path, {"api.app_id": "flag-id"}).api.app_id == "flag-id"


def test_env_lists_as_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCIPIX_SERVER__CORS_ORIGINS", '["https://a.example"]')
    monkeypatch.setenv(
        "SCIPIX_SERVER__API_KEYS", '[{"app_id": "alice", "key": "k1", "admin": true}]'
    )
    s = load_settings()
    assert s.server.cors_origins == ["https://a.example"]
    assert s.server.api_keys[0].app_id == "alice"
    assert s.server.api_keys[0].admin is True
    key = s.server.api_keys[0].key
    assert isinstance(key, SecretStr)
    assert key.get_secret_value() == "k1"


def test_bad_env_json_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCIPIX_SERVER__CORS_ORIGINS", "not json")
    with pytest.raises(ConfigError, match="SCIPIX_SERVER__CORS_ORIGINS"):
        load_settings()


@pytest.mark.parametrize(
    ("toml", "key"),
    [
        ("bogus = 1\n", "bogus"),
        ("[bogus]\nx = 1\n", "bogus"),
        ("[server]\nprot = 8080\n", "server.prot"),
        ("[cache.hnsw]\nmm = 3\n", "cache.hnsw.mm"),
        ("[server.rate_limit]\nper_minute = 3\n", "server.rate_limit.per_minute"),
    ],
)
def test_unknown_keys_are_named(tmp_path: Path, toml: str, key: str) -> None:
    path = write(tmp_path, toml)
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert f"{key}: unknown key" in str(info.value)
    assert str(path) in str(info.value)


@pytest.mark.parametrize(
    ("toml", "key"),
    [
        ('[server]\nport = "eighty"\n', "server.port"),
        ("[server]\nport = 70000\n", "server.port"),
        ("[cache]\nthreshold = 1.5\n", "cache.threshold"),
        ("[cache.quantization]\nbits = 3\n", "cache.quantization.bits"),
        ('[logging]\nlevel = "LOUD"\n', "logging.level"),
        ("[server]\ncors_origins = 5\n", "server.cors_origins"),
        ('[[server.api_keys]]\napp_id = "a"\n', "server.api_keys.0"),
        ('[[server.api_keys]]\napp_id = "a"\nkey_sha256 = "abc"\n', "server.api_keys.0.key_sha256"),
    ],
)
def test_bad_values_are_named(tmp_path: Path, toml: str, key: str) -> None:
    with pytest.raises(ConfigError, match=rf"{key}\b"):
        load_settings(write(tmp_path, toml))


def test_unknown_env_key_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCIPIX_SERVER__PROT", "1")
    with pytest.raises(ConfigError, match=r"server\.prot: unknown key"):
        load_settings()


def test_unknown_and_bad_overrides(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"server\.nope: unknown key"):
        load_settings(overrides={"server.nope": 1})
    with pytest.raises(ConfigError, match=r"server\.port"):
        load_settings(overrides={"server.port": "x"})


def test_invalid_toml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_settings(write(tmp_path, "[server\nport = 1\n"))
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "absent.toml")


def test_api_key_sha256_accepted(tmp_path: Path) -> None:
    digest = "a" * 64
    path = write(tmp_path, f'[[server.api_keys]]\napp_id = "bob"\nkey_sha256 = "{digest}"\n')
    (entry,) = load_settings(path).server.api_keys
    assert entry.key is None
    assert entry.key_sha256 == digest
    assert entry.admin is False
    assert entry.engines == []


def test_secrets_are_masked(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MATHPIX_APP_KEY", "very-secret-key")
    path = write(tmp_path, '[[server.api_keys]]\napp_id = "a"\nkey = "client-secret"\n')
    s = load_settings(path)
    dumped = repr(s.public_dict()) + repr(s) + str(s)
    assert "very-secret-key" not in dumped
    assert "client-secret" not in dumped


def test_settings_sections_are_separate_models() -> None:
    s = Settings()
    for name in (
        "api",
        "engines",
        "cache",
        "server",
        "cluster",
        "metrics",
        "preprocessing",
        "postprocessing",
        "pdf",
        "logging",
    ):
        assert isinstance(getattr(s, name), BaseModel), name
    assert isinstance(s.cache.hnsw, BaseModel)
    assert isinstance(s.cache.quantization, BaseModel)
    assert isinstance(s.server.rate_limit, BaseModel)


# --- the example file ----------------------------------------------------------------------


def test_example_file_loads_with_defaults() -> None:
    s = load_settings(EXAMPLE)
    defaults = load_settings()
    assert s.server == defaults.server
    assert s.cache == defaults.cache
    assert s.preprocessing == defaults.preprocessing


def _field_paths(model: type[BaseModel], prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for name, info in model.model_fields.items():
        ann = info.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            out.extend(_field_paths(ann, f"{prefix}{name}."))
        else:
            out.append((f"{prefix}{name}", info))
    return out


def test_example_file_documents_every_key() -> None:
    """Every setting appears in the example: as a value, or commented out when it has none."""
    text = EXAMPLE.read_text(encoding="utf-8")
    data = tomllib.loads(text)
    missing = []
    for dotted, _info in _field_paths(Settings):
        node: Any = data
        for part in dotted.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        leaf = dotted.rsplit(".", 1)[-1]
        if node is None and f"# {leaf} =" not in text and f"[[{dotted}]]" not in text:
            missing.append(dotted)
    assert not missing, f"scipix.example.toml does not document: {missing}"
