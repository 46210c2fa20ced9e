"""Sliding-window rate limits per API key and per client IP (the ``limits`` library)."""

from __future__ import annotations

import math
import time

from limits import RateLimitItemPerSecond
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from scipix.config import RateLimitConfig
from scipix.server.auth import Principal
from scipix.server.errors import ApiError


class RateLimiter:
    """Counts requests in a moving window; over the limit raises ``http_max_requests``."""

    def __init__(self, config: RateLimitConfig) -> None:
        self.enabled = config.enabled
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        window = config.window_secs
        self._per_key = RateLimitItemPerSecond(config.requests_per_minute, window)
        self._per_ip = RateLimitItemPerSecond(config.per_ip_requests_per_minute, window)

    def check_ip(self, client_ip: str) -> None:
        """Count one request from ``client_ip`` (before authentication)."""
        if self.enabled and not self._limiter.hit(self._per_ip, "ip", client_ip):
            self._refuse(self._per_ip, "per_ip_limit", "ip", client_ip)

    def check_key(self, principal: Principal) -> None:
        """Count one request of an authenticated ``principal``."""
        if (
            self.enabled
            and principal.authenticated
            and not self._limiter.hit(self._per_key, "key", principal.app_id)
        ):
            self._refuse(self._per_key, "per_key_limit", "key", principal.app_id)

    def _refuse(self, item: RateLimitItemPerSecond, name: str, *ident: str) -> None:
        stats = self._limiter.get_window_stats(item, *ident)
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        raise ApiError(
            "http_max_requests",
            "Too many requests",
            detail={"limit_name": name, "limit_value": item.amount},
            retry_after=retry_after,
        )


__all__ = ["RateLimiter"]
