"""Generation jobs through worker and verifier processes on a devnet: the bundled chat model's
answers are paid and pass audit, a worker that returns other tokens is caught and slashed, and a
batch priced below its max_tokens is left untaken."""

from __future__ import annotations

import time

import pytest

import faults
from node.inference.engine import InferenceEngine
from node.inference.generation import Generation, GenerationRequest
from node.inference.models.causal_lm import PydocChat

from .helpers import FINALIZED, FORFEITED, REJECTED, all_final, events, job_statuses, requester, wait_until

MAX_TOKENS = 24
PRICE = PydocChat.min_price * MAX_TOKENS


def ask(question: str, **params: object) -> bytes:
    request = {"messages": [{"role": "user", "content": question}], "max_tokens": MAX_TOKENS, **params}
    return GenerationRequest.model_validate(request).encode()


QUESTIONS = [ask("What does json.dumps do?", temperature=0.0), ask("What is the os module?", seed=4), ask("Hi", seed=9)]


@pytest.fixture(scope="module")
def engine() -> InferenceEngine:
    engine = InferenceEngine()
    engine.load([PydocChat.name])
    return engine


def test_generations_are_paid_pass_audit_and_match_the_chain(devnet, nodes, engine):
    nodes.worker("writer", 6, models=PydocChat.name)
    nodes.verifier("reader", 16, models=PydocChat.name)
    client = requester(devnet, 2)
    sub = client.submit(PydocChat.name, QUESTIONS, PRICE, audit_bps=10_000)
    wait_until(all_final(devnet, sub.job_ids), 90, "every job to settle")
    assert job_statuses(devnet, sub.job_ids) == [FINALIZED] * len(QUESTIONS)
    served = [client.fetch(j) for j in sub.job_ids]  # Raises unless each matches its commitment.
    assert "JSON" in Generation.decode(served[0]).text
    plugin = engine.plugin_by_name(PydocChat.name)
    assert all(c.accepted for c, _ in engine.verify(plugin.model_id, QUESTIONS, served))
    verdicts = events(devnet, "VerdictSubmitted")
    assert {v["jobId"] for v in verdicts if v["accepted"]} >= set(sub.job_ids)


def test_a_worker_returning_other_tokens_is_caught_and_slashed(devnet, nodes):
    nodes.worker("liar", 7, module=faults.WORKER, models=PydocChat.name, faults__wrong_rate=1.0)
    for i in range(3):
        nodes.verifier(f"reader-{i}", 17 + i, models=PydocChat.name)
    client = requester(devnet, 3)
    sub = client.submit(PydocChat.name, QUESTIONS, PRICE, audit_bps=10_000)
    wait_until(all_final(devnet, sub.job_ids), 90, "every job to settle")
    statuses = job_statuses(devnet, sub.job_ids)
    assert REJECTED in statuses and set(statuses) <= {REJECTED, FORFEITED}
    (forfeited,) = events(devnet, "BatchForfeited", batchId=sub.batch_id)
    assert forfeited["slashed"] > 0


def test_a_batch_priced_below_its_max_tokens_is_left_untaken(devnet, nodes):
    nodes.worker("thrifty", 8, models=PydocChat.name)
    client = requester(devnet, 4)
    underpaid = client.submit(PydocChat.name, [ask("Hi", max_tokens=64)], PydocChat.min_price * 63)
    paid = client.submit(PydocChat.name, QUESTIONS[:1], PRICE)
    assert client.wait(paid.batch_id, {"finalized"}, timeout=60) == "finalized"
    time.sleep(1)
    assert client.status(underpaid.batch_id) == "open"
