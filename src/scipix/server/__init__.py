"""The Mathpix-compatible HTTP server (FastAPI + uvicorn)."""

from scipix.server.app import create_app

__all__ = ["create_app"]
