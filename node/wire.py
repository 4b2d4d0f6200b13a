"""The worker API's wire format, shared by the worker that serves it and the verifiers and
requesters that read it: one schema, validated on both sides, so a malformed answer from a
hostile worker is a `ValidationError` and never a crash."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer

MAX_RESULTS = 256  # Results per `GET /v1/results`: about 0.5 MB of embeddings, in base64.
#: The most one results answer may hold: `MAX_RESULTS` outputs of up to 64 KiB each, in base64.
MAX_RESULTS_BYTES = MAX_RESULTS * (64 << 10) * 4 // 3


def _b64decode(value: object) -> bytes:
    if isinstance(value, bytes):
        return value
    if not isinstance(value, str):
        raise ValueError("output must be a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error as exc:
        raise ValueError(f"output is not base64: {exc}") from None


#: Bytes that travel as strict base64 (no stray characters, correct padding).
Base64 = Annotated[
    bytes, BeforeValidator(_b64decode), PlainSerializer(lambda b: base64.b64encode(b).decode(), return_type=str)
]


class ServedResult(BaseModel):
    """One job's output as a worker serves it."""

    model_config = ConfigDict(frozen=True)

    job_id: Annotated[int, Field(ge=0, lt=2**256)]
    batch_id: Annotated[int, Field(ge=0)]
    index: Annotated[int, Field(ge=0, lt=2**16)]
    output_hash: Annotated[str, Field(pattern=r"^0x[0-9a-f]{64}$")]
    output: Base64


class ServedResults(BaseModel):
    """`GET /v1/results`: the outputs found, and the ids of those not served."""

    results: Annotated[list[ServedResult], Field(max_length=MAX_RESULTS)]
    missing: list[int] = Field(default_factory=list, max_length=MAX_RESULTS)


class StreamPiece(BaseModel):
    """One line of a worker's `GET /v1/stream/{job_id}`: new text, or the finish reason."""

    model_config = ConfigDict(extra="forbid")

    text: Annotated[str, Field(max_length=1 << 20)] | None = None
    finish_reason: Literal["stop", "length", "invalid"] | None = None
