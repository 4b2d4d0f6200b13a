"""`POST /v1/chat/completions` and `POST /v1/completions`, in the OpenAI shape.

Each request is one generation job, escrowed at the model's price per token times `max_tokens`
from the gateway operator's wallet. Without `stream` the answer is the committed result, checked
against its hash on chain. With `stream: true` the worker's text is relayed as server-sent events
in OpenAI's chunk format as it is generated (the worker streams a job only once it has taken it
on chain), and once the commit lands the gateway checks that what it streamed is the committed
text: if not, the stream ends with an error event instead of a finish reason. Either way the
stream ends with `data: [DONE]`.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from node.chain.protocol import batch_of, format_job
from node.client import COMMITTED, ClientError, RequesterClient
from node.gateway.deps import AuthDep, GatewayConfig, GatewayError, SlotDep, network_errors
from node.inference.base import plugin_classes
from node.inference.errors import OutputDecodeError
from node.inference.generation import Finish, Generation, GenerationRequest
from node.inference.models.causal_lm import CausalLM

log = logging.getLogger(__name__)
router = APIRouter()
DEFAULT_MAX_TOKENS = 64
ROLES = ("system", "user", "assistant")


class _Sampling(BaseModel):
    model_config = ConfigDict(extra="ignore")  # OpenAI's other fields (logit_bias, ...) are not served.

    model: str
    max_tokens: int | None = None
    max_completion_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    seed: int | None = None
    stop: str | list[str] | None = None
    n: int | None = None
    stream: bool = False
    stream_options: dict[str, Any] | None = None
    user: str | None = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: str
    content: str | None = None


class ChatCompletionRequest(_Sampling):
    messages: list[ChatMessage]


class CompletionRequest(_Sampling):
    prompt: Annotated[str, Field(description="One prompt.")]


def _invalid(message: str, param: str | None) -> GatewayError:
    return GatewayError(400, message, "invalid_request_error", param=param)


def _text_model(client: RequesterClient, name: str) -> tuple[type[CausalLM], int]:
    """The text model's plug-in and its price per token on chain; a 404 for any other name."""
    plugin = plugin_classes().get(name)
    registered = client.chain.registered_models().get(name)
    if registered is None or plugin is None:
        raise GatewayError(
            404, f"The model `{name}` does not exist", "invalid_request_error", "model_not_found", "model"
        )
    if not issubclass(plugin, CausalLM):
        raise GatewayError(
            404, f"The model `{name}` does not generate text", "invalid_request_error", "model_not_found", "model"
        )
    return plugin, int(registered["min_price"])


