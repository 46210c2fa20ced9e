"""Fixtures for the server tests (see server_testkit.py for the test double engine)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from server_testkit import RunningServer, TestDoubleEngine, run_server, settings_for

MakeServer = Callable[..., RunningServer]


@pytest.fixture
def make_server(tmp_path: Path) -> Iterator[MakeServer]:
    """Start a real server: ``make_server(engine=None, data_dir=None, build=False, **settings)``."""
    with ExitStack() as stack:

        def make(
            engine: Any = None, data_dir: Path | None = None, build: bool = False, **overrides: Any
        ) -> RunningServer:
            """``build=True``: give no engine, the app builds the configured one."""
            settings = settings_for(data_dir or tmp_path / "data", **overrides)
            chosen = None if build else engine or TestDoubleEngine()
            return stack.enter_context(run_server(settings, chosen))

        yield make


@pytest.fixture
def server(make_server: MakeServer) -> RunningServer:
    """A server with the test double engine, no keys and private URLs allowed."""
    return make_server(**{"server.allow_private_urls": True})


@pytest.fixture
def client(server: RunningServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as c:
        yield c
