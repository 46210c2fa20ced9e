"""Engines behind one protocol: the local recognizer and remote Mathpix-compatible APIs."""

from scipix.engines.base import Engine, RecognizeOptions

__all__ = ["Engine", "RecognizeOptions"]