def _job(body: _Sampling, plugin: type[CausalLM], **prompt: Any) -> GenerationRequest:
    if body.n not in (None, 1):
        raise _invalid("only n = 1 is served", "n")
    max_tokens = body.max_completion_tokens or body.max_tokens
    max_tokens = DEFAULT_MAX_TOKENS if max_tokens is None else max_tokens
    context = plugin.context_length()
    if not 1 <= max_tokens <= context:
        raise _invalid(f"max_tokens must be from 1 to the model's context, {context}; got {max_tokens}", "max_tokens")
    fields = {"temperature": body.temperature, "top_p": body.top_p, "seed": body.seed}
    stop = [body.stop] if isinstance(body.stop, str) else body.stop
    try:
        return GenerationRequest.model_validate(
            {
                "max_tokens": max_tokens,
                "stop": stop or [],
                **prompt,
                **{k: v for k, v in fields.items() if v is not None},
            }
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        param = ".".join(str(p) for p in first["loc"]) or None
        raise _invalid(f"{param}: {first['msg']}" if param else first["msg"], param) from None


def _messages(body: ChatCompletionRequest) -> list[dict[str, str]]:
    if not body.messages:
        raise _invalid("messages must be a non-empty list", "messages")
    for i, m in enumerate(body.messages):
        if m.role not in ROLES:
            raise _invalid(f"messages.{i}.role must be one of {', '.join(ROLES)}; got {m.role!r}", f"messages.{i}.role")
        if m.content is None:
            raise _invalid(f"messages.{i}.content must be a string", f"messages.{i}.content")
    return [{"role": m.role, "content": m.content or ""} for m in body.messages]


@router.post("/v1/chat/completions", response_model=None)
def chat_completions(
    body: ChatCompletionRequest, _: AuthDep, __: SlotDep, request: Request
) -> dict[str, Any] | StreamingResponse:
    client: RequesterClient = request.app.state.client
    plugin, per_token = _text_model(client, body.model)
    job = _job(body, plugin, messages=_messages(body))
    return _serve(client, request.app.state.config, body, job, per_token, chat=True)


@router.post("/v1/completions", response_model=None)
def completions(
    body: CompletionRequest, _: AuthDep, __: SlotDep, request: Request
) -> dict[str, Any] | StreamingResponse:
    client: RequesterClient = request.app.state.client
    plugin, per_token = _text_model(client, body.model)
    job = _job(body, plugin, prompt=body.prompt)
    return _serve(client, request.app.state.config, body, job, per_token, chat=False)


def _serve(
    client: RequesterClient, cfg: GatewayConfig, body: _Sampling, job: GenerationRequest, per_token: int, chat: bool
) -> dict[str, Any] | StreamingResponse:
    with network_errors():
        inputs = cfg.place(client, [job.encode()], "messages" if chat else "prompt")
        sub = client.submit(body.model, inputs, per_token * job.max_tokens, audit_bps=cfg.audit_bps)
    (job_id,) = sub.job_ids
    shape = _Shape(f"{'chatcmpl' if chat else 'cmpl'}-{format_job(job_id)}", body.model, chat)
    if body.stream:
        usage = bool((body.stream_options or {}).get("include_usage"))
        return StreamingResponse(_events(client, cfg, job_id, shape, usage), media_type="text/event-stream")
    with network_errors():
        generation = _committed(client, cfg, job_id)
    if generation.finish == Finish.INVALID:
        raise _invalid("the prompt does not fit in the model's context with room to generate", "messages")
    return shape.whole(generation)


def _committed(client: RequesterClient, cfg: GatewayConfig, job_id: int) -> Generation:
    """The job's generation as committed on chain (the hash checked by `fetch`)."""
    client.wait(batch_of(job_id), set(COMMITTED), timeout=cfg.wait_timeout, poll=0.05)
    try:
        return Generation.decode(client.fetch(job_id))
    except OutputDecodeError as exc:
        raise ClientError(f"the worker committed something other than a generation: {exc}") from None


def _events(client: RequesterClient, cfg: GatewayConfig, job_id: int, shape: _Shape, usage: bool) -> Iterator[bytes]:
    yield shape.event(shape.chunk({"role": "assistant", "content": ""} if shape.chat else {"text": ""}))
    streamed = ""
    try:
        for text, finish in client.stream(job_id, timeout=cfg.wait_timeout):
            if finish is not None:
                break
            streamed += text
            yield shape.event(shape.chunk(shape.delta(text)))
    except ClientError as exc:  # The commit is the record: carry on from it.
        log.info("worker stream broke off; serving the committed text", extra={"job_id": job_id, "error": str(exc)})
    try:
        generation = _committed(client, cfg, job_id)
    except ClientError as exc:
        yield shape.event({"error": {"message": str(exc), "type": "api_error", "param": None, "code": None}})
        yield b"data: [DONE]\n\n"
        return
    if not generation.text.startswith(streamed):
        message = "the streamed text is not the text the worker committed on chain: discard it"
        yield shape.event(
            {"error": {"message": message, "type": "api_error", "param": None, "code": "stream_mismatch"}}
        )
    else:
        if len(generation.text) > len(streamed):
            yield shape.event(shape.chunk(shape.delta(generation.text[len(streamed) :])))
        yield shape.event(shape.chunk(shape.delta(None), finish=_finish(generation)))
        if usage:
            yield shape.event({**shape.chunk(None), "choices": [], "usage": _usage(generation)})
    yield b"data: [DONE]\n\n"


def _finish(generation: Generation) -> str:
    return "length" if generation.finish == Finish.LENGTH else "stop"


def _usage(g: Generation) -> dict[str, int]:
    return {
        "prompt_tokens": g.prompt_tokens,
        "completion_tokens": len(g.tokens),
        "total_tokens": g.prompt_tokens + len(g.tokens),
    }


class _Shape:
    """The OpenAI objects of one completion, chat or text."""

    def __init__(self, completion_id: str, model: str, chat: bool):
        self.id, self.model, self.chat, self.created = completion_id, model, chat, int(time.time())

    def _base(self, kind: str) -> dict[str, Any]:
        return {"id": self.id, "object": kind, "created": self.created, "model": self.model}

    def whole(self, g: Generation) -> dict[str, Any]:
        if self.chat:
            choice = {"index": 0, "message": {"role": "assistant", "content": g.text}, "logprobs": None}
        else:
            choice = {"index": 0, "text": g.text, "logprobs": None}
        body = self._base("chat.completion" if self.chat else "text_completion")
        return {**body, "choices": [{**choice, "finish_reason": _finish(g)}], "usage": _usage(g)}

    def delta(self, text: str | None) -> dict[str, Any]:
        if self.chat:
            return {} if text is None else {"content": text}
        return {"text": text or ""}

    def chunk(self, delta: dict[str, Any] | None, finish: str | None = None) -> dict[str, Any]:
        body = self._base("chat.completion.chunk" if self.chat else "text_completion")
        if delta is None:
            return body
        choice = {"index": 0, "delta": delta} if self.chat else {"index": 0, **delta}
        return {**body, "choices": [{**choice, "logprobs": None, "finish_reason": finish}]}

    @staticmethod
    def event(obj: dict[str, Any]) -> bytes:
        return b"data: " + json.dumps(obj).encode() + b"\n\n"
