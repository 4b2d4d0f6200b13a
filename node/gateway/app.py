"""The gateway: `POST /v1/embeddings`, `GET /v1/models` and (node.gateway.chat) chat and text
completions, following the OpenAI API.

Each embeddings request becomes batches of network jobs (as many as the market's batch size
needs) paid from the gateway operator's wallet. The response carries only results whose hash
matches the one committed on chain (`RequesterClient.fetch_batch` checks it); anything else is
an error. Errors are OpenAI-style objects. At most `max_concurrent` requests are served at once;
the excess is refused at once with a 429 and `Retry-After`, never queued to hang.
"""

from __future__ import annotations

import base64
import struct
import threading
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from node.client import COMMITTED, RequesterClient
from node.gateway.chat import router as chat_router
from node.gateway.deps import AuthDep, GatewayConfig, GatewayError, SlotDep, network_errors
from node.gateway.inputs import INPUTS_PATH, InputHost
from node.inference.encoding import decode_output

__all__ = ["GatewayConfig", "create_gateway"]

EMBEDDING_MODELS = {"all-MiniLM-L6-v2"}
MAX_INPUTS = 2048  # What the OpenAI API accepts in one embeddings request.


class EmbeddingsRequest(BaseModel):
    model: str
    input: str | list[str] = Field(description="One text or a list of texts.")
    encoding_format: Literal["float", "base64"] = "float"
    user: str | None = None


def create_gateway(client: RequesterClient, config: GatewayConfig) -> FastAPI:
    app = FastAPI(title="Nightshift gateway (OpenAI-compatible)", version="1")
    app.state.client, app.state.config = client, config
    app.state.slots = threading.BoundedSemaphore(config.max_concurrent)

    @app.exception_handler(GatewayError)
    def gateway_error(_: Request, exc: GatewayError) -> JSONResponse:
        body = {"error": {"message": exc.message, "type": exc.type, "param": exc.param, "code": exc.code}}
        return JSONResponse(body, status_code=exc.status, headers=exc.headers)

    @app.exception_handler(StarletteHTTPException)
    def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        """An unknown path or a wrong method, as an OpenAI error object too."""
        body = {"error": {"message": str(exc.detail), "type": "invalid_request_error", "param": None, "code": None}}
        return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0]
        param = ".".join(str(p) for p in first["loc"][1:]) or None
        if first["type"] == "json_invalid":
            message, param = "the request body is not valid JSON", None
        elif param is None:
            message = f"the request body: {first['msg']} (a JSON object)"
        else:
            message = f"{param}: {first['msg']}"
        body = {
            "error": {
                "message": message,
                "type": "invalid_request_error",
                "param": param,
                "code": None,
            }
        }
        return JSONResponse(body, status_code=400)

    @app.get("/health")
    def health(request: Request) -> dict[str, Any]:
        """Liveness, without the API key: what a supervisor or a load balancer probes."""
        return {"status": "ok", "address": request.app.state.client.chain.address}

    @app.get("/v1/models")
    def list_models(_: AuthDep, request: Request) -> dict[str, Any]:
        registered = request.app.state.client.chain.registered_models()
        data = [{"id": name, "object": "model", "created": 0, "owned_by": "nightshift"} for name in sorted(registered)]
        return {"object": "list", "data": data}

    @app.post("/v1/embeddings")
    def embeddings(body: EmbeddingsRequest, _: AuthDep, __: SlotDep, request: Request) -> dict[str, Any]:
        client: RequesterClient = request.app.state.client
        cfg: GatewayConfig = request.app.state.config
        texts = [body.input] if isinstance(body.input, str) else body.input
        if not texts or any(not t for t in texts):
            raise GatewayError(
                400,
                "input must be a non-empty string or a list of non-empty strings",
                "invalid_request_error",
                param="input",
            )
        if len(texts) > MAX_INPUTS:
            raise GatewayError(
                400, f"input has {len(texts)} texts; at most {MAX_INPUTS}", "invalid_request_error", param="input"
            )
        if body.model not in EMBEDDING_MODELS or body.model not in client.chain.registered_models():
            raise GatewayError(
                404, f"The model `{body.model}` does not exist", "invalid_request_error", "model_not_found", "model"
            )
        vectors = _run(client, cfg, body.model, [t.encode() for t in texts])
        data = [
            {"object": "embedding", "index": i, "embedding": _format(v, body.encoding_format)}
            for i, v in enumerate(vectors)
        ]
        tokens = sum(len(t.split()) for t in texts)
        return {
            "object": "list",
            "data": data,
            "model": body.model,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }

    @app.get(INPUTS_PATH + "/{digest}", response_class=Response)
    def hosted_input(digest: str, request: Request) -> Response:
        """A long input this gateway hosts for its jobs, by its keccak-256. It takes no API key
        and no request slot: workers and verifiers must reach it while the request that
        submitted it holds its slot, and the chain makes every input public anyway."""
        host: InputHost | None = request.app.state.config.inputs
        try:
            data = host.get(digest) if host else None
        except ValueError as exc:
            raise GatewayError(400, str(exc), "invalid_request_error", param="digest") from None
        if data is None:
            raise GatewayError(404, f"no input {digest} is hosted here", "invalid_request_error")
        return Response(data, media_type="application/octet-stream")

    app.include_router(chat_router)
    return app


def _run(client: RequesterClient, cfg: GatewayConfig, model: str, inputs: list[bytes]) -> list[list[float]]:
    with network_errors():
        size = client.max_batch_jobs(cfg.price)
        if size == 0:
            raise GatewayError(503, "the gateway's price per job is above what one batch may carry", "api_error")
        placed = cfg.place(client, inputs, "input")
        subs = [
            client.submit(model, placed[start : start + size], cfg.price, audit_bps=cfg.audit_bps)
            for start in range(0, len(placed), size)
        ]
        outputs: list[bytes] = []
        for sub in subs:
            client.wait(sub.batch_id, set(COMMITTED), timeout=cfg.wait_timeout, poll=0.05)
            outputs += client.fetch_batch(sub.batch_id)
        return [decode_output(output).astype(float).tolist() for output in outputs]


def _format(vector: list[float], encoding: str) -> list[float] | str:
    if encoding == "base64":
        return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
    return vector
