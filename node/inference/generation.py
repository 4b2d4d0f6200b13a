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
Gumbel noise drawn from a CPU generator seeded with splitmix64(seed, t). The same input gives
the same tokens on any machine whose logits agree, and a verifier that recomputes the logits of the
claimed tokens in one teacher-forced pass can check every choice (`check_step`) without
generating again. Temperature 0 is greedy and ignores the seed.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Annotated, Literal

import numpy as np
import torch
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


_MASK64 = (1 << 64) - 1


def step_seed(seed: int, step: int) -> int:
    """The CPU generator's seed for one step of one job: splitmix64 of the pair, a bijective
    mixer, so nearby (seed, step) pairs get unrelated generator states. The seed is public; it
    needs mixing, not a cryptographic hash (which would cost an audit a hash a token)."""
    z = (seed + (step + 1) * 0x9E3779B97F4A7C15) & _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return (z ^ (z >> 31)) >> 1  # manual_seed takes 63 bits.


def gumbel(seed: int, step: int, vocab: int, steps: int = 1) -> torch.Tensor:
    """The Gumbel noise of `steps` steps from `step` on, float32, one row a step, from torch's
    CPU generator: the same on every machine (a single step's row if `steps` is 1)."""
    uniform = torch.empty(steps, vocab, dtype=torch.float32)
    generator = torch.Generator()  # Reseeded each row: a fresh generator's state, without the allocation.
    for row in range(steps):
        generator.manual_seed(step_seed(seed, step + row))
        torch.rand(vocab, generator=generator, dtype=torch.float32, out=uniform[row])
    noise = uniform.clamp_(min=1e-30).log_().neg_().log_().neg_()
    return noise[0] if steps == 1 else noise


def log_distribution(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """log p over the vocabulary (the last dimension) at this temperature, float32 (raw logits'
    at temperature 0)."""
    scaled = logits.float() if temperature == 0 else logits.float() / temperature
    return torch.log_softmax(scaled, dim=-1)


def nucleus(logp: torch.Tensor, top_p: float) -> torch.Tensor:
    """The tokens of the top-p nucleus along the last dimension: the smallest most-likely set
    whose mass reaches top_p (the most likely token always in)."""
    if top_p >= 1.0:
        return torch.ones_like(logp, dtype=torch.bool)
    probs, order = torch.sort(logp.exp(), dim=-1, descending=True)
    before = torch.cumsum(probs, dim=-1) - probs  # Mass strictly more likely than each token.
    return torch.zeros_like(logp, dtype=torch.bool).scatter(-1, order, before < top_p)


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
    return check_steps(logits[None], request, [token], [logprob], tol, start=step)


def check_steps(
    logits: torch.Tensor,
    request: GenerationRequest,
    tokens: Sequence[int],
    logprobs: Sequence[float],
    tol: StepTolerance,
    start: int = 0,
) -> StepCheck:
    """`check_step` for every claimed token at once (`logits[k]` chose token k, at step
    `start + k`): the first step that fails, or a pass with the largest deviation. All steps
    are checked in a few tensor operations, which is what keeps an audit cheap."""
    n, vocab = logits.shape
    if n == 0:
        return StepCheck(None, 0.0, 0.0)
    outside = [k for k, t in enumerate(tokens) if not 0 <= t < vocab]
    if outside:
        return StepCheck(f"token {tokens[outside[0]]} at step {start + outside[0]} is outside the vocabulary",
                         float("inf"), float("inf"))  # fmt: skip
    rows, chosen = torch.arange(n), torch.tensor(list(tokens))
    logp = log_distribution(logits, request.temperature)
    deviation = (logp[rows, chosen].double() - torch.tensor(list(logprobs), dtype=torch.float64)).abs()
    bad_deviation = ~(deviation <= tol.logprob_abs)  # `~ <=`: a NaN log-probability fails too.
    out_of_nucleus = torch.zeros(n, dtype=torch.bool)
    if request.temperature == 0:
        gap = logp.max(dim=-1).values - logp[rows, chosen]
        choice = "is not the greedy token"
    else:
        score = logp + gumbel(request.seed, start, vocab, steps=n).reshape(n, vocab)
        if request.top_p < 1.0:
            out_of_nucleus = ~nucleus(logp, min(1.0, request.top_p + tol.top_p_slack))[rows, chosen]
            core = nucleus(logp, max(1e-9, request.top_p - tol.top_p_slack))
            core[rows, chosen] = True
            score = torch.where(core, score, -torch.inf)
        gap = score.max(dim=-1).values - score[rows, chosen]
        choice = "is not the seeded sampler's token"
    bad_choice = ~(gap <= tol.margin)
    failing = (bad_deviation | out_of_nucleus | bad_choice).nonzero()
    if len(failing) == 0:
        return StepCheck(None, float(deviation.max()), float(gap.max()))
    k = int(failing[0])
    dev, step = float(deviation[k]), start + k
    if bad_deviation[k]:
        reason = f"log-probability at step {step} is {dev:.3g} from the model's (tolerance {tol.logprob_abs})"
        return StepCheck(reason, dev, 0.0)
    if out_of_nucleus[k]:
        return StepCheck(f"token at step {step} is outside the top-p nucleus", dev, float("inf"))
    return StepCheck(f"step {step} {choice}", dev, float(gap[k]))
