"""Causal language models from a local Hugging Face folder (safetensors and a tokenizer).

Input: a `GenerationRequest` (node.inference.generation). Output: a `Generation`: the sampled
tokens, each one's log-probability, and the text. Any causal LM transformers' auto classes
load works: a contributor serves a folder it downloaded by giving its path as a model name, and
it is registered under the folder's name and the keccak of its weights. The bundled model is
pydoc-chat (`PydocChat`, trained by scripts/train_text.py).

A worker generates with a KV cache, a batch of prompts left-padded together. A verifier does
not generate: it runs prompt plus claimed tokens through the model once, teacher-forced, and
checks every token against the seeded sampler and its log-probability against the model's,
within the calibrated `SampledTokensPolicy` (docs/verification.md).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import torch

from node.inference.base import ModelPlugin, register
from node.inference.errors import InferenceError, OutputDecodeError
from node.inference.generation import Finish, Generation, GenerationRequest, sample
from node.inference.policy import Comparison, SampledTokensPolicy

Progress = Callable[[int, str], None]  # (input index, its text so far)


@dataclass(frozen=True)
class Prompt:
    """A decoded request with its prompt's token ids and how many tokens it may generate."""

    request: GenerationRequest
    ids: tuple[int, ...]
    budget: int


class CausalLM(ModelPlugin):
    """A Hugging Face causal LM in `path`; subclasses (or `folder_plugin`) name the folder."""

    path: ClassVar[Path]
    policy = SampledTokensPolicy(logprob_abs=2e-3, margin=2e-3, top_p_slack=1e-3)
    min_price = 100  # Per generated token (max_tokens of them escrowed): 0.0001 credit.
    max_batch = 16
    checks_claims = True
    streams = True
    # Where the forward passes run; "cuda" on a GPU worker. Sampling noise is drawn on the CPU.
    device: ClassVar[str] = os.environ.get("NIGHTSHIFT_DEVICE", "cpu")
    # Off: every step recomputes the whole sequence (for calibrating the policy, not for serving).
    use_cache: ClassVar[bool] = True

    def load(self) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from transformers import AutoModelForCausalLM, AutoTokenizer

        if not (self.path / "config.json").exists():
            raise InferenceError(f"no Hugging Face model in {self.path} (config.json missing)")
        self._tokenizer = AutoTokenizer.from_pretrained(self.path, local_files_only=True)
        self._lock = threading.Lock()  # Fast tokenizers refuse two threads at once.
        model = AutoModelForCausalLM.from_pretrained(self.path, local_files_only=True, dtype=torch.float32)
        self._model = model.eval().to(self.device)
        config = model.config
        self._context = self.context_length()
        eos = {
            getattr(model.generation_config, "eos_token_id", None),
            config.eos_token_id,
            self._tokenizer.eos_token_id,
        }
        self._eos = {t for e in eos for t in (e if isinstance(e, list) else [e]) if t is not None}
        pad = self._tokenizer.pad_token_id
        self._pad = int(pad if pad is not None else min(self._eos, default=0))

    @classmethod
    def context_length(cls) -> int:
        """The most tokens, prompt and generation together, that the model takes (its config's)."""
        config = json.loads((cls.path / "config.json").read_text())
        return int(config.get("max_position_embeddings") or config.get("n_positions") or 2048)

    def weights(self) -> Mapping[str, torch.Tensor]:
        return self._model.state_dict()

    @classmethod
    def input_from_json(cls, value: object) -> bytes:
        """Text is a prompt with the default parameters; an object is a whole request."""
        if isinstance(value, str):
            return GenerationRequest(prompt=value).encode()
        if isinstance(value, dict):
            return GenerationRequest.model_validate(value).encode()
        raise ValueError(f"{cls.name} takes a prompt or a request object")

    @classmethod
    def output_to_json(cls, data: bytes) -> object:
        return Generation.decode(data).to_json()

    @classmethod
    def final_text(cls, data: bytes) -> tuple[str, str]:
        generation = Generation.decode(data)
        return generation.text, generation.finish.label

    @classmethod
    def min_job_price(cls, data: bytes) -> int:
        request = GenerationRequest.decode(data)
        return cls.min_price * (request.max_tokens if request else 1)

    def encode(self, output: Generation) -> bytes:
        return output.encode()

    def decode_input(self, data: bytes) -> Prompt | None:
        request = GenerationRequest.decode(data)
        if request is None:
            return None
        with self._lock:
            if request.messages is None:
                ids = self._tokenizer(request.prompt)["input_ids"]
            elif self._tokenizer.chat_template:
                messages = [m.model_dump() for m in request.messages]
                ids = self._tokenizer.apply_chat_template(
                    messages, add_generation_prompt=True, tokenize=True, return_dict=False
                )
            else:
                text = "".join(f"{m.role}: {m.content}\n" for m in request.messages) + "assistant:"
                ids = self._tokenizer(text)["input_ids"]
        budget = min(request.max_tokens, self._context - len(ids))
        return Prompt(request, tuple(ids), budget) if ids and budget > 0 else None

    def input_length(self, item: Prompt | None) -> int:
        return len(item.ids) if item else 0

    def ended(self, prompt: Prompt, tokens: Sequence[int], last: bool) -> tuple[Finish, str] | None:
        """How a generation of these tokens ends, with its text, or None if it goes on. `last`:
        the caller needs the text even if it goes on (it is cut short)."""
        stops = prompt.request.stop
        eos = bool(tokens) and tokens[-1] in self._eos
        if not (stops or eos or last or len(tokens) >= prompt.budget):
            return None
        with self._lock:
            text = self._tokenizer.decode(list(tokens), skip_special_tokens=True)
        cut = min((i for i in (text.find(s) for s in stops) if i >= 0), default=-1)
        if cut >= 0:
            return Finish.STOP, text[:cut]
        if eos:
            return Finish.STOP, text
        if len(tokens) >= prompt.budget:
            return Finish.LENGTH, text
        return None

    def forward(self, inputs: Sequence[Prompt | None]) -> list[Generation]:
        return self.generate(inputs)

    def generate(self, inputs: Sequence[Prompt | None], progress: Progress | None = None) -> list[Generation]:
        """`forward`, calling `progress(i, text)` as input i's text grows: only text that stays
        (no partial character, nothing a stop sequence could still take back)."""
        out: list[Generation] = [Generation.invalid()] * len(inputs)
        live = [i for i, p in enumerate(inputs) if p is not None]
        if live:
            prompts = [p for p in inputs if p is not None]
            grew = None if progress is None else (lambda row, text: progress(live[row], text))
            for i, generation in zip(live, self._generate(prompts, grew), strict=True):
                out[i] = generation
        return out

    def _stable_text(self, prompt: Prompt, tokens: Sequence[int]) -> str:
        with self._lock:
            text = self._tokenizer.decode(list(tokens), skip_special_tokens=True).rstrip("\ufffd")
        held = max((k for s in prompt.request.stop for k in range(1, len(s)) if text.endswith(s[:k])), default=0)
        return text[: len(text) - held]

    def _generate(self, prompts: list[Prompt], progress: Progress | None) -> list[Generation]:
        ids, mask = self._left_padded([list(p.ids) for p in prompts])
        tokens: list[list[int]] = [[] for _ in prompts]
        logprobs: list[list[float]] = [[] for _ in prompts]
        done: list[Generation | None] = [None] * len(prompts)
        past = None
        step_ids, step_mask = ids, mask
        for step in range(max(p.budget for p in prompts)):
            positions = (step_mask.cumsum(-1) - 1).clamp(min=0)
            if past is not None:
                positions = positions[:, -step_ids.shape[1] :]
            result = self._model(
                input_ids=step_ids,
                attention_mask=step_mask,
                position_ids=positions,
                past_key_values=past,
                use_cache=True,
            )
            logits = result.logits[:, -1].float().cpu()
            for row, prompt in enumerate(prompts):
                if done[row] is not None:
                    continue
                token, logprob = sample(logits[row], prompt.request, step)
                tokens[row].append(token)
                logprobs[row].append(logprob)
                end = self.ended(prompt, tokens[row], last=False)
                if end is not None:
                    done[row] = Generation(end[0], len(prompt.ids), tuple(tokens[row]), tuple(logprobs[row]), end[1])
                elif progress is not None:
                    progress(row, self._stable_text(prompt, tokens[row]))
            if all(d is not None for d in done):
                break
            last = torch.tensor([[t[-1]] for t in tokens], device=self.device)
            step_mask = torch.cat([step_mask, torch.ones_like(last)], dim=1)
            if self.use_cache:
                past, step_ids = result.past_key_values, last
            else:
                step_ids = torch.cat([step_ids, last], dim=1)
        return [d for d in done if d is not None]

    def _left_padded(self, rows: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
        width = max(len(r) for r in rows)
        ids = torch.tensor([[self._pad] * (width - len(r)) + r for r in rows], device=self.device)
        mask = torch.tensor([[0] * (width - len(r)) + [1] * len(r) for r in rows], device=self.device)
        return ids, mask

    def check(self, inputs: Sequence[Prompt | None], claimed: Sequence[bytes]) -> list[tuple[Comparison, bytes]]:
        """Each claimed generation checked in one teacher-forced pass over prompt and tokens: its
        ending and text first (no model needed), then every token and log-probability."""
        results: list[tuple[Comparison, bytes] | None] = [None] * len(inputs)
        forced: list[tuple[int, Prompt, Generation]] = []
        for i, (prompt, data) in enumerate(zip(inputs, claimed, strict=True)):
            try:
                generation = Generation.decode(data)
            except OutputDecodeError as exc:
                results[i] = (Comparison(False, f"undecodable output: {exc}"), Generation.invalid().encode())
                continue
            problem = self._shape_problem(prompt, generation)
            if problem is not None or prompt is None:
                results[i] = (Comparison(problem is None, problem or "invalid input, no tokens"), data)
                continue
            forced.append((i, prompt, generation))
        for start in range(0, len(forced), self.max_batch):
            chunk = forced[start : start + self.max_batch]
            for (i, _, _), result in zip(chunk, self._check_tokens(chunk), strict=True):
                results[i] = result
        return [r for r in results if r is not None]

    def _shape_problem(self, prompt: Prompt | None, generation: Generation) -> str | None:
        """Why the generation cannot be this prompt's whatever its tokens: a wrong length, an
        ending in the wrong place, a text that is not its tokens'. None if it can."""
        n = len(generation.tokens)
        if prompt is None:
            return None if generation == Generation.invalid() else "the input is invalid: the output must be empty"
        if generation.prompt_tokens != len(prompt.ids):
            return f"the output says {generation.prompt_tokens} prompt tokens, the prompt has {len(prompt.ids)}"
        if not 1 <= n <= prompt.budget or len(generation.logprobs) != n:
            return f"{n} tokens, where 1 to {prompt.budget} may be generated"
        for end in range(1, n) if prompt.request.stop else ():
            if self.ended(prompt, generation.tokens[:end], last=False) is not None:
                return f"the generation ended at token {end} but went on to {n}"
        if any(t in self._eos for t in generation.tokens[:-1]):
            return "the generation went on past an end-of-sequence token"
        ending = self.ended(prompt, generation.tokens, last=True)
        if ending is None or ending[0] != generation.finish:
            return f"finish reason {generation.finish.label} does not match the tokens (output cut short?)"
        if ending[1] != generation.text:
            return "the text is not the tokens' text"
        return None

    def _check_tokens(self, chunk: list[tuple[int, Prompt, Generation]]) -> list[tuple[Comparison, bytes]]:
        rows = [list(p.ids) + list(g.tokens[:-1]) for _, p, g in chunk]
        ids, mask = self._left_padded(rows)
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        logits = self._model(input_ids=ids, attention_mask=mask, position_ids=positions).logits.float().cpu()
        width = ids.shape[1]
        out = []
        for row, (_, prompt, generation) in enumerate(chunk):
            n = len(generation.tokens)
            steps = logits[row, width - n :]  # The logits that chose each generated token.
            out.append((self.policy.check_tokens(steps, prompt.request, generation), generation.encode()))
        return out


def folder_plugin(path: str) -> type[CausalLM]:
    """A plug-in class for the causal LM in a local folder, named after the folder."""
    folder = Path(path).expanduser().resolve()
    if not folder.is_dir():
        raise InferenceError(f"no model folder at {path}")
    cls = type(f"Folder_{folder.name}", (CausalLM,), {"name": folder.name, "path": folder})
    return register(cls)  # type: ignore[return-value]


@register
class PydocChat(CausalLM):
    """The bundled chat model: about a million parameters, trained on the docstrings of the
    Python standard library by scripts/train_text.py."""

    name = "pydoc-chat"
    path = Path(__file__).with_name("pydoc_chat")
