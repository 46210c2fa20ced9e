"""``scipix engines``: the configured engines and whether each can answer now."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Annotated

import typer

from scipix.cli.common import ConfigOption, SetOption, cli_errors, settings_from_cli
from scipix.config import Settings
from scipix.errors import ScipixError


@dataclass(frozen=True, slots=True)
class EngineRow:
    name: str
    kind: str
    target: str
    default: bool
    reachable: bool | None  # None: not checked
    detail: str


def _local_row(settings: Settings, check: bool) -> EngineRow:
    model = settings.engines.local.model
    if not check:
        return EngineRow("local", "local", f"model {model}", False, None, "not checked")
    from scipix.engines.registry import build_engine

    try:
        engine = build_engine(settings, "local")
    except ScipixError as exc:
        return EngineRow("local", "local", f"model {model}", False, False, str(exc))
    ok = engine.ready()
    return EngineRow("local", "local", f"model {model}", False, ok, "model loaded")


def _remote_row(settings: Settings, name: str, check: bool) -> EngineRow:
    from scipix.engines.remote import RemoteEngine, RemoteSpec

    spec = RemoteSpec.from_settings(settings, name)
    creds = "credentials set" if spec.app_id and spec.app_key else "no credentials"
    if not check:
        return EngineRow(name, "remote", spec.url, False, None, f"{creds}; not checked")
    try:
        engine = RemoteEngine(settings, name)
    except ScipixError as exc:
        return EngineRow(name, "remote", spec.url, False, False, str(exc))
    try:
        probe = engine.probe()
    finally:
        engine.close()
    return EngineRow(name, "remote", spec.url, False, probe.reachable, f"{creds}; {probe.detail}")


def engine_rows(settings: Settings, check: bool = True) -> list[EngineRow]:
    """One row per configured engine; ``check`` builds/probes each one."""
    eng = settings.engines
    rows = [_local_row(settings, check), _remote_row(settings, "remote", check)]
    rows.extend(_remote_row(settings, name, check) for name in sorted(eng.remotes))
    by_name = {row.name: row for row in rows}
    partner = by_name.get(eng.fallback_remote)
    local = by_name["local"]
    if partner is None:
        reachable: bool | None = False
        detail = f"engines.fallback_remote '{eng.fallback_remote}' is not configured"
    else:
        reachable = local.reachable
        detail = f"below confidence {eng.fallback_threshold:g}; remote reachable: " + (
            "not checked" if partner.reachable is None else ("yes" if partner.reachable else "no")
        )
    rows.append(
        EngineRow("fallback", "policy", f"local -> {eng.fallback_remote}", False, reachable, detail)
    )
    return [
        EngineRow(r.name, r.kind, r.target, r.name == eng.default, r.reachable, r.detail)
        for r in rows
    ]


def engines(
    check: Annotated[
        bool, typer.Option("--check/--no-check", help="Load local models and probe remotes.")
    ] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    config: ConfigOption = None,
    sets: SetOption = None,
) -> None:
    """List the configured engines and whether each is reachable."""
    with cli_errors():
        settings = settings_from_cli(config, sets)
        rows = engine_rows(settings, check)
    if as_json:
        typer.echo(json.dumps([asdict(r) for r in rows], indent=2))
        return
    for r in rows:
        mark = "*" if r.default else " "
        state = {None: "?", True: "ok", False: "DOWN"}[r.reachable]
        typer.echo(f"{mark} {r.name:<12} {r.kind:<7} {state:<5} {r.target}  ({r.detail})")


def register(app: typer.Typer) -> None:
    app.command("engines")(engines)


__all__ = ["EngineRow", "engine_rows", "engines", "register"]
