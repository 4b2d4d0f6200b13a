"""Calibrate the tolerant verification policy of the embedding model.

    python -m bench.calibrate [--json bench/results/calibration.json]

Honest differences: the same sentences embedded alone with 1 thread (the reference) and again
with 2 threads, in batches of 8, 64 and 128 with short and long batch mates (which change the
padding), and at different positions in the batch.

Cheats worth catching: a cheaper model (the first 3 of 6 layers, or the embedding layer alone),
bfloat16 compute, a perturbed input (one word changed), a stale or reused output (the embedding
of the most similar other sentence), and random unit vectors.

It prints, per case, the largest element-wise difference and the smallest cosine similarity
against the reference, and where the policy's bounds sit between the two.
"""

from __future__ import annotations

import argparse
import copy
import json
import random
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch

from node.inference.engine import ExecutionSettings, InferenceEngine
from node.inference.models.minilm import MiniLM

SUBJECTS = ["The engineer", "A small cat", "Our new protocol", "The weather in Lisbon", "This GPU", "My grandmother"]
VERBS = ["quietly verifies", "refuses to compute", "happily embeds", "slowly forgets", "carefully audits", "streams"]
OBJECTS = [
    "every block on the chain",
    "a bowl of warm soup",
    "the transformer weights",
    "sixty-four sentences at once",
    "the price of credits",
    "an old photograph",
]


def corpus(n: int = 96, seed: int = 7) -> list[str]:
    """Deterministic varied sentences: short ones, and some long enough to pad batches."""
    rng = random.Random(seed)
    sentences = []
    for i in range(n):
        s = f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)}."
        if i % 6 == 0:
            s += " " + " ".join(rng.choice(OBJECTS) for _ in range(rng.randint(10, 30)))
        sentences.append(s)
    return sentences


def perturb(sentence: str) -> str:
    """Changes one word: the smallest input substitution."""
    words = sentence.split()
    words[len(words) // 2] = "banana"
    return " ".join(words)


def embed(plugin: MiniLM, sentences: Sequence[str], threads: int, batch: int = 1) -> np.ndarray:
    torch.set_num_threads(threads)
    out: list[np.ndarray] = []
    with torch.inference_mode():
        for i in range(0, len(sentences), batch):
            out.extend(plugin.forward(sentences[i : i + batch]))
    return np.stack(out)


def embed_among(plugin: MiniLM, sentences: Sequence[str], mates: Sequence[str], size: int, threads: int) -> np.ndarray:
    """Each sentence embedded in a batch of `size`, with `mates` filling the rest, at a varying position."""
    torch.set_num_threads(threads)
    rows = []
    with torch.inference_mode():
        for i, s in enumerate(sentences):
            fill = [mates[(i + k) % len(mates)] for k in range(size - 1)]
            position = i % size
            batch = [*fill[:position], s, *fill[position:]]
            rows.append(plugin.forward(batch)[position])
    return np.stack(rows)


def distances(reference: np.ndarray, other: np.ndarray) -> dict[str, float]:
    a, b = reference.astype(np.float64), other.astype(np.float64)
    cos = np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    per_row_abs = np.max(np.abs(a - b), axis=1)
    return {
        "max_abs_max": float(per_row_abs.max()),
        "max_abs_min": float(per_row_abs.min()),
        "cosine_min": float(cos.min()),
        "cosine_max": float(cos.max()),
    }


def truncated(plugin: MiniLM, layers: int) -> MiniLM:
    cheap = copy.copy(plugin)
    cheap._model = copy.deepcopy(plugin._model)
    cheap._model.encoder.layer = cheap._model.encoder.layer[:layers]
    return cheap


def in_bfloat16(plugin: MiniLM) -> Callable[[Sequence[str]], list[np.ndarray]]:
    model16 = copy.deepcopy(plugin._model).to(torch.bfloat16)

    def forward(inputs: Sequence[str]) -> list[np.ndarray]:
        enc = plugin._tokenizer(list(inputs), padding=True, truncation=True, max_length=256, return_tensors="pt")
        hidden = model16(**enc).last_hidden_state.float()
        mask = enc["attention_mask"].unsqueeze(-1).float()
        pooled = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=1)
        return [row.numpy() for row in pooled]

    return forward


