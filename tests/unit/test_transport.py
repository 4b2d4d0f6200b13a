"""The kept-alive JSON-RPC transport, against a real local HTTP server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
import requests

from node.chain.errors import ChainError
from node.chain.transport import KeepAliveHTTPProvider, connect, raw_rpc


class _Handler(BaseHTTPRequestHandler):
    """Answers eth_blockNumber; `/close` answers then closes the connection (as a server does
    with idle keep-alive connections); `/fail` answers 503; `/error` sends a JSON-RPC error."""

    protocol_version = "HTTP/1.1"
    seen: ClassVar[list[dict[str, str]]] = []

    def do_POST(self) -> None:
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).seen.append({"path": self.path, "auth": self.headers.get("Authorization", "")})
        if self.path == "/fail":
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        reply = {"jsonrpc": "2.0", "id": request["id"], "result": hex(len(type(self).seen))}
        if self.path == "/error":
            reply = {"jsonrpc": "2.0", "id": request["id"], "error": {"code": -32000, "message": "header not found"}}
        body = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        if self.path == "/close":
            self.close_connection = True

    def log_message(self, *args: object) -> None:  # Quiet.
        pass


@pytest.fixture
def server() -> Iterator[str]:
    _Handler.seen = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_requests_reuse_one_connection_and_survive_the_server_closing_it(server):
    w3 = connect(f"http://{server}/close")
    assert [w3.eth.block_number for _ in range(3)] == [1, 2, 3]  # A fresh connection each time.
    kept = connect(f"http://{server}/")
    assert [kept.eth.block_number for _ in range(3)] == [4, 5, 6]
    assert [s["path"] for s in _Handler.seen] == ["/close"] * 3 + ["/"] * 3


def test_http_error_status_raises_requests_http_error(server):
    provider = KeepAliveHTTPProvider(f"http://{server}/fail")
    with pytest.raises(requests.HTTPError, match="503"):
        provider.make_request("eth_blockNumber", [])  # type: ignore[arg-type]


def test_url_credentials_become_basic_auth_and_never_show(server):
    provider = KeepAliveHTTPProvider(f"http://alice:s3cret@{server}/rpc?key=k3y")
    assert provider.make_request("eth_blockNumber", [])["result"] == "0x1"  # type: ignore[arg-type]
    assert _Handler.seen == [{"path": "/rpc?key=k3y", "auth": "Basic YWxpY2U6czNjcmV0"}]
    for text in (repr(provider), str(provider)):
        assert "s3cret" not in text and "k3y" not in text and "alice" not in text


def test_non_http_url_is_refused():
    with pytest.raises(ValueError, match="not an http"):
        KeepAliveHTTPProvider("ws://127.0.0.1:8545")


def test_raw_rpc_returns_the_unformatted_result(server):
    assert raw_rpc(connect(f"http://{server}/"), "eth_blockNumber", []) == "0x1"


def test_raw_rpc_raises_chain_error_on_an_error_reply(server):
    with pytest.raises(ChainError, match=r"eth_getLogs failed: .*header not found"):
        raw_rpc(connect(f"http://{server}/error"), "eth_getLogs", [{}])
