"""The CLI's account history, read from a real chain's events."""

from eth_utils import keccak

from node.chain.client import ChainClient
from node.chain.deploy import CREDIT_UNIT, MarketParams
from node.cli.account import _history, credits

from .conftest import MODEL


def test_history_shows_a_workers_commit_and_its_payout_from_batch_finalized(anvil, deployed, tmp_path):
    deployment, senders = deployed
    w3 = anvil.web3()
    credit, market, staking = (deployment.contract(w3, n) for n in ("Credit", "JobMarket", "Staking"))
    owner, requester = senders[0], senders[2]
    owner.transact(credit.functions.mint(requester.address, 1_000 * CREDIT_UNIT))
    requester.transact(credit.functions.approve(market.address, 2**256 - 1))
    price = MODEL.min_price
    request = (bytes.fromhex(MODEL.model_id[2:]), price, 600, 0, False, [(keccak(b"history"), b"history", "")])
    # The base rate audits one job in ten, and no verifier is staked here: a worker whose job the
    # draw selects is not paid in this test, so another worker tries (each its own history).
    for worker in (senders[4], senders[5], senders[3], senders[1]):
        owner.transact(credit.functions.mint(worker.address, 1_000 * CREDIT_UNIT))
        worker.transact(credit.functions.approve(staking.address, 2**256 - 1))
        worker.transact(staking.functions.stake(0, 500 * CREDIT_UNIT, "http://worker.test"))
        requester.transact(market.functions.createBatches([request]))
        batch_id = market.functions.nextBatchId().call() - 1
        worker.transact(market.functions.commitResults([batch_id], [[keccak(b"output")]]))  # Taken on in it.
        w3.provider.make_request("evm_increaseTime", [MarketParams().challenge_window + 1])  # type: ignore[arg-type]
        w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
        worker.transact(market.functions.finalizeBatches([batch_id]))
        if market.functions.balanceOf(worker.address).call() > 0:
            break

    path = tmp_path / "deployments.json"
    deployment.save(path)
    rows = _history(ChainClient(anvil.url, path), worker.address)
    payment = market.functions.balanceOf(worker.address).call()
    assert payment > 0
    # No `BatchTaken` (taken on in the commit) and no `Credited` (the payout's record is
    # `BatchFinalized`).
    assert [(r["event"], r["detail"]) for r in rows] == [
        ("ResultsCommitted", f"committed batch {batch_id}"),
        ("BatchFinalized", f"credited {credits(payment)} (worker payment, batch {batch_id})"),
    ]
