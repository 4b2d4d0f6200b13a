"""Text generation jobs: the canonical request, the output encoding and the seeded sampler.

A generation job's input is a JSON object (a prompt or chat messages, and the sampling
parameters), validated by `GenerationRequest`; bytes that are not one map to the sentinel
output of no tokens, finish reason "invalid", so every job has a defined output.

The output (version 1) binds what was generated and how likely the model found it:

    offset  size  field
    0       4     magic  b"NSG1" (Nightshift generation, version 1)
    4       1     finish reason: 0 invalid, 1 stop, 2 length
    5       4     the number of prompt tokens, uint32 LE
    9       4     n, uint32 LE: the number of generated tokens
    13      8n    the token ids, int64 LE
    13+8n   4n    each token's log-probability under the sampling distribution, float32 LE
    13+12n  ...   the text: the tokens decoded, cut before a stop sequence, UTF-8

Sampling is a deterministic function of the model's logits and the seed (the Gumbel-max
trick): at step t the token is the argmax, over the top-p nucleus, of log p(token) plus
Gumbel noise drawn from a CPU generator seeded with (seed, t). The same input gives the same
tokens on any machine whose logits agree, and a verifier that recomputes the logits of the
claimed tokens in one teacher-forced pass can check every choice (`check_step`) without
generating again. Temperature 0 is greedy and ignores the seed.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from enum import IntEnum
from typing import Annotated, Literal

import numpy as np
import torch
from eth_utils import keccak
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from node.inference.errors import OutputDecodeError

MAGIC = b"NSG1"
MAX_TOKENS = 4096
_HEADER = struct.Struct("<4sBII")


class Message(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    role: Literal["system", "user", "assistant"]
    content: Annotated[str, Field(max_length=1 << 20)]


class GenerationRequest(BaseModel):
    """A generation job's input: exactly one of `prompt` and `messages`, and how to sample."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    prompt: str | None = None
    messages: Annotated[list[Message], Field(min_length=1)] | None = None
    max_tokens: Annotated[int, Field(ge=1, le=MAX_TOKENS)] = 64
    temperature: Annotated[float, Field(ge=0.0, le=2.0)] = 1.0
    top_p: Annotated[float, Field(gt=0.0, le=1.0)] = 1.0
    seed: Annotated[int, Field(ge=0, lt=1 << 63)] = 0
    stop: Annotated[list[Annotated[str, Field(min_length=1, max_length=64)]], Field(max_length=4)] = []

    @model_validator(mode="before")
    @classmethod
    def _ints_are_floats(cls, data: object) -> object:
        # JSON has one number type: a temperature of 1 is a temperature of 1.0.
        if isinstance(data, dict):
            for key in ("temperature", "top_p"):
                if isinstance(data.get(key), int) and not isinstance(data.get(key), bool):
                    data = {**data, key: float(data[key])}
        return data

    @model_validator(mode="after")
    def _one_prompt(self) -> GenerationRequest:
        if (self.prompt is None) == (self.messages is None):
            raise ValueError("give exactly one of prompt and messages")
        return self

    def encode(self) -> bytes:
        """The canonical input bytes: sorted keys, no spaces, UTF-8, defaults written out."""
        return json.dumps(self.model_dump(exclude_none=True), sort_keys=True, separators=(",", ":")).encode()

    @classmethod
    def decode(cls, data: bytes) -> GenerationRequest | None:
        """The request in a job's input bytes, or None if they are not one."""
        try:
            return cls.model_validate(json.loads(data.decode("utf-8")))
        except (UnicodeDecodeError, json.JSONDecodeError, ValidationError, RecursionError):
            return None


class Finish(IntEnum):
    INVALID = 0
    STOP = 1
    LENGTH = 2

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class Generation:
    """What a worker generated for one job."""

    finish: Finish
    prompt_tokens: int
    tokens: tuple[int, ...]
    logprobs: tuple[float, ...]  # float32 values.
    text: str

    @staticmethod
    def invalid() -> Generation:
        return Generation(Finish.INVALID, 0, (), (), "")

    def encode(self) -> bytes:
        n = len(self.tokens)
        return (
            _HEADER.pack(MAGIC, self.finish, self.prompt_tokens, n)
            + np.asarray(self.tokens, dtype="<i8").tobytes()
            + np.asarray(self.logprobs, dtype="<f4").tobytes()
            + self.text.encode()
        )

    @staticmethod
    def decode(data: bytes) -> Generation:
        """The generation in `data`; raises `OutputDecodeError` if the bytes are not one."""
        if len(data) < _HEADER.size:
            raise OutputDecodeError("not a Nightshift generation (too short)")
        magic, finish, prompt_tokens, n = _HEADER.unpack_from(data)
        if magic != MAGIC or finish not in Finish._value2member_map_:
            raise OutputDecodeError("not a Nightshift v1 generation (bad magic or finish reason)")
        if n > MAX_TOKENS or len(data) < _HEADER.size + 12 * n:
            raise OutputDecodeError(f"{n} tokens do not fit in {len(data)} bytes")
        tokens = np.frombuffer(data, dtype="<i8", count=n, offset=_HEADER.size)
        logprobs = np.frombuffer(data, dtype="<f4", count=n, offset=_HEADER.size + 8 * n)
        try:
            text = data[_HEADER.size + 12 * n :].decode()
        except UnicodeDecodeError as exc:
            raise OutputDecodeError(f"text is not UTF-8: {exc}") from None
        return Generation(Finish(finish), prompt_tokens, tuple(tokens.tolist()), tuple(logprobs.tolist()), text)

    def to_json(self) -> dict[str, object]:
        usage = {"prompt_tokens": self.prompt_tokens, "completion_tokens": len(self.tokens)}
        return {"text": self.text, "finish_reason": self.finish.label, "usage": usage}


