"""Bounded fetches from peers, against a real HTTP server on loopback: refused addresses and
schemes, a drip-fed body cut at the deadline, a large body cut at the cap."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from node.net import FetchError, FetchLimits, check_url, fetch


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/drip":  # Eight bytes, one every 0.3 s: a per-read timeout never fires.
            self.send_response(200)
            self.send_header("Content-Length", "8")
            self.end_headers()
            for _ in range(8):
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(0.3)
        elif self.path == "/big":  # No Content-Length: the cap must count what arrives.
            self.send_response(200)
            self.end_headers()
            for _ in range(64):
                self.wfile.write(b"y" * 65536)
        elif self.path == "/declared":
            self.send_response(200)
            self.send_header("Content-Length", str(10**9))
            self.end_headers()
        elif self.path == "/ok":
            self.send_response(200)
            self.send_header("Content-Length", "5")
            self.end_headers()
            self.wfile.write(b"hello")
        else:
            self.send_response(404)
            self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


LOCAL = FetchLimits(deadline=1.0, max_bytes=1 << 20, allow_private=True)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/x",
        "http://10.1.2.3/x",
        "http://192.168.0.1/",
        "http://169.254.169.254/latest",
        "http://[::1]/",
    ],
)
def test_check_url_refuses_loopback_private_and_link_local_addresses(url: str) -> None:
    with pytest.raises(FetchError, match="not a public address"):
        check_url(url)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/x", "gopher://x", "http:///nohost"])
def test_check_url_refuses_schemes_other_than_http_and_https(url: str) -> None:
    with pytest.raises(FetchError, match="only http and https"):
        check_url(url, allow_private=True)


def test_check_url_allows_private_addresses_when_told() -> None:
    check_url("http://127.0.0.1:9/x", allow_private=True)


def test_fetch_refuses_loopback_by_default(server: str) -> None:
    with httpx.Client() as client, pytest.raises(FetchError, match="not a public address"):
        fetch(client, f"{server}/ok", FetchLimits())


def test_fetch_returns_the_body_of_a_200(server: str) -> None:
    with httpx.Client() as client:
        assert fetch(client, f"{server}/ok", LOCAL) == b"hello"


def test_fetch_cuts_a_drip_fed_body_at_its_deadline(server: str) -> None:
    started = time.monotonic()
    with httpx.Client() as client, pytest.raises(FetchError, match="took more than 1 s"):
        fetch(client, f"{server}/drip", LOCAL)
    assert time.monotonic() - started < 2.0  # The deadline, plus at most one read's wait.


def test_fetch_cuts_a_body_over_the_cap(server: str) -> None:
    with httpx.Client() as client, pytest.raises(FetchError, match="more than 1048576 bytes"):
        fetch(client, f"{server}/big", LOCAL)


def test_fetch_refuses_a_declared_length_over_the_cap_without_reading(server: str) -> None:
    with httpx.Client() as client, pytest.raises(FetchError, match="declares 1000000000 bytes"):
        fetch(client, f"{server}/declared", LOCAL)


def test_fetch_reports_an_error_status(server: str) -> None:
    with httpx.Client() as client, pytest.raises(FetchError, match="answered 404"):
        fetch(client, f"{server}/missing", LOCAL)
