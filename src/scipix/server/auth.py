"""API keys: ``app_id`` + ``app_key`` headers (or ``X-API-Key``), kept only as SHA-256 digests.

A presented key is hashed and compared with every configured digest in constant time
(``hmac.compare_digest``); keys never reach a log line or an error message.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass

from scipix.config import ApiKeyConfig
from scipix.server.errors import ApiError

ANONYMOUS = "anonymous"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the app_id of a valid key, or ``anonymous`` when auth is off.

    ``engines`` lists the engines the key may use (empty: every engine).
    """

    app_id: str
    authenticated: bool
    admin: bool = False
    engines: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _Entry:
    app_id: str
    digest: bytes
    admin: bool
    engines: tuple[str, ...]


def key_digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8")).digest()


class KeyRing:
    """The configured keys, hashed."""

    def __init__(self, keys: Sequence[ApiKeyConfig], *, require_auth: bool = False) -> None:
        entries = []
        for cfg in keys:
            if cfg.key is not None:
                digest = key_digest(cfg.key.get_secret_value())
            else:
                assert cfg.key_sha256 is not None
                digest = bytes.fromhex(cfg.key_sha256)
            entries.append(_Entry(cfg.app_id, digest, cfg.admin, tuple(cfg.engines)))
        self._entries = tuple(entries)
        self.enabled = bool(self._entries) or require_auth

    def __len__(self) -> int:
        return len(self._entries)

    def authenticate(
        self, app_id: str | None, app_key: str | None, api_key: str | None = None
    ) -> Principal:
        """The caller's principal; raises ``http_unauthorized`` for missing or wrong keys."""
        if not self.enabled:
            return Principal(ANONYMOUS, authenticated=False, admin=True)
        presented = app_key or api_key
        if not presented:
            raise ApiError("http_unauthorized", "missing app_key (or X-API-Key) header")
        digest = key_digest(presented)
        match: _Entry | None = None
        for entry in self._entries:  # compare with every entry: time does not leak which
            if hmac.compare_digest(digest, entry.digest) and match is None:
                match = entry
        if match is None or (
            app_id and not hmac.compare_digest(app_id.encode(), match.app_id.encode())
        ):
            raise ApiError("http_unauthorized", "invalid credentials")
        return Principal(match.app_id, authenticated=True, admin=match.admin, engines=match.engines)


__all__ = ["ANONYMOUS", "KeyRing", "Principal", "key_digest"]
