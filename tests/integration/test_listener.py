"""The chain listener: cursor, dedupe by (tx hash, log index), confirmations."""

import pytest
from eth_utils import keccak

from node.chain.client import ChainClient
from node.chain.listener import EventListener
from node.store import Store

from .conftest import MODEL


def _create_batch(deployed, anvil, payload: bytes) -> None:
    deployment, senders = deployed
    w3 = anvil.web3()
    requester = senders[2]
    credit, market = deployment.contract(w3, "Credit"), deployment.contract(w3, "JobMarket")
    senders[0].transact(credit.functions.mint(requester.address, 10**9))
    requester.transact(credit.functions.approve(market.address, 2**256 - 1))
    request = (bytes.fromhex(MODEL.model_id[2:]), 10**6, 600, 0, False, [(keccak(payload), payload, "")])
    requester.transact(market.functions.createBatches([request]))


def _listener(anvil, deployed, tmp_path, confirmations=0, events=None):
    deployment, _ = deployed
    path = tmp_path / "deployments.json"
    deployment.save(path)
    client = ChainClient(anvil.url, path)
    store = Store(tmp_path / "node")
    return EventListener(client, store, [client.market], confirmations, events), store


def _cancel_latest_batch(deployed, anvil):
    """Cancels the newest batch: a receipt with a `BatchCancelled` and a `Credited` event."""
    deployment, senders = deployed
    w3 = anvil.web3()
    market = deployment.contract(w3, "JobMarket")
    batch_id = market.functions.nextBatchId().call() - 1
    senders[2].transact(market.functions.requestCancel([batch_id]))
    w3.provider.make_request("evm_increaseTime", [601])  # type: ignore[arg-type]  # Past its timeout.
    return senders[2].transact_raw(market.functions.cancelBatches([batch_id]))


def test_listener_delivers_each_event_once_and_resumes_from_cursor(anvil, deployed, tmp_path):
    _create_batch(deployed, anvil, b"first")
    listener, store = _listener(anvil, deployed, tmp_path)
    seen = []
    listener.poll(seen.append)
    created = [e for e in seen if e.name == "BatchCreated"]
    assert created and created[-1].args["inputs"][0]["data"] == b"first"
    cursor = store.cursor()

    # A restart: a new listener on the same store resumes after the cursor.
    listener, store = _listener(anvil, deployed, tmp_path)
    again = []
    listener.poll(again.append)
    assert again == [] and store.cursor() == cursor

    # Rewinding the cursor re-reads the blocks, but handled events are not delivered twice.
    with store.transaction() as db:
        store.set_cursor(0, db)
    listener.poll(again.append)
    assert again == []
    _create_batch(deployed, anvil, b"second")
    listener.poll(again.append)
    assert [e.args["inputs"][0]["data"] for e in again if e.name == "BatchCreated"] == [b"second"]


def test_listener_with_event_names_delivers_only_those_events(anvil, deployed, tmp_path):
    _create_batch(deployed, anvil, b"filtered")
    _cancel_latest_batch(deployed, anvil)
    everything, _ = _listener(anvil, deployed, tmp_path / "all")
    names: list[str] = []
    everything.poll(lambda e: names.append(e.name))
    assert {"BatchCreated", "BatchCancelled", "Credited"} <= set(names)

    wanted = ("BatchCreated", "BatchCancelled")
    listener, _ = _listener(anvil, deployed, tmp_path / "some", events=wanted)
    delivered: list[str] = []
    listener.poll(lambda e: delivered.append(e.name))
    assert delivered == [n for n in names if n in wanted]


def test_listener_refuses_an_event_name_the_contracts_do_not_declare(anvil, deployed, tmp_path):
    with pytest.raises(ValueError, match="BatchExploded"):
        _listener(anvil, deployed, tmp_path, events=("BatchCreated", "BatchExploded"))


def test_record_receipt_returns_every_event_of_the_receipt_decoded(anvil, deployed, tmp_path):
    _create_batch(deployed, anvil, b"cancelled")
    receipt = _cancel_latest_batch(deployed, anvil)
    assert len(receipt["logs"]) == 2  # BatchCancelled, then the refund's Credited.
    listener, _ = _listener(anvil, deployed, tmp_path, events=("BatchCancelled",))
    cancelled, credited = listener.record_receipt(receipt)  # Delivered by polls or not: the caller's to use.
    assert (cancelled.name, credited.name) == ("BatchCancelled", "Credited")
    assert cancelled.args["requester"] == deployed[1][2].address
    assert cancelled.block == int(receipt["blockNumber"], 16) and cancelled.log_index == 0


