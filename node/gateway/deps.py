"""What the gateway's routes share: OpenAI-style errors, the operator's settings, the API key
check and the bound on requests served at once."""

from __future__ import annotations

import hmac
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request

from node.client import ClientError

RETRY_AFTER_S = 1


class GatewayError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        error_type: str,
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.status, self.message, self.type, self.code, self.param = status, message, error_type, code, param
        self.headers = headers


@dataclass
class GatewayConfig:
    price: int  # Credit base units per job.
    audit_bps: int = 0
    wait_timeout: float = 60.0
    api_key: str | None = None
    max_concurrent: int = 8  # Requests served at once; more get a 429.


def _authorize(request: Request, authorization: Annotated[str | None, Header()] = None) -> None:
    key = request.app.state.config.api_key
    given = (authorization or "").encode()
    if key and not hmac.compare_digest(given, f"Bearer {key}".encode()):  # Constant time: no timing oracle.
        raise GatewayError(401, "Incorrect API key provided", "invalid_request_error", "invalid_api_key")


AuthDep = Annotated[None, Depends(_authorize)]


def _slot(request: Request) -> Iterator[None]:
    """Holds one of the gateway's request slots for the request, or refuses it now: a full
    gateway answers 429 with `Retry-After` rather than queueing requests until they time out."""
    slots: threading.BoundedSemaphore = request.app.state.slots
    if not slots.acquire(blocking=False):
        raise GatewayError(
            429,
            "the gateway is serving as many requests as it can; retry shortly",
            "requests",
            "rate_limit_exceeded",
            headers={"Retry-After": str(RETRY_AFTER_S)},
        )
    try:
        yield
    finally:
        slots.release()


SlotDep = Annotated[None, Depends(_slot)]


@contextmanager
def network_errors() -> Iterator[None]:
    """The network's failures as OpenAI errors: a 502 for what the workers did, a 503 for what
    the gateway's own wallet or RPC could not do."""
    try:
        yield
    except GatewayError:
        raise
    except ClientError as exc:
        raise GatewayError(502, f"the network could not serve this request: {exc}", "api_error") from None
    except Exception as exc:  # Chain errors (balance, RPC): the operator's problem, not the caller's.
        raise GatewayError(503, f"the gateway cannot pay for jobs right now: {exc}", "api_error") from None
