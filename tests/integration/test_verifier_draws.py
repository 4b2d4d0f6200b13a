"""Who draws a batch's audits: the worker's finalize, unless the verifier must (to challenge,
before the seed leaves `blockhash` reach, or once the worker is late to finalize)."""

from __future__ import annotations

import httpx
import pytest

from node.errors import NightshiftError
from node.inference.models.digits import DigitsMLP

from .helpers import DIGIT_PRICE, digit_inputs, draws_of, requester, wait_until


def test_verifier_leaves_a_lone_batchs_audit_draw_to_the_workers_finalize(devnet, nodes):
    # Three transactions for the job, not four: no draw of the verifier's between commit and finalize.
    nodes.worker("drawing-worker", 36, models="digits-mlp")
    verifier = nodes.verifier("lazy-verifier", 37, models="digits-mlp", challenge_rate=0.0)
    client = requester(devnet, 3)
    sub = client.submit(DigitsMLP.name, digit_inputs(1, offset=800), DIGIT_PRICE)
    assert client.wait(sub.batch_id, {"finalized"}, timeout=60) == "finalized"
    market, start = devnet.market_contract, devnet.deployment.block_number
    finalized = market.events.BatchFinalized().get_logs(argument_filters={"batchId": sub.batch_id}, from_block=start)
    assert len(finalized) == 1
    finalizer = devnet.w3.eth.get_transaction(finalized[0]["transactionHash"])["from"]
    assert finalizer == devnet.accounts[36].address
    # Drawn inside that finalize, auditing nothing: no `BatchDrawn` or `AuditsDrawn`,
    # and none from the verifier either.
    assert draws_of(devnet, sub.batch_id) == []
    # The verifier serves its health and metrics, as the worker does.
    health = httpx.get(f"{verifier.url}/health", timeout=5).json()
    assert health["status"] == "ok" and health["address"] == devnet.accounts[37].address
    wait_until(
        lambda: 'nightshift_events_total{event="BatchFinalized"}'
        in httpx.get(f"{verifier.url}/metrics", timeout=5).text,
        30,
        "the verifier to count the finalize",
    )


def test_verifier_draws_a_batch_whose_worker_has_not_finalized_it_past_the_grace(devnet, nodes):
    # The hold keeps the worker from finalizing alone: the audits must not wait for its next commit.
    nodes.worker("holding-worker", 34, models="digits-mlp", finalize_hold=120)
    nodes.verifier("keeper-verifier", 35, models="digits-mlp", draw_grace=1, challenge_rate=0.0)
    client = requester(devnet, 3)
    sub = client.submit(DigitsMLP.name, digit_inputs(1, offset=810), DIGIT_PRICE)
    assert client.wait(sub.batch_id, {"committed", "drawn"}, timeout=60) in ("committed", "drawn")
    wait_until(lambda: bool(draws_of(devnet, sub.batch_id)), 60, "the verifier to draw the held batch")
    window_end = devnet.view.batch(sub.batch_id).deadline
    ((draw_tx, sender),) = draws_of(devnet, sub.batch_id)
    assert sender == devnet.accounts[35].address
    assert devnet.w3.eth.get_block(devnet.w3.eth.get_transaction(draw_tx)["blockNumber"])["timestamp"] > window_end
    assert client.status(sub.batch_id) == "drawn"  # Drawn, and still the worker's to finalize.


def test_verifier_draws_a_batch_whose_seed_nears_the_end_of_blockhash_reach(devnet, nodes):
    # Neither the worker (held) nor the grace would draw it: 130 blocks mined at once would.
    nodes.worker("slow-worker", 32, models="digits-mlp", finalize_hold=600)
    nodes.verifier("reach-verifier", 33, models="digits-mlp", draw_grace=600, challenge_rate=0.0)
    client = requester(devnet, 3)
    sub = client.submit(DigitsMLP.name, digit_inputs(1, offset=820), DIGIT_PRICE)
    assert client.wait(sub.batch_id, {"committed"}, timeout=60) == "committed"
    seed_block = devnet.view.batch(sub.batch_id).seed_block
    devnet.w3.provider.make_request("anvil_mine", [hex(130), hex(0)])  # type: ignore[arg-type]
    wait_until(lambda: bool(draws_of(devnet, sub.batch_id)), 60, "the verifier to draw before the seed is lost")
    ((draw_tx, sender),) = draws_of(devnet, sub.batch_id)
    assert sender == devnet.accounts[33].address
    assert devnet.w3.eth.get_transaction(draw_tx)["blockNumber"] - seed_block < 256  # Drawn, not re-armed.


def test_a_verifier_that_serves_only_some_models_refuses_to_start_unless_told(devnet, nodes):
    """Drawn for a job of a model it does not serve, a verifier cannot judge it and loses its
    bond as absent: one that would run so is refused with the reason, unless its operator says so."""
    with pytest.raises(
        NightshiftError, match="does not serve every active model \\(missing: all-MiniLM-L6-v2, pydoc-chat\\)"
    ):
        nodes.verifier("partial-verifier", 21, models="digits-mlp", partial_models=False)
