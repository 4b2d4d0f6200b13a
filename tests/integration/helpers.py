"""Helpers for the tests that run worker and verifier nodes as processes on a devnet."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

from pydantic import SecretStr
from sklearn.datasets import load_digits

from node.chain.client import ChainClient
from node.chain.deploy import MarketParams
from node.chain.protocol import job_status
from node.client import RequesterClient
from node.devnet import VERIFIER, WORKER, Devnet, NodeProcess
from node.inference.models.digits import encode_pixels

EMBED_PRICE, DIGIT_PRICE = 20_000, 2_000
FINALIZED, REJECTED, FORFEITED, EXPIRED = "finalized", "rejected", "forfeited", "expired"
# The node tests' market: audits at 0.2% (almost no job is audited unless a test asks for it),
# with the collateral that makes that rate safe (the market refuses less).
BASE_AUDIT_BPS, COLLATERAL_BPS = 20, 8_000_000
DIGITS = load_digits()


def digit_inputs(n: int, offset: int = 0) -> list[bytes]:
    return [encode_pixels(DIGITS.data[offset + i]) for i in range(n)]


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class Nodes:
    """Starts nodes for one test; on teardown stops them and takes them out of the registry."""

    def __init__(self, devnet: Devnet):
        self.devnet = devnet
        self.started: list[tuple[NodeProcess, int]] = []

    def worker(self, name: str, index: int, **env: object) -> NodeProcess:
        node = self.devnet.start_worker(name, index, **env)
        self.started.append((node, index))
        return node

    def verifier(self, name: str, index: int, **env: object) -> NodeProcess:
        node = self.devnet.start_verifier(name, index, **env)
        self.started.append((node, index))
        return node

    def close(self) -> None:
        for node, index in self.started:
            self.devnet.stop(node)
            role = WORKER if node.kind == "worker" else VERIFIER
            if self.devnet.staking.functions.isActive(node.account.address, role).call():
                self.devnet.senders[index].transact(self.devnet.staking.functions.requestExit(role))


def requester(devnet: Devnet, index: int) -> RequesterClient:
    key = SecretStr("0x" + devnet.accounts[index].key.hex().removeprefix("0x"))
    return RequesterClient(ChainClient(devnet.anvil.url, devnet.deployments_path, key))


def job_statuses(devnet: Devnet, job_ids: list[int]) -> list[str]:
    return [job_status(devnet.view.job_batch(j).status, devnet.view.audit_status(j)) for j in job_ids]


def all_final(devnet: Devnet, job_ids: list[int]) -> Callable[[], bool]:
    return lambda: all(s in (FINALIZED, REJECTED, FORFEITED, EXPIRED) for s in job_statuses(devnet, job_ids))


def collateral(price: int) -> int:
    return price * COLLATERAL_BPS // 10_000


def events(devnet: Devnet, name: str, **filters: object) -> list[dict]:
    """A market or game event's logs since the deployment."""
    in_market = any(e["type"] == "event" and e["name"] == name for e in devnet.market_contract.abi)
    contract = devnet.market_contract if in_market else devnet.game
    event = getattr(contract.events, name)()
    logs = event.get_logs(argument_filters=filters or None, from_block=devnet.deployment.block_number)
    return [dict(log["args"]) for log in logs]


def balance(devnet: Devnet, index: int) -> int:
    return devnet.market_contract.functions.balanceOf(devnet.accounts[index].address).call()


def node_devnet(root: Path) -> Iterator[Devnet]:
    """A devnet for a module of node tests: a 0.2% base audit rate, a 6 s challenge window, and
    requesters 2-5 funded."""
    market = MarketParams(
        base_audit_bps=BASE_AUDIT_BPS, collateral_bps=COLLATERAL_BPS, challenge_window=6, verdict_window=10
    )
    net = Devnet(root, market=market).up()
    for requester_index in (2, 3, 4, 5):
        net.fund(requester_index, 10_000)
    yield net
    net.down()


def draws_of(devnet: Devnet, batch_id: int) -> list[tuple[str, str]]:
    """(transaction hash, sender) of each draw of a batch (`BatchDrawn`, or `AuditsDrawn` if it
    selected jobs)."""
    start = devnet.deployment.block_number
    logs = [
        *devnet.market_contract.events.BatchDrawn().get_logs(argument_filters={"batchId": batch_id}, from_block=start),
        *devnet.game.events.AuditsDrawn().get_logs(argument_filters={"batchId": batch_id}, from_block=start),
    ]
    return [(log["transactionHash"], devnet.w3.eth.get_transaction(log["transactionHash"])["from"]) for log in logs]
