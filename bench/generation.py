"""Text generation benchmarks: throughput against raw transformers, time to first token through
the gateway, and what a verifier's check costs against generating.

    python -m bench.generation [--prompts 32] [--streams 20] [--json FILE]

1. **Throughput.** The worker's generation path (`InferenceEngine.run` on pydoc-chat, with the
   streaming callback the worker passes, batches of 16, KV cache, the seeded sampler, the
   output encoding) against transformers' own `generate` on the same model, the same token ids
   and batch size, greedy, in one process, interleaved. The ratio of tokens/s is the target
   (>= 0.8); the greedy tokens must be the same.
2. **Time to first token** through the OpenAI-compatible gateway on a devnet (anvil mixed
   mining, one worker, the gateway as separate processes): from the POST of a streamed chat
   completion to its first piece of text, which is after the job is escrowed and the worker has
   taken it on chain. Also the tokens/s of one stream, from its request to its last text.
3. **Verification cost.** The verifier's CPU time per audited job (one teacher-forced check of a
   job alone) over the worker's per job (batches of 16), for 32, 128 and 448 generated tokens
   (pydoc-chat's context is 512 tokens). Both run a copy of the model with no end-of-sequence
   token, so that every generation is exactly that long.
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import torch

from bench.common import percentile
from node.chain.deploy import MarketParams
from node.devnet import Devnet
from node.inference.engine import InferenceEngine
from node.inference.generation import Generation, GenerationRequest
from node.inference.models.causal_lm import CausalLM, Prompt, PydocChat

BATCH = 16
MAX_TOKENS = 64
LENGTHS = (32, 128, 448)
NAMES = ["json.dumps", "os.path.join", "re.compile", "itertools.chain", "shutil.copy", "random.choice", "math.sqrt",
         "time.sleep", "subprocess.run", "csv.reader", "socket.socket", "zipfile.ZipFile"]  # fmt: skip


def _requests(n: int, max_tokens: int, temperature: float = 0.0) -> list[bytes]:
    out = []
    for i in range(n):
        name = NAMES[i % len(NAMES)]
        content = f"What does {name} do?" if i % 2 == 0 else f"Explain {name} and its arguments."
        messages = [{"role": "user", "content": content}]
        request = {"messages": messages, "max_tokens": max_tokens, "temperature": temperature, "seed": i}
        out.append(GenerationRequest.model_validate(request).encode())
    return out


def _load() -> tuple[InferenceEngine, CausalLM]:
    engine = InferenceEngine()
    engine.load([PydocChat.name])
    plugin = engine.plugin_by_name(PydocChat.name)
    assert isinstance(plugin, CausalLM)
    return engine, plugin


def throughput(prompts: int, reps: int = 3) -> dict[str, Any]:
    engine, plugin = _load()
    inputs = _requests(prompts, MAX_TOKENS)
    decoded = [plugin.decode_input(x) for x in inputs]
    assert all(p is not None for p in decoded)
    model, eos, pad = plugin._model, sorted(plugin._eos), plugin._pad
    worker_s, raw_s, worker_tokens, raw_tokens, same = [], [], 0, 0, 0
    for rep in range(reps):
        started = time.perf_counter()
        ours: list[Generation] = []
        for start in range(0, prompts, BATCH):
            chunk = inputs[start : start + BATCH]
            ours += [Generation.decode(o) for o in engine.run(plugin.model_id, chunk, _Sink())]
        worker_s.append(time.perf_counter() - started)
        started = time.perf_counter()
        theirs: list[list[int]] = []
        for start in range(0, prompts, BATCH):
            rows = [list(p.ids) for p in decoded[start : start + BATCH] if p is not None]
            ids, mask = plugin._left_padded(rows)
            with torch.inference_mode():
                out = model.generate(
                    input_ids=ids, attention_mask=mask, max_new_tokens=MAX_TOKENS, do_sample=False,
                    eos_token_id=eos, pad_token_id=pad,
                )  # fmt: skip
            for row in out[:, ids.shape[1] :].tolist():
                end = next((k + 1 for k, t in enumerate(row) if t in eos), len(row))
                theirs.append(row[:end])
        raw_s.append(time.perf_counter() - started)
        if rep == 0:
            worker_tokens = sum(len(g.tokens) for g in ours)
            raw_tokens = sum(len(t) for t in theirs)
            same = sum(list(g.tokens) == t for g, t in zip(ours, theirs, strict=True))
    worker_tps, raw_tps = worker_tokens / statistics.median(worker_s), raw_tokens / statistics.median(raw_s)
    return {
        "prompts": prompts,
        "batch": BATCH,
        "max_tokens": MAX_TOKENS,
        "worker_tokens": worker_tokens,
        "raw_tokens": raw_tokens,
        "same_tokens": same,
        "worker_tokens_per_s": round(worker_tps, 1),
        "raw_generate_tokens_per_s": round(raw_tps, 1),
        "ratio": round(worker_tps / raw_tps, 3),
    }


class _Sink(dict[int, str]):
    """Keeps each input's latest text, as the worker's token streams do."""

    def __call__(self, index: int, text: str) -> None:
        self[index] = text


def _no_eos(plugin: CausalLM) -> CausalLM:
    """A copy that never meets an end-of-sequence token: every generation runs to its budget."""
    variant = copy.copy(plugin)
    variant._eos = set()
    return variant


def verification_cost(jobs: int = BATCH, rounds: int = 5) -> list[dict[str, Any]]:
    """CPU time per job of the worker (generating in batches) and of a verifier checking each
    job alone, the median of `rounds` rounds (one round is tens of milliseconds: one noisy
    round would decide a ratio near its target)."""
    _, plugin = _load()
    plugin = _no_eos(plugin)
    rows = []
    for n in LENGTHS:
        inputs = _requests(jobs, n, temperature=0.7)
        prompts: list[Prompt | None] = [plugin.decode_input(x) for x in inputs]
        workers, verifiers = [], []
        for _ in range(rounds):
            with torch.inference_mode():
                started = time.process_time()
                generated = plugin.generate(prompts, _Sink())
                workers.append((time.process_time() - started) / jobs)
                claimed = [g.encode() for g in generated]
                started = time.process_time()
                checks = [plugin.check([p], [c])[0][0] for p, c in zip(prompts, claimed, strict=True)]
                verifiers.append((time.process_time() - started) / jobs)
            assert all(c.accepted for c in checks), [c.reason for c in checks if not c.accepted]
        worker, verifier = statistics.median(workers), statistics.median(verifiers)
        tokens = statistics.mean(len(g.tokens) for g in generated)
        rows.append({
            "generated_tokens": round(tokens), "rounds": rounds, "worker_cpu_s_per_job": round(worker, 4),
            "verifier_cpu_s_per_job": round(verifier, 4), "ratio": round(verifier / worker, 3),
        })  # fmt: skip
    return rows


def first_token(streams: int, root: Path) -> dict[str, Any]:
    devnet = Devnet(root, market=MarketParams(challenge_window=5), models=[PydocChat.name]).up()
    try:
        operator = 2
        devnet.fund(operator, 1_000)
        devnet.start_worker("worker", 6)
        url = f"{devnet.start_gateway('gateway', operator).url}/v1/chat/completions"
        ttft, rates = [], []
        with httpx.Client(timeout=60) as http:
            for i in range(streams + 1):  # The first warms the path up and is not counted.
                body = {
                    "model": PydocChat.name, "stream": True, "max_tokens": 48, "seed": i, "temperature": 0.7,
                    "messages": [{"role": "user", "content": f"What does {NAMES[i % len(NAMES)]} do?"}],
                    "stream_options": {"include_usage": True},
                }  # fmt: skip
                started = time.perf_counter()
                first = last = None
                tokens = 0
                with http.stream("POST", url, json=body) as response:
                    response.raise_for_status()
                    for line in response.iter_lines():
                        if not line.startswith("data: {"):
                            continue
                        chunk = json.loads(line[6:])
                        if chunk.get("usage"):
                            tokens = chunk["usage"]["completion_tokens"]
                        if chunk.get("choices") and chunk["choices"][0]["delta"].get("content"):
                            last = time.perf_counter()
                            first = first or last
                if i and first is not None and last is not None:
                    ttft.append(first - started)
                    # From the request, not the first token: tokens generated while the take-on
                    # was confirming arrive together with the first.
                    rates.append(tokens / (last - started))
        return {
            "streams": len(ttft),
            "ttft_p50_s": round(statistics.median(ttft), 3),
            "ttft_p95_s": round(percentile(ttft, 0.95), 3),
            "stream_tokens_per_s_p50": round(statistics.median(rates), 1) if rates else None,
        }
    finally:
        devnet.down()


def measure(prompts: int, streams: int, root: Path) -> dict[str, Any]:
    torch.set_num_threads(1)
    return {
        "throughput": throughput(prompts),
        "verification_cost": verification_cost(),
        "first_token": first_token(streams, root),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prompts", type=int, default=32)
    parser.add_argument("--streams", type=int, default=20)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        result = measure(args.prompts, args.streams, Path(tmp))
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
