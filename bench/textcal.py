"""Calibrate the sampled-tokens policy of text generation, and measure what it catches.

    python -m bench.textcal [--generations 1000] [--trials 200] [--doc docs/verification.md]
    python -m bench.textcal --device cuda --gpu-out DIR   # on a GPU machine: see below

Every claimed generation is judged as a verifier judges it: the bundled pydoc-chat model on the
CPU, one teacher-forced pass, the registered tolerance (`CausalLM.policy`).

Honest variations, which must all pass: the worker's way (batches of 16 with a KV cache), each
request alone, other batch mates (so other padding), no KV cache, two threads, and, where a GPU
machine ran `--gpu-out`, generation on the GPU (checked here on the CPU) and checks on the GPU
of this machine's generations. Requests mix chat and raw prompts, greedy and sampled decoding,
nucleus sampling, stop sequences and 16 to 128 tokens.

Cheats, each of which must be caught: a smaller model (the first 2 of 4 layers), another model
of the same shape, bfloat16 and int8 compute, a changed prompt, a changed temperature, another
seed's tokens, a truncated or padded output, another job's output, random tokens, and a single
changed token. A cheat that happens to claim exactly the honest tokens and text (a hotter
sampler that still picks the memorized answer) claims the right answer: such trials are counted
apart ("same answer") and left out of the detection rate.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import json
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from bench.common import write_generated
from node.inference.engine import InferenceEngine
from node.inference.generation import Generation, GenerationRequest
from node.inference.models.causal_lm import CausalLM, PydocChat

NAMES = [
    "json.dumps", "json.loads", "os.path.join", "os.listdir", "re.compile", "re.sub", "itertools.chain",
    "functools.reduce", "collections.Counter", "zipfile.ZipFile.open", "shutil.copy", "random.choice",
    "math.sqrt", "time.sleep", "subprocess.run", "pathlib.Path.glob", "socket.socket", "csv.reader",
]  # fmt: skip
PROMPTS = ["Return the", "Create a new", "The default is", "Raise an exception if", "This module"]
BATCH = 16
GPU_FILE = "textcal_gpu.json"


def requests(n: int, seed: int = 0) -> list[bytes]:
    """A fixed mix of generation requests."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        params: dict[str, Any] = {
            "max_tokens": rng.choice([16, 32, 64, 128]),
            "temperature": rng.choice([0.0, 0.7, 1.0, 1.3]),
            "seed": rng.randrange(1 << 32),
        }
        if rng.random() < 0.3:
            params["top_p"] = rng.choice([0.5, 0.9])
        if rng.random() < 0.2:
            params["stop"] = [". "]
        if i % 3:
            question = (
                f"What does {rng.choice(NAMES)} do?"
                if rng.random() < 0.8
                else f"What is the {rng.choice(NAMES).split('.')[0]} module?"
            )
            params["messages"] = [{"role": "user", "content": question}]
        else:
            params["prompt"] = rng.choice(PROMPTS)
        out.append(GenerationRequest.model_validate(params).encode())
    return out


def load(device: str = "cpu") -> tuple[InferenceEngine, CausalLM]:
    PydocChat.device = device
    engine = InferenceEngine()
    engine.load([PydocChat.name])
    plugin = engine.plugin_by_name(PydocChat.name)
    assert isinstance(plugin, CausalLM)
    return engine, plugin


def generate(plugin: CausalLM, inputs: list[bytes], batch: int = BATCH, order: list[int] | None = None) -> list[bytes]:
    """Generations in batches of `batch`, in `order` (other batch mates), returned in input order."""
    order = order or list(range(len(inputs)))
    out: dict[int, bytes] = {}
    with torch.inference_mode():
        for start in range(0, len(order), batch):
            chunk = order[start : start + batch]
            for i, g in zip(chunk, plugin.forward([plugin.decode_input(inputs[i]) for i in chunk]), strict=True):
                out[i] = plugin.encode(g)
    return [out[i] for i in range(len(inputs))]


