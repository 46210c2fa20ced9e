"""Run a real server with the test double engine in its own process (for restart tests).

Usage: python launch_double_server.py DATA_DIR PORT DELAY_SECS
"""

from __future__ import annotations

import sys
from pathlib import Path

import uvicorn
from server_testkit import TestDoubleEngine, settings_for

from scipix.server import create_app


def main() -> None:
    data_dir, port, delay = Path(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    settings = settings_for(data_dir, **{"server.workers": 1})
    app = create_app(settings, TestDoubleEngine(delay=delay))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main()