def test_listener_waits_for_confirmations(anvil, deployed, tmp_path):
    listener, _ = _listener(anvil, deployed, tmp_path, confirmations=3)
    listener.poll(lambda e: None)
    _create_batch(deployed, anvil, b"unconfirmed")
    seen = []

    def payloads():
        return [e.args["inputs"][0]["data"] for e in seen if e.name == "BatchCreated"]

    listener.poll(seen.append)
    assert b"unconfirmed" not in payloads()
    anvil.web3().provider.make_request("anvil_mine", [3])
    listener.poll(seen.append)
    assert payloads().count(b"unconfirmed") == 1


def test_fast_decoder_gives_web3s_values_for_every_logged_event(anvil, deployed, tmp_path):
    deployment, senders = deployed
    w3 = anvil.web3()
    credit, market, staking = (deployment.contract(w3, n) for n in ("Credit", "JobMarket", "Staking"))
    _create_batch(deployed, anvil, b"decoded")
    worker = senders[3]
    senders[0].transact(credit.functions.mint(worker.address, 10**12))
    worker.transact(credit.functions.approve(staking.address, 2**256 - 1))
    worker.transact(staking.functions.stake(0, 10**12, "http://worker.test"))
    batch_id = market.functions.nextBatchId().call() - 1
    worker.transact(market.functions.takeBatches([batch_id]))
    worker.transact(market.functions.commitResults([batch_id], [[keccak(b"output")]]))

    client = ChainClient(anvil.url, _saved(deployment, tmp_path))
    compared = set()
    for contract in (market, staking, credit):
        listener = EventListener(client, Store(tmp_path / contract.address), [contract])
        raw_logs = client.rpc("eth_getLogs", [{"address": contract.address, "fromBlock": "0x0", "toBlock": "latest"}])
        for raw, parsed in zip(raw_logs, w3.eth.get_logs({"address": contract.address, "fromBlock": 0}), strict=True):
            event = listener._decode(raw)
            assert event is not None
            expected = contract.events[event.name]().process_log(parsed)
            assert event.args == dict(expected["args"]), event.name
            assert (event.block, event.log_index) == (expected["blockNumber"], expected["logIndex"])
            compared.add(event.name)
    assert {"BatchCreated", "BatchTaken", "ResultsCommitted", "Staked", "Transfer"} <= compared


def _saved(deployment, tmp_path):
    path = tmp_path / "deployments.json"
    deployment.save(path)
    return path


def test_listener_rewinds_to_the_fork_after_a_reorg_past_its_cursor(anvil, deployed, tmp_path):
    """A batch already delivered is reorged away and its id reused: the listener reports the
    fork and the batch, and delivers the new batch's creation."""
    reorgs: list[tuple[int, set[int] | None]] = []
    deployment, _ = deployed
    path = tmp_path / "deployments.json"
    deployment.save(path)
    client = ChainClient(anvil.url, path)
    store = Store(tmp_path / "node")
    listener = EventListener(client, store, [client.market], on_reorg=lambda f, t: reorgs.append((f, t)))
    w3 = anvil.web3()
    listener.poll(lambda e: None)
    fork = w3.eth.block_number
    _create_batch(deployed, anvil, b"dropped")
    seen: list = []
    listener.poll(seen.append)
    (dropped,) = [e for e in seen if e.name == "BatchCreated"]
    depth = w3.eth.block_number - fork
    w3.provider.make_request("anvil_reorg", [depth, []])  # type: ignore[arg-type]
    _create_batch(deployed, anvil, b"kept")

    again: list = []
    listener.poll(again.append)
    assert reorgs == [(fork, {dropped.args["batchId"]})]
    (kept,) = [e for e in again if e.name == "BatchCreated"]
    assert kept.args["batchId"] == dropped.args["batchId"] and kept.args["inputs"][0]["data"] == b"kept"
    listener.poll(again.append)
    assert len(reorgs) == 1  # The new chain is followed from then on.


def test_listener_sees_no_reorg_on_a_chain_that_only_grew(anvil, deployed, tmp_path):
    reorgs: list = []
    deployment, _ = deployed
    path = tmp_path / "deployments.json"
    deployment.save(path)
    client = ChainClient(anvil.url, path)
    listener = EventListener(client, Store(tmp_path / "node"), [client.market], on_reorg=lambda f, t: reorgs.append(f))
    for payload in (b"one", b"two"):
        listener.poll(lambda e: None)
        _create_batch(deployed, anvil, payload)
    listener.poll(lambda e: None)
    assert reorgs == []
