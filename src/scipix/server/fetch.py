"""Image sources: ``data:`` URLs, and http(s) URLs fetched with guards against SSRF.

For an http(s) URL the host is resolved first and every address it resolves to is checked:
private, loopback, link-local, multicast, reserved and unspecified addresses are refused unless
``server.allow_private_urls`` is set. The request then goes to the checked address itself (the
Host header and TLS SNI carry the name), so a second DNS answer cannot swap in another target.
Redirects are followed by hand, each hop checked the same way; the size and the total time are
bounded.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import ipaddress
import socket
from dataclasses import dataclass
from typing import Literal

import httpx

from scipix.server.errors import ApiError

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_REDIRECTS = {301, 302, 303, 307, 308}


@dataclass(frozen=True, slots=True)
class UrlPolicy:
    allow_private: bool = False
    timeout_secs: float = 10.0
    max_bytes: int = 10 * 1024 * 1024
    max_redirects: int = 5


def is_public_address(ip: IpAddress) -> bool:
    """True for a globally routable unicast address."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


def decode_data_url(src: str) -> bytes:
    """The bytes of a ``data:[<type>];base64,<data>`` URL."""
    header, sep, payload = src.partition(",")
    if not sep:
        raise ApiError("image_decode_error", "malformed data URL: no ',' before the data")
    if not header.lower().endswith(";base64"):
        raise ApiError("image_decode_error", "data URLs must be base64 encoded")
    try:
        return base64.b64decode("".join(payload.split()), validate=True)
    except (binascii.Error, ValueError):
        raise ApiError("image_decode_error", "the data URL is not valid base64") from None


def classify_src(src: str) -> Literal["data", "url"]:
    """Whether ``src`` is a data URL or an http(s) URL; anything else is refused."""
    head = src[:16].lower()
    if head.startswith("data:"):
        return "data"
    if head.startswith(("http://", "https://")):
        return "url"
    raise ApiError("image_download_error", "src must be a data URL or an http(s) URL")


async def _resolve(url: httpx.URL, policy: UrlPolicy) -> list[IpAddress]:
    if url.scheme not in ("http", "https"):
        raise ApiError("image_download_error", f"unsupported URL scheme: {url.scheme!r}")
    host = url.host
    if not host:
        raise ApiError("image_download_error", "the URL has no host")
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise ApiError("image_download_error", f"cannot resolve host {host!r}") from None
    addresses: list[IpAddress] = []
    for info in infos:
        raw = str(info[4][0]).split("%", 1)[0]
        addresses.append(ipaddress.ip_address(raw))
    if not addresses:
        raise ApiError("image_download_error", f"cannot resolve host {host!r}")
    if not policy.allow_private:
        for ip in addresses:
            if not is_public_address(ip):
                raise ApiError(
                    "image_download_error",
                    f"refused: {host!r} resolves to a private or reserved address",
                )
    return list(dict.fromkeys(addresses))


async def _send(
    client: httpx.AsyncClient,
    method: str,
    url: httpx.URL,
    policy: UrlPolicy,
    *,
    stream: bool = False,
    json_body: object = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """Send to the first checked address of ``url``'s host that accepts a connection."""
    error: httpx.ConnectError | None = None
    for ip in await _resolve(url, policy):
        request = _pinned_request(client, method, url, ip, json_body=json_body, headers=headers)
        try:
            return await client.send(request, stream=stream)
        except httpx.ConnectError as exc:
            error = exc
    assert error is not None
    raise error


def _pinned_request(
    client: httpx.AsyncClient,
    method: str,
    url: httpx.URL,
    ip: IpAddress,
    *,
    json_body: object = None,
    headers: dict[str, str] | None = None,
) -> httpx.Request:
    """A request to ``ip`` that names the original host in Host and TLS SNI."""
    all_headers = dict(headers or {})
    all_headers["Host"] = url.netloc.decode("ascii")
    extensions: dict[str, str] = {}
    if url.scheme == "https":
        extensions["sni_hostname"] = url.host
    target = url.copy_with(host=str(ip))
    return client.build_request(
        method, target, headers=all_headers, json=json_body, extensions=extensions
    )


async def fetch_image(client: httpx.AsyncClient, src: str, policy: UrlPolicy) -> bytes:
    """Download the image at ``src`` under ``policy``."""
    try:
        async with asyncio.timeout(policy.timeout_secs):
            return await _fetch(client, httpx.URL(src), policy)
    except TimeoutError:
        raise ApiError(
            "image_download_error", f"the download took longer than {policy.timeout_secs:g} s"
        ) from None
    except httpx.InvalidURL as exc:
        raise ApiError("image_download_error", f"invalid URL: {exc}") from None
    except httpx.HTTPError as exc:
        raise ApiError("image_download_error", f"download failed: {type(exc).__name__}") from None


async def _fetch(client: httpx.AsyncClient, url: httpx.URL, policy: UrlPolicy) -> bytes:
    for _hop in range(policy.max_redirects + 1):
        response = await _send(
            client, "GET", url, policy, stream=True, headers={"Accept": "image/*"}
        )
        try:
            if response.status_code in _REDIRECTS:
                location = response.headers.get("location")
                if not location:
                    raise ApiError("image_download_error", "redirect without a Location")
                url = url.join(location)
                continue
            if response.status_code != 200:
                raise ApiError(
                    "image_download_error", f"the URL answered HTTP {response.status_code}"
                )
            return await _read_limited(response, policy.max_bytes)
        finally:
            await response.aclose()
    raise ApiError("image_download_error", f"more than {policy.max_redirects} redirects")


async def _read_limited(response: httpx.Response, max_bytes: int) -> bytes:
    declared = response.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise ApiError("image_max_size", f"the image is over the limit of {max_bytes} bytes")
    chunks: list[bytes] = []
    total = 0
    async for chunk in response.aiter_bytes():
        total += len(chunk)
        if total > max_bytes:
            raise ApiError("image_max_size", f"the image is over the limit of {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def post_json(
    client: httpx.AsyncClient,
    url: str,
    body: object,
    policy: UrlPolicy,
    headers: dict[str, str] | None = None,
) -> int:
    """POST ``body`` as JSON to ``url`` (checked like image URLs; no redirects followed)."""
    async with asyncio.timeout(policy.timeout_secs):
        response = await _send(
            client, "POST", httpx.URL(url), policy, json_body=body, headers=headers
        )
        return response.status_code


def make_client() -> httpx.AsyncClient:
    """The HTTP client for sources and callbacks: no proxies from the environment, no redirects."""
    return httpx.AsyncClient(trust_env=False, follow_redirects=False, timeout=30.0)


__all__ = [
    "UrlPolicy",
    "classify_src",
    "decode_data_url",
    "fetch_image",
    "is_public_address",
    "make_client",
    "post_json",
]