def judge(engine: InferenceEngine, plugin: CausalLM, inputs: list[bytes], claimed: list[bytes]) -> list[Any]:
    results = []
    for start in range(0, len(inputs), BATCH):
        results += [
            c for c, _ in engine.verify(plugin.model_id, inputs[start : start + BATCH], claimed[start : start + BATCH])
        ]
    return results


def honest_row(name: str, inputs: list[bytes], claimed: list[bytes], results: list[Any]) -> dict[str, Any]:
    tokens = sum(len(Generation.decode(c).tokens) for c in claimed)
    rejected = [r.reason for r in results if not r.accepted]
    return {
        "case": name,
        "generations": len(inputs),
        "tokens": tokens,
        "false_rejects": len(rejected),
        "max_logprob_deviation": max(r.max_abs for r in results),
        "first_reject": rejected[0] if rejected else None,
    }


def honest(engine: InferenceEngine, plugin: CausalLM, inputs: list[bytes]) -> tuple[list[dict[str, Any]], list[bytes]]:
    rows = []
    reference = generate(plugin, inputs)
    rows.append(
        honest_row("batches of 16, KV cache (the worker)", inputs, reference, judge(engine, plugin, inputs, reference))
    )
    quarter = inputs[: len(inputs) // 4]
    alone = generate(plugin, quarter, batch=1)
    rows.append(honest_row("each request alone", quarter, alone, judge(engine, plugin, quarter, alone)))
    shuffled = list(range(len(quarter)))
    random.Random(1).shuffle(shuffled)
    mates = generate(plugin, quarter, order=shuffled)
    rows.append(honest_row("other batch mates and padding", quarter, mates, judge(engine, plugin, quarter, mates)))
    torch.set_num_threads(2)
    two = generate(plugin, quarter)
    torch.set_num_threads(1)
    rows.append(honest_row("two threads", quarter, two, judge(engine, plugin, quarter, two)))
    few = inputs[: max(1, len(inputs) // 10)]
    type(plugin).use_cache = False
    try:
        uncached = generate(plugin, few)
    finally:
        type(plugin).use_cache = True
    rows.append(honest_row("no KV cache", few, uncached, judge(engine, plugin, few, uncached)))
    return rows, reference


def _variant(plugin: CausalLM, change: Callable[[torch.nn.Module], torch.nn.Module]) -> CausalLM:
    other = copy.copy(plugin)
    other._model = change(copy.deepcopy(plugin._model))
    return other


def _retoken(plugin: CausalLM, g: Generation, tokens: tuple[int, ...]) -> Generation:
    text = plugin._tokenizer.decode(list(tokens), skip_special_tokens=True)
    return dataclasses.replace(
        g, tokens=tokens, logprobs=tuple(g.logprobs[k % len(g.logprobs)] for k in range(len(tokens))), text=text
    )


def cheats(
    engine: InferenceEngine, plugin: CausalLM, inputs: list[bytes], reference: list[bytes]
) -> list[dict[str, Any]]:
    rng = random.Random(2)
    decoded = [GenerationRequest.model_validate_json(x) for x in inputs]  # Valid: built by `requests`.
    honest = [Generation.decode(r) for r in reference]

    def smaller(m: Any) -> torch.nn.Module:
        m.model.layers = m.model.layers[:2]
        m.config.num_hidden_layers = 2
        return m

    def reinit(m: torch.nn.Module) -> torch.nn.Module:
        torch.manual_seed(5)
        for p in m.parameters():
            torch.nn.init.normal_(p, std=0.02)
        return m

    def int8(m: torch.nn.Module) -> torch.nn.Module:
        return torch.ao.quantization.quantize_dynamic(m, {torch.nn.Linear}, dtype=torch.qint8)

    models = {
        "a smaller model (2 of 4 layers)": _variant(plugin, smaller),
        "another model of the same shape": _variant(plugin, reinit),
        "bfloat16 compute": _variant(plugin, lambda m: m.to(torch.bfloat16)),
        "int8 compute (dynamic quantization)": _variant(plugin, int8),
    }

    def changed(request: GenerationRequest, **change: Any) -> bytes:
        return GenerationRequest.model_validate({**request.model_dump(exclude_none=True), **change}).encode()

    rows = []
    for name, other in models.items():
        rows.append(_row(name, engine, plugin, inputs, generate(other, inputs), honest))
    sampled = [i for i, r in enumerate(decoded) if r.temperature > 0]
    edits: dict[str, tuple[list[int], Callable[[int], bytes]]] = {
        "a changed prompt": (list(range(len(inputs))), lambda i: inputs[(i + 1) % len(inputs)]),
        "a changed temperature": (
            list(range(len(inputs))),
            lambda i: changed(decoded[i], temperature=decoded[i].temperature + 0.5),
        ),
        "another seed's tokens": (sampled, lambda i: changed(decoded[i], seed=decoded[i].seed + 1)),
    }
    for name, (chosen, edit) in edits.items():
        others = generate(plugin, [edit(i) for i in chosen])
        rows.append(_row(name, engine, plugin, [inputs[i] for i in chosen], others, [honest[i] for i in chosen]))
    long_ = [i for i, g in enumerate(honest) if len(g.tokens) >= 2]
    forged = {
        "a truncated output": (
            long_,
            lambda i: _retoken(plugin, honest[i], honest[i].tokens[: len(honest[i].tokens) // 2]),
        ),
        "a padded output": (
            list(range(len(inputs))),
            lambda i: _retoken(plugin, honest[i], (*honest[i].tokens, *honest[i].tokens[:4])),
        ),
        "another job's output": (list(range(len(inputs))), lambda i: honest[(i + 7) % len(honest)]),
        "random tokens": (
            list(range(len(inputs))),
            lambda i: _retoken(plugin, honest[i], tuple(rng.randrange(2048) for _ in honest[i].tokens)),
        ),
        "one changed token": (list(range(len(inputs))), lambda i: _one_changed(plugin, honest[i], rng)),
    }
    for name, (chosen, forge) in forged.items():
        claimed = [forge(i).encode() for i in chosen]
        rows.append(_row(name, engine, plugin, [inputs[i] for i in chosen], claimed, [honest[i] for i in chosen]))
    return rows


def _one_changed(plugin: CausalLM, g: Generation, rng: random.Random) -> Generation:
    k = rng.randrange(len(g.tokens))
    tokens = list(g.tokens)
    tokens[k] = (tokens[k] + 1 + rng.randrange(2047)) % 2048
    return _retoken(plugin, g, tuple(tokens))


def _row(
    name: str,
    engine: InferenceEngine,
    plugin: CausalLM,
    inputs: list[bytes],
    claimed: list[bytes],
    honest: list[Generation],
) -> dict[str, Any]:
    results = judge(engine, plugin, inputs, claimed)
    same = [
        Generation.decode(c).tokens == h.tokens and Generation.decode(c).text == h.text
        for c, h in zip(claimed, honest, strict=True)
    ]
    differing = [r for r, s in zip(results, same, strict=True) if not s]
    caught = sum(not r.accepted for r in differing)
    return {
        "case": name,
        "trials": len(inputs),
        "same_answer": sum(same),
        "caught": caught,
        "detection": round(caught / len(differing), 4) if differing else None,
        "caught_of_all": round(sum(not r.accepted for r in results) / len(results), 4),
    }


def gpu_run(out: Path, generations: int) -> None:
    """On a GPU machine: generate there (for the CPU to check), and check there what this CPU
    generated (`.whl/textcal_cpu.json`, if carried)."""
    inputs = requests(generations)
    engine, plugin = load("cuda")
    started = time.perf_counter()
    claimed = generate(plugin, inputs)
    result: dict[str, Any] = {
        "device": torch.cuda.get_device_name(0),
        "torch": torch.__version__,
        "seconds": time.perf_counter() - started,
    }
    result["generations"] = [c.hex() for c in claimed]
    cpu_file = Path(".whl/textcal_cpu.json")
    if cpu_file.exists():
        cpu = [bytes.fromhex(x) for x in json.loads(cpu_file.read_text())]
        result["checks_of_cpu"] = honest_row(
            "CPU generations checked on the GPU", inputs, cpu, judge(engine, plugin, inputs, cpu)
        )
    import transformers

    result["transformers"] = transformers.__version__
    out.mkdir(parents=True, exist_ok=True)
    (out / GPU_FILE).write_text(json.dumps(result))


def markdown(result: dict[str, Any]) -> str:
    lines = [
        "| honest case | generations | tokens | false rejects | max log-prob deviation |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for r in result["honest"]:
        lines.append(
            f"| {r['case']} | {r['generations']} | {r['tokens']} | {r['false_rejects']} "
            f"| {r['max_logprob_deviation']:.2e} |"
        )
    if not any("GPU" in r["case"] for r in result["honest"]):
        lines.append("| generation on a GPU | not measured | | | |")
    lines += [
        "",
        "| cheat | trials | same answer | caught (of other answers) | detection | caught of all trials |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in result["cheats"]:
        rate = "n/a" if r["detection"] is None else f"{100 * r['detection']:.1f}%"
        every = f"{100 * r['caught_of_all']:.1f}%"
        lines.append(f"| {r['case']} | {r['trials']} | {r['same_answer']} | {r['caught']} | {rate} | {every} |")
    tol = result["policy"]
    lines.append("")
    lines.append(
        f"Policy: log-probability within {tol['logprob_abs']}, score margin {tol['margin']}, "
        f"top-p slack {tol['top_p_slack']}."
    )
    return "\n".join(lines)


def write_doc(doc: Path, table: str) -> None:
    begin, end = "<!-- textcal:begin (python -m bench.textcal --doc) -->", "<!-- textcal:end -->"
    write_generated(doc, begin, end, table, append_missing=True)


def calibrate(generations: int, trials: int, gpu_results: Path | None = None, save_cpu: Path | None = None
              ) -> dict[str, Any]:  # fmt: skip
    """The honest rows and the cheat rows, on this machine (and a GPU machine's, if given)."""
    torch.set_num_threads(1)
    engine, plugin = load()
    inputs = requests(generations)
    started = time.perf_counter()
    honest_rows, reference = honest(engine, plugin, inputs)
    if save_cpu:
        save_cpu.write_text(json.dumps([r.hex() for r in reference]))
    if gpu_results and (gpu_results / GPU_FILE).exists():
        gpu = json.loads((gpu_results / GPU_FILE).read_text())
        claimed = [bytes.fromhex(x) for x in gpu["generations"]]
        where = f"{gpu['device']}, torch {gpu['torch']}, transformers {gpu['transformers']}"
        name = f"generated on a GPU ({where}), checked here"
        honest_rows.append(honest_row(name, inputs, claimed, judge(engine, plugin, inputs, claimed)))
        if "checks_of_cpu" in gpu:
            honest_rows.append(gpu["checks_of_cpu"])
    cheat_rows = cheats(engine, plugin, inputs[:trials], reference[:trials])
    return {
        "honest": honest_rows,
        "cheats": cheat_rows,
        "policy": dataclasses.asdict(PydocChat.policy),
        "seconds": round(time.perf_counter() - started, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--generations", type=int, default=1000)
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--gpu-out", type=Path, help="On a GPU machine: write the GPU's generations and checks here.")
    parser.add_argument("--gpu-results", type=Path, help="A folder --gpu-out wrote: include its rows.")
    parser.add_argument("--json", type=Path, default=Path("bench/results/text_calibration.json"))
    parser.add_argument("--doc", type=Path)
    parser.add_argument("--save-cpu", type=Path, help="Write this CPU's generations (for a GPU machine to check).")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.gpu_out:
        gpu_run(args.gpu_out, args.generations)
        return
    result = calibrate(args.generations, args.trials, args.gpu_results, args.save_cpu)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    table = markdown(result)
    print(table)
    if args.doc:
        write_doc(args.doc, table)


if __name__ == "__main__":
    main()
