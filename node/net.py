"""Bounded HTTP fetches from peers: a wall-clock deadline, a byte cap, and allowed addresses.

Whatever a node fetches from another party (a worker's served results, a job's input URI) comes
from someone who may be hostile: a drip-fed body that never ends, a body of gigabytes, a URL that
points into the fetching node's own network. `fetch` refuses all three. Loopback, private,
link-local and other non-public addresses are refused unless `allow_private` is set (a devnet,
where every node is on 127.0.0.1). A name is resolved and every address it resolves to checked
before the request; a rebinding DNS server could still answer differently for the connection
itself, which only an egress proxy closes.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from node.errors import NightshiftError

SCHEMES = frozenset({"http", "https"})


class FetchError(NightshiftError):
    """A peer's URL was refused, unreachable, too slow, too large, or answered with an error."""


@dataclass(frozen=True)
class FetchLimits:
    """How much a fetch may take: `deadline` seconds in all, `max_bytes` of body."""

    deadline: float = 10.0
    max_bytes: int = 1 << 20
    allow_private: bool = False


def check_url(url: str, allow_private: bool = False) -> None:
    """Raises `FetchError` unless `url` is HTTP(S) to a public address (or any, if allowed)."""
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES or not parts.hostname:
        raise FetchError(f"refused {url!r}: only http and https URLs with a host")
    if allow_private:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError(f"cannot resolve {parts.hostname!r}: {exc}") from None
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if not address.is_global or address.is_multicast:
            raise FetchError(f"refused {url!r}: {address} is not a public address")


def fetch(client: httpx.Client, url: str, limits: FetchLimits, params: dict[str, Any] | None = None) -> bytes:
    """The body of a 200 answer to GET `url`, within `limits`; `FetchError` otherwise."""
    check_url(url, limits.allow_private)
    started = time.monotonic()
    timeout = httpx.Timeout(limits.deadline)
    try:
        with client.stream("GET", url, params=params, timeout=timeout, follow_redirects=False) as response:
            if response.status_code != 200:
                raise FetchError(f"{url} answered {response.status_code}")
            declared = response.headers.get("content-length")
            if declared is not None and declared.isdigit() and int(declared) > limits.max_bytes:
                raise FetchError(f"{url} declares {declared} bytes, over the {limits.max_bytes} cap")
            body = bytearray()
            for chunk in response.iter_raw():
                body += chunk
                if len(body) > limits.max_bytes:
                    raise FetchError(f"{url} sent more than {limits.max_bytes} bytes")
                if time.monotonic() - started > limits.deadline:
                    raise FetchError(f"{url} took more than {limits.deadline:g} s")
    except httpx.HTTPError as exc:
        raise FetchError(f"{url}: {type(exc).__name__}: {exc}") from None
    return bytes(body)


def stream_lines(client: httpx.Client, url: str, limits: FetchLimits) -> Iterator[bytes]:
    """The lines of a 200 answer to GET `url` as they arrive, within `limits` in all (a line
    longer than the cap is refused too); `FetchError` otherwise."""
    check_url(url, limits.allow_private)
    started, received = time.monotonic(), 0
    try:
        with client.stream("GET", url, timeout=httpx.Timeout(limits.deadline), follow_redirects=False) as response:
            if response.status_code != 200:
                raise FetchError(f"{url} answered {response.status_code}")
            pending = b""
            for chunk in response.iter_raw():
                received += len(chunk)
                if received > limits.max_bytes:
                    raise FetchError(f"{url} sent more than {limits.max_bytes} bytes")
                if time.monotonic() - started > limits.deadline:
                    raise FetchError(f"{url} took more than {limits.deadline:g} s")
                *lines, pending = (pending + chunk).split(b"\n")
                yield from lines
            if pending:
                yield pending
    except httpx.HTTPError as exc:
        raise FetchError(f"{url}: {type(exc).__name__}: {exc}") from None
