"""The local recognizer: connected components + a small sequence model, numpy only."""

from scipix.recognizer.config import MODELS, ModelConfig
from scipix.recognizer.predictor import Recognizer, RecognizerSettings

__all__ = ["MODELS", "ModelConfig", "Recognizer", "RecognizerSettings"]
