"""The transaction sender against a real anvil: simulation, decoded reverts, nonces."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
import requests
from eth_utils import keccak
from web3.logs import DISCARD

from node.chain.calls import encode_call
from node.chain.errors import ContractRevertError
from node.chain.events import EventDecoder
from node.chain.protocol import Batch, job_id
from node.chain.transport import connect
from node.chain.tx import REFUND_AND_FORWARDING, TransactionFailedError, TxSender, revert_of

from .conftest import MODEL


def test_transact_simulates_and_raises_decoded_revert_without_sending(anvil, deployed):
    deployment, senders = deployed
    w3 = anvil.web3()
    market = deployment.contract(w3, "JobMarket")
    sender = senders[3]
    nonce_before = w3.eth.get_transaction_count(sender.address)
    with pytest.raises(ContractRevertError) as info:
        sender.transact(market.functions.withdraw())
    assert info.value.name == "JobMarketNothingToWithdraw"
    assert info.value.args_by_name == {"account": sender.address}
    assert w3.eth.get_transaction_count(sender.address) == nonce_before  # Nothing was sent.


def test_concurrent_sends_use_consecutive_nonces_and_all_land(anvil, deployed):
    deployment, senders = deployed
    w3 = anvil.web3()
    credit = deployment.contract(w3, "Credit")
    owner = senders[0]
    start = w3.eth.get_transaction_count(owner.address)
    receipts = []

    def mint(i: int) -> None:
        receipts.append(owner.transact(credit.functions.mint(senders[4].address, i + 1)))

    threads = [threading.Thread(target=mint, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(receipts) == 12 and all(r["status"] == 1 for r in receipts)
    assert w3.eth.get_transaction_count(owner.address) == start + 12
    assert credit.functions.balanceOf(senders[4].address).call() == sum(range(1, 13))


def test_deployment_registers_models_and_wires_staking(anvil, deployed):
    deployment, _ = deployed
    w3 = anvil.web3()
    registry = deployment.contract(w3, "ModelRegistry")
    staking = deployment.contract(w3, "Staking")
    model = registry.functions.getModel(bytes.fromhex(MODEL.model_id[2:])).call()
    assert model[0] == MODEL.name
    assert staking.functions.jobMarket().call() == deployment.contracts["JobMarket"].address
    assert deployment.chain_id == w3.eth.chain_id


def test_sender_repr_shows_address_never_key(deployed):
    _, senders = deployed
    sender = senders[1]
    assert repr(sender) == f"TxSender({sender.address})"
    assert sender._account.key.hex() not in repr(sender) + str(sender)


def test_sender_recovers_when_another_process_used_its_nonce(anvil, deployed):
    deployment, senders = deployed
    w3 = anvil.web3()
    credit = deployment.contract(w3, "Credit")
    first = senders[0]
    first.transact(credit.functions.mint(senders[5].address, 1))  # `first` now caches a nonce.
    other = TxSender(w3, first._account, first._decoder)  # Same key, as another process would have.
    other.transact(credit.functions.mint(senders[5].address, 1))
    receipt = first.transact(credit.functions.mint(senders[5].address, 1))  # Its cached nonce is stale.
    assert receipt["status"] == 1


@pytest.mark.parametrize("raw", [False, True], ids=["formatted", "raw"])
def test_transaction_reverted_after_simulation_raises_with_decoded_cause(anvil, deployed, raw):
    """Valid when simulated, reverted when mined: the block lands after the commit deadline."""
    deployment, senders = deployed
    w3 = anvil.web3()
    credit, staking, market = (deployment.contract(w3, n) for n in ("Credit", "Staking", "JobMarket"))
    requester, worker = senders[3], senders[4]
    for account in (requester, worker):
        senders[0].transact(credit.functions.mint(account.address, 10**9))
    requester.transact(credit.functions.approve(market.address, 2**256 - 1))
    worker.transact(credit.functions.approve(staking.address, 2**256 - 1))
    worker.transact(staking.functions.stake(0, 500 * 10**6, "http://127.0.0.1:9"))
    request = (bytes.fromhex(MODEL.model_id[2:]), 10**6, 600, 0, False, [(keccak(b"late"), b"late", "")])
    receipt = requester.transact(market.functions.createBatches([request]))
    batch_id = market.events.BatchCreated().process_receipt(receipt, errors=DISCARD)[0]["args"]["batchId"]
    worker.transact(market.functions.takeBatches([batch_id]))
    deadline = Batch.decode(market.functions.getBatch(batch_id).call()).deadline
    w3.provider.make_request("evm_setAutomine", [False])
    try:
        sent = worker.send_nowait(market.functions.commitResults([batch_id], [[keccak(b"out")]]))
        w3.provider.make_request("evm_setNextBlockTimestamp", [deadline + 10])
        w3.provider.make_request("evm_mine", [])
    finally:
        w3.provider.make_request("evm_setAutomine", [True])
    with pytest.raises(TransactionFailedError) as info:
        (worker.wait_raw if raw else worker.wait)(sent)
    revert = revert_of(info.value)
    assert revert is not None and revert.name == "JobMarketDeadlinePassed"
    assert revert.args_by_name == {"id": batch_id, "deadline": deadline}


def test_fast_call_encoding_gives_web3s_bytes_for_every_argument_shape(anvil, deployed):
    deployment, senders = deployed
    w3 = anvil.web3()
    market = deployment.contract(w3, "JobMarket")
    staking = deployment.contract(w3, "Staking")
    model = bytes.fromhex(MODEL.model_id[2:])
    job_input = (keccak(b"x"), b"x", "")
    calls = [
        market.functions.createBatches([(model, 10**6, 600, 0, True, [job_input, (keccak(b""), b"", "ipfs://a")])]),
        market.functions.commitResults([1, 2], [[keccak(b"a")], [keccak(b"b"), keccak(b"c")]]),
        deployment.contract(w3, "VerificationGame").functions.submitVerdicts([job_id(1, 0)], [False], [keccak(b"d")]),
        market.functions.withdraw(),
        market.functions.balanceOf(senders[1].address),
        staking.functions.stake(0, 5, "http://127.0.0.1:9001"),
        # A hex string for bytes32: eth-abi refuses it, so it goes through web3's normalizers.
        market.functions.createBatches([(MODEL.model_id, 10**6, 600, 0, False, [job_input])]),
    ]
    for fn in calls:
        assert encode_call(fn) == fn._encode_transaction_data()


def test_transact_raw_returns_the_nodes_receipt_whose_logs_decode_as_web3s(anvil, deployed):
    deployment, senders = deployed
    w3 = anvil.web3()
    credit = deployment.contract(w3, "Credit")
    receipt = senders[0].transact_raw(credit.functions.mint(senders[5].address, 7))
    assert receipt["status"] == "0x1" and isinstance(receipt["blockNumber"], str)
    formatted = w3.eth.get_transaction_receipt(receipt["transactionHash"])
    (expected,) = credit.events.Transfer().process_receipt(formatted, errors=DISCARD)
    (log,) = receipt["logs"]
    decoded = EventDecoder(credit.abi).decode_raw(log)
    assert decoded == ("Transfer", dict(expected["args"]))


def test_transaction_gas_limit_covers_the_gas_used_with_margin(anvil, deployed):
    deployment, senders = deployed
    w3 = anvil.web3()
    credit = deployment.contract(w3, "Credit")
    receipt = senders[0].transact(credit.functions.mint(senders[2].address, 5))
    limit = w3.eth.get_transaction(receipt["transactionHash"])["gas"]
    # One simulation's gas used, allowing for refunds and forwarding, then the 25% margin.
    assert limit >= receipt["gasUsed"] * 1.5
    assert limit <= receipt["gasUsed"] * 1.25 * REFUND_AND_FORWARDING * 1.1  # Plus the access list's own cost.


class _NoAccessListProxy(BaseHTTPRequestHandler):
    """An RPC node without `eth_createAccessList`: forwards every other call to anvil."""

    protocol_version = "HTTP/1.1"
    upstream = ""
    asked: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        request = json.loads(body)
        type(self).asked.append(request["method"])
        if request["method"] == "eth_createAccessList":
            reply = json.dumps({"jsonrpc": "2.0", "id": request["id"], "error": {"code": -32601, "message": "no"}})
            data = reply.encode()
        else:
            data = requests.post(self.upstream, data=body, headers={"Content-Type": "application/json"}).content
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


def test_sender_simulates_with_estimate_gas_on_a_node_without_access_lists(anvil, deployed):
    deployment, senders = deployed
    _NoAccessListProxy.upstream = anvil.url
    server = ThreadingHTTPServer(("127.0.0.1", 0), _NoAccessListProxy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        w3 = connect(f"http://127.0.0.1:{server.server_address[1]}")
        sender = TxSender(w3, senders[0]._account, senders[0]._decoder)
        market = deployment.contract(w3, "JobMarket")
        with pytest.raises(ContractRevertError) as info:  # Still decoded, from eth_estimateGas.
            sender.transact(market.functions.withdraw())
        assert info.value.name == "JobMarketNothingToWithdraw"
        receipt = sender.transact(deployment.contract(w3, "Credit").functions.mint(senders[2].address, 5))
        assert receipt["status"] == 1
        assert _NoAccessListProxy.asked.count("eth_createAccessList") == 1  # Asked once, then never.
        assert _NoAccessListProxy.asked.count("eth_estimateGas") == 2
    finally:
        server.shutdown()
        server.server_close()
