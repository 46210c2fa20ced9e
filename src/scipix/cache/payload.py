"""What a cache entry remembers of an OcrResult, how it is serialised, and optional encryption.

Boxes are kept relative to the ink's bounding box (in units of its height), so a hit on a copy
with other padding or at another scale gets boxes placed on its own ink. With encryption on,
the whole serialised result (LaTeX, text, boxes) is a Fernet token; the key is read from the
environment variable named by ``cache.encryption_key_env`` and never stored.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

from scipix.errors import CacheError
from scipix.types import BoundingBox, OcrResult, Timings


@dataclass(frozen=True, slots=True)
class StoredBox:
    x: float
    y: float
    width: float
    height: float
    confidence: float
    label: str


@dataclass(frozen=True, slots=True)
class StoredResult:
    """The cached part of an OcrResult."""

    latex: str
    latex_styled: str
    text: str
    confidence: float
    confidence_rate: float
    engine: str
    boxes: tuple[StoredBox, ...] = ()

    @classmethod
    def from_result(cls, result: OcrResult, bbox: tuple[int, int, int, int]) -> StoredResult:
        bx, by, _, bh = bbox
        unit = float(max(1, bh))
        boxes = tuple(
            StoredBox(
                (b.x - bx) / unit,
                (b.y - by) / unit,
                b.width / unit,
                b.height / unit,
                b.confidence,
                b.label,
            )
            for b in result.boxes
        )
        return cls(
            latex=result.latex,
            latex_styled=result.latex_styled,
            text=result.text,
            confidence=result.confidence,
            confidence_rate=result.confidence_rate,
            engine=result.engine,
            boxes=boxes,
        )

    def to_result(
        self, bbox: tuple[int, int, int, int], image_size: tuple[int, int], seconds: float
    ) -> OcrResult:
        """The OcrResult for a query whose ink box is ``bbox`` in an image of ``image_size``."""
        bx, by, _, bh = bbox
        unit = float(max(1, bh))
        boxes = tuple(
            BoundingBox(
                round(bx + b.x * unit),
                round(by + b.y * unit),
                max(1, round(b.width * unit)),
                max(1, round(b.height * unit)),
                b.confidence,
                b.label,
            )
            for b in self.boxes
        )
        return OcrResult(
            latex=self.latex,
            latex_styled=self.latex_styled,
            text=self.text,
            confidence=self.confidence,
            confidence_rate=self.confidence_rate,
            boxes=boxes,
            image_width=image_size[0],
            image_height=image_size[1],
            timings=Timings(total=seconds),
            cached=True,
            engine=self.engine,
        )

    def to_json(self) -> bytes:
        data: dict[str, Any] = {
            "latex": self.latex,
            "latex_styled": self.latex_styled,
            "text": self.text,
            "confidence": self.confidence,
            "confidence_rate": self.confidence_rate,
            "engine": self.engine,
            "boxes": [[b.x, b.y, b.width, b.height, b.confidence, b.label] for b in self.boxes],
        }
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    @classmethod
    def from_json(cls, raw: bytes) -> StoredResult:
        try:
            data = json.loads(raw.decode("utf-8"))
            return cls(
                latex=str(data["latex"]),
                latex_styled=str(data["latex_styled"]),
                text=str(data["text"]),
                confidence=float(data["confidence"]),
                confidence_rate=float(data["confidence_rate"]),
                engine=str(data["engine"]),
                boxes=tuple(
                    StoredBox(
                        float(b[0]), float(b[1]), float(b[2]), float(b[3]), float(b[4]), str(b[5])
                    )
                    for b in data["boxes"]
                ),
            )
        except (ValueError, KeyError, TypeError, IndexError, UnicodeDecodeError) as exc:
            raise CacheError(f"corrupt cache entry: {exc}") from None


class Encryptor:
    """Fernet encryption of payloads with a key from the environment."""

    def __init__(self, key: str) -> None:
        try:
            from cryptography.fernet import Fernet
        except ImportError:
            raise CacheError(
                "cache encryption needs the 'cryptography' package: pip install cryptography"
            ) from None
        try:
            self._fernet = Fernet(key.strip().encode("ascii"))
        except (ValueError, UnicodeEncodeError):
            raise CacheError(
                "the cache encryption key is not a Fernet key (32 url-safe base64 bytes); make one "
                "with: python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'"
            ) from None

    def encrypt(self, data: bytes) -> bytes:
        return self._fernet.encrypt(data)

    def decrypt(self, token: bytes) -> bytes:
        from cryptography.fernet import InvalidToken

        try:
            return self._fernet.decrypt(token)
        except InvalidToken:
            raise CacheError("cannot decrypt a cache entry: wrong key or tampered data") from None


def load_encryptor(enabled: bool, env_name: str) -> Encryptor | None:
    """The encryptor for ``cache.encrypt``; None when encryption is off."""
    if not enabled:
        return None
    key = os.environ.get(env_name, "")
    if not key:
        raise CacheError(f"cache.encrypt is on but the environment variable {env_name} is not set")
    return Encryptor(key)


def encode_payload(stored: StoredResult, encryptor: Encryptor | None) -> tuple[bytes, bool]:
    raw = stored.to_json()
    if encryptor is None:
        return raw, False
    return encryptor.encrypt(raw), True


def decode_payload(raw: bytes, encrypted: bool, encryptor: Encryptor | None) -> StoredResult:
    if encrypted:
        if encryptor is None:
            raise CacheError("the cache entry is encrypted and no key is configured")
        raw = encryptor.decrypt(raw)
    return StoredResult.from_json(raw)


__all__ = [
    "Encryptor",
    "StoredBox",
    "StoredResult",
    "decode_payload",
    "encode_payload",
    "load_encryptor",
]