def calibrate() -> dict[str, object]:
    engine = InferenceEngine(ExecutionSettings(threads=1))
    engine.load([MiniLM.name])
    plugin = engine.plugin_by_name(MiniLM.name)
    assert isinstance(plugin, MiniLM)
    sentences = corpus()
    short = [s for s in sentences if len(s) < 80]
    long = [s for s in sentences if len(s) >= 80]
    reference = embed(plugin, sentences, threads=1)

    honest = {
        "2 threads, alone": embed(plugin, sentences, threads=2),
        "1 thread, batch 8 with short mates": embed_among(plugin, sentences, short, 8, 1),
        "2 threads, batch 8 with long mates": embed_among(plugin, sentences, long, 8, 2),
        "2 threads, batch 64 with mixed mates": embed_among(plugin, sentences[:24], sentences, 64, 2),
        "1 thread, batch 128 (whole corpus)": embed(plugin, sentences, threads=1, batch=128),
    }
    honest_rows = {"2 threads, batch 64 with mixed mates": reference[:24]}

    rng = np.random.default_rng(0)
    random_vectors = rng.standard_normal(reference.shape).astype(np.float32)
    random_vectors /= np.linalg.norm(random_vectors, axis=1, keepdims=True)
    # Stale output: the embedding of the most similar *other* sentence of the corpus.
    similarity = reference @ reference.T
    np.fill_diagonal(similarity, -np.inf)
    for i, s in enumerate(sentences):
        similarity[i, [j for j, t in enumerate(sentences) if t == s]] = -np.inf
    stale = reference[np.argmax(similarity, axis=1)]
    torch.set_num_threads(1)
    with torch.inference_mode():
        cheats = {
            "different model: 3 of 6 layers": np.stack(truncated(plugin, 3).forward(sentences)),
            "different model: embedding layer only": np.stack(truncated(plugin, 0).forward(sentences)),
            "bfloat16 compute": np.stack(in_bfloat16(plugin)(sentences)),
            "perturbed input: one word changed": np.stack(plugin.forward([perturb(s) for s in sentences])),
            "stale output: most similar other sentence": stale,
            "random unit vectors": random_vectors,
        }

    results: dict[str, object] = {"sentences": len(sentences), "honest": {}, "cheats": {}}
    for name, out in honest.items():
        results["honest"][name] = distances(honest_rows.get(name, reference), out)  # type: ignore[index]
    for name, out in cheats.items():
        results["cheats"][name] = distances(reference, out)  # type: ignore[index]
    honest_abs = max(r["max_abs_max"] for r in results["honest"].values())  # type: ignore[attr-defined]
    honest_cos = min(r["cosine_min"] for r in results["honest"].values())  # type: ignore[attr-defined]
    cheat_abs = min(r["max_abs_min"] for r in results["cheats"].values())  # type: ignore[attr-defined]
    cheat_cos = max(r["cosine_max"] for r in results["cheats"].values())  # type: ignore[attr-defined]
    results["summary"] = {
        "honest_max_abs": honest_abs,
        "honest_min_cosine": honest_cos,
        "closest_cheat_max_abs": cheat_abs,
        "closest_cheat_cosine": cheat_cos,
        "policy_max_abs": MiniLM.policy.max_abs,
        "policy_min_cosine": MiniLM.policy.min_cosine,
        "separated": honest_abs < MiniLM.policy.max_abs < cheat_abs
        or honest_cos > MiniLM.policy.min_cosine > cheat_cos,
    }
    return results


def render(results: dict[str, object]) -> str:
    lines = [
        "| case | kind | largest max \\|diff\\| | smallest max \\|diff\\| | smallest cosine | largest cosine |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for kind in ("honest", "cheats"):
        for name, r in results[kind].items():  # type: ignore[attr-defined]
            abs_cells = f"{r['max_abs_max']:.2e} | {r['max_abs_min']:.2e}"
            cos_cells = f"{r['cosine_min']:.9f} | {r['cosine_max']:.9f}"
            lines.append(f"| {name} | {kind} | {abs_cells} | {cos_cells} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Calibrate the embedding model's tolerance.")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    results = calibrate()
    print(render(results))
    print(json.dumps(results["summary"], indent=2))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