def step_seed(seed: int, step: int) -> int:
    """The CPU generator's seed for one step of one job."""
    return int.from_bytes(keccak(struct.pack("<QI", seed, step))[:8], "little") >> 1


def gumbel(seed: int, step: int, vocab: int) -> torch.Tensor:
    """The step's Gumbel noise, float64, from torch's CPU generator: the same on every machine."""
    generator = torch.Generator().manual_seed(step_seed(seed, step))
    uniform = torch.rand(vocab, generator=generator, dtype=torch.float64)
    return -torch.log(-torch.log(uniform.clamp(min=1e-300)))


def log_distribution(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """log p over the vocabulary at this temperature, float64 (raw logits' at temperature 0)."""
    scaled = logits.double() if temperature == 0 else logits.double() / temperature
    return torch.log_softmax(scaled, dim=-1)


def nucleus(logp: torch.Tensor, top_p: float) -> torch.Tensor:
    """The tokens of the top-p nucleus: the smallest most-likely set whose mass reaches top_p
    (the most likely token always in)."""
    if top_p >= 1.0:
        return torch.ones_like(logp, dtype=torch.bool)
    probs, order = torch.sort(logp.exp(), descending=True)
    before = torch.cumsum(probs, dim=0) - probs  # Mass strictly more likely than each token.
    keep = torch.zeros_like(logp, dtype=torch.bool)
    keep[order[before < top_p]] = True
    return keep


def sample(logits: torch.Tensor, request: GenerationRequest, step: int) -> tuple[int, float]:
    """The token a job takes at `step` given the logits, and its log-probability."""
    logp = log_distribution(logits, request.temperature)
    if request.temperature == 0:
        token = int(torch.argmax(logp))
    else:
        score = torch.where(nucleus(logp, request.top_p), logp + gumbel(request.seed, step, logp.numel()), -torch.inf)
        token = int(torch.argmax(score))
    return token, float(np.float32(logp[token]))


@dataclass(frozen=True)
class StepTolerance:
    """How far a verifier's recomputation may move from the worker's and still agree: the
    log-probability of the claimed token (`logprob_abs`), the claimed token's score below the
    best score (`margin`), and the nucleus's mass (`top_p_slack`)."""

    logprob_abs: float
    margin: float
    top_p_slack: float


@dataclass(frozen=True)
class StepCheck:
    """One claimed token against the verifier's logits: why it fails (None: it passes), how far
    its log-probability is from the model's, and how far its score is below the best."""

    problem: str | None
    deviation: float
    gap: float


def check_step(
    logits: torch.Tensor, request: GenerationRequest, step: int, token: int, logprob: float, tol: StepTolerance
) -> StepCheck:
    """Whether the claimed token at `step` is what the seeded sampler takes from these logits,
    within the tolerance."""
    logp = log_distribution(logits, request.temperature)
    if not 0 <= token < logp.numel():
        return StepCheck(f"token {token} at step {step} is outside the vocabulary", float("inf"), float("inf"))
    deviation = abs(float(logp[token]) - logprob)
    if not deviation <= tol.logprob_abs:  # `not <=`: a NaN log-probability fails too.
        reason = f"log-probability at step {step} is {deviation:.3g} from the model's (tolerance {tol.logprob_abs})"
        return StepCheck(reason, deviation, 0.0)
    if request.temperature == 0:
        gap = float(logp.max() - logp[token])
        return StepCheck(None if gap <= tol.margin else f"step {step} is not the greedy token", deviation, gap)
    if request.top_p < 1.0:
        if not nucleus(logp, min(1.0, request.top_p + tol.top_p_slack))[token]:
            return StepCheck(f"token at step {step} is outside the top-p nucleus", deviation, float("inf"))
        core = nucleus(logp, max(1e-9, request.top_p - tol.top_p_slack))
    else:
        core = torch.ones_like(logp, dtype=torch.bool)
    score = logp + gumbel(request.seed, step, logp.numel())
    core[token] = True
    gap = float(torch.where(core, score, -torch.inf).max() - score[token])
    return StepCheck(None if gap <= tol.margin else f"step {step} is not the seeded sampler's token", deviation, gap)
