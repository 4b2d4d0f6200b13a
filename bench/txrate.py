"""Transaction sending: the node's `TxSender` against a plain web3.py send loop, in one run.

    python -m bench.txrate [--txs 300]

Both send the same kind of transaction (a credit `transfer`) from their own account to a fresh
anvil that mines each transaction as it arrives. The plain loop builds, signs and broadcasts with
a fixed gas limit and local nonces, then waits for the last receipt. The sender, as the nodes use
it, also simulates every transaction first (`eth_createAccessList` on the pending state) so that a
call the contract would refuse is never sent; it is measured pipelined (`send_nowait`, then every
receipt) and one at a time (`transact`, which waits for each receipt).
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from node.chain.anvil import Anvil, dev_accounts
from node.chain.artifacts import load_artifacts
from node.chain.deploy import CREDIT_UNIT, DeployConfig, decoder_for, deploy_protocol
from node.chain.tx import TxSender


def measure(txs: int = 300) -> dict[str, Any]:
    with Anvil() as anvil:
        w3 = anvil.web3()
        artifacts = load_artifacts()
        accounts = dev_accounts(5)
        senders = [TxSender(w3, a, decoder_for(artifacts)) for a in accounts]
        deployment = deploy_protocol(w3, senders[0], DeployConfig(), [], artifacts)
        credit = deployment.contract(w3, "Credit")
        for s in senders[1:4]:
            senders[0].transact(credit.functions.mint(s.address, 10**6 * CREDIT_UNIT))
        sink = accounts[4].address

        # A plain web3.py loop: build, sign, send; then wait for the last receipt.
        plain = accounts[1]
        nonce = w3.eth.get_transaction_count(plain.address)
        chain_id = w3.eth.chain_id
        fees = {"maxFeePerGas": 2 * w3.eth.gas_price + 10**9, "maxPriorityFeePerGas": 10**9}
        started = time.perf_counter()
        last = None
        for i in range(txs):
            params: Any = {"from": plain.address, "nonce": nonce + i, "gas": 100_000, "chainId": chain_id, **fees}
            tx: Any = credit.functions.transfer(sink, 1).build_transaction(params)
            last = w3.eth.send_raw_transaction(plain.sign_transaction(tx).raw_transaction)
        w3.eth.wait_for_transaction_receipt(last)  # type: ignore[arg-type]
        plain_rate = txs / (time.perf_counter() - started)

        # The node's sender, pipelined: simulate, sign, send each; then wait for every receipt.
        sender = senders[2]
        started = time.perf_counter()
        hashes = [sender.send_nowait(credit.functions.transfer(sink, 1)) for _ in range(txs)]
        for tx_hash in hashes:
            sender.wait(tx_hash)
        pipelined_rate = txs / (time.perf_counter() - started)

        # The node's sender, one at a time, as a worker sends its take, commit and finalize.
        sender = senders[3]
        started = time.perf_counter()
        for _ in range(txs):
            sender.transact(credit.functions.transfer(sink, 1))
        sequential_rate = txs / (time.perf_counter() - started)
    return {
        "txs": txs,
        "plain_web3_loop_per_s": plain_rate,
        "tx_sender_pipelined_per_s": pipelined_rate,
        "tx_sender_sequential_per_s": sequential_rate,
        "pipelined_ratio": pipelined_rate / plain_rate,
        "sequential_ratio": sequential_rate / plain_rate,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The node's TxSender against a plain web3.py send loop.")
    parser.add_argument("--txs", type=int, default=300)
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.txs), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
