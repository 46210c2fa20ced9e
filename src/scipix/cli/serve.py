"""``scipix serve``: run the Mathpix-compatible HTTP server with uvicorn."""

from __future__ import annotations

import ipaddress
import logging
from typing import Annotated, Any

import typer

from scipix.cli.common import ConfigOption, SetOption, cli_errors, settings_from_cli
from scipix.config import Settings

log = logging.getLogger("scipix.server")

LOOPBACK = "127.0.0.1"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def bind_host(settings: Settings) -> str:
    """The address to bind: the configured one, but loopback only while no key is configured."""
    host = settings.server.host
    if settings.server.api_keys or is_loopback(host):
        if not settings.server.api_keys:
            log.warning("no API keys configured: authentication is off; listening on %s", host)
        return host
    log.warning(
        "no API keys configured: authentication is off, so the server listens on %s only "
        "(asked for %s); configure server.api_keys to serve other hosts",
        LOOPBACK,
        host,
    )
    return LOOPBACK


def serve(
    host: Annotated[str | None, typer.Option("--host", help="Address to bind.")] = None,
    port: Annotated[int | None, typer.Option("--port", "-p", help="Port to listen on.")] = None,
    workers: Annotated[
        int | None,
        typer.Option("--workers", "-w", help="Recognition worker threads (0: one per core)."),
    ] = None,
    engine: Annotated[str | None, typer.Option("--engine", help="Engine to serve.")] = None,
    config: ConfigOption = None,
    sets: SetOption = None,
) -> None:
    """Serve the Mathpix-compatible v3 API, /health, /metrics and /docs."""
    import uvicorn

    from scipix.engines.registry import build_engine
    from scipix.server import create_app

    with cli_errors():
        extra: dict[str, Any] = {}
        if host is not None:
            extra["server.host"] = host
        if port is not None:
            extra["server.port"] = port
        if workers is not None:
            extra["server.workers"] = workers
        if engine is not None:
            extra["engines.default"] = engine
        settings = settings_from_cli(config, sets, extra)
        bind = bind_host(settings)
        # Load the models here, once, so that a missing model is a one-line error.
        app = create_app(settings, build_engine(settings))
        uvicorn.run(
            app,
            host=bind,
            port=settings.server.port,
            log_config=None,
            access_log=False,
            server_header=False,
            timeout_graceful_shutdown=10,
        )


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)


__all__ = ["bind_host", "is_loopback", "register", "serve"]
