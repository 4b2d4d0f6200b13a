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

from node.client import ClientError, RequesterClient, UriInput
from node.config import GatewaySettings
from node.gateway.inputs import InputHost

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
    inputs: InputHost | None = None  # Where long inputs are hosted; None: every input inline.

    @classmethod
    def from_settings(
        cls, s: GatewaySettings, host: str, port: int, price: int | None = None, audit_bps: int | None = None
    ) -> GatewayConfig:
        """The operator's settings, served at `host:port` (`price` and `audit_bps` override theirs)."""
        public_url = s.gateway_public_url or f"http://{host}:{port}"
        return cls(
            s.gateway_price if price is None else price,
            s.gateway_audit_bps if audit_bps is None else audit_bps,
            api_key=s.gateway_api_key.get_secret_value() if s.gateway_api_key else None,
            max_concurrent=s.gateway_max_concurrent,
            inputs=InputHost(s.data_dir / "inputs", public_url, s.gateway_inline_max),
        )

    def place(self, client: RequesterClient, inputs: list[bytes], param: str) -> list[bytes | UriInput]:
        """The inputs as jobs carry them: long ones hosted here, if this gateway hosts inputs. One
        over the protocol's input cap is a 400 naming `param`: inline the chain would refuse it,
        and hosted no worker would fetch it."""
        cap = client.chain.view.params().max_input_bytes
        for i, data in enumerate(inputs):
            if len(data) > cap:
                where = f"{param}[{i}]" if len(inputs) > 1 else param
                message = f"{where} is {len(data):,} bytes as a job's input; the network takes at most {cap:,}"
                raise GatewayError(400, message, "invalid_request_error", param=param)
        return self.inputs.place(inputs) if self.inputs else list(inputs)


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
