"""The kill -9 campaign: nodes and clients killed at random points, and nothing lost.

Each trial puts work in flight (a requester process submitting batches one transaction at a
time, and a request through the gateway), then kills one of the worker, a verifier, the gateway
or the requester with SIGKILL at a random moment, and restarts it (a requester is not
restarted: what it had submitted must still be served). Then it checks that:

- every job submitted reaches a terminal status (finalized, rejected, forfeited, expired or
  cancelled);
- every credit is accounted for: the market holds exactly what it owes, and the staking
  contract exactly what is staked;
- no node or client sent a transaction that reverted.

    python -m bench.kills [--trials N] [--seed S]    (writes bench/results/kills.json)
    python -m bench.kills submit --batches N         (the requester process a trial kills)
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from eth_utils import keccak
from web3.exceptions import ContractLogicError

from bench.books import Reads, market_books
from node.chain.artifacts import load_artifacts
from node.chain.client import ChainClient
from node.chain.deploy import MarketParams, decoder_for
from node.chain.errors import revert_data
from node.chain.protocol import job_id, job_status
from node.client import RequesterClient
from node.config import NodeSettings
from node.devnet import ROOT, VERIFIER, WORKER, Devnet, NodeProcess
from node.inference.models.digits import DigitsMLP
from node.inference.models.minilm import MiniLM

RESULTS = Path(__file__).resolve().parent / "results"
TARGETS = ("worker", "verifier", "gateway", "requester")
TERMINAL = {"finalized", "rejected", "forfeited", "expired", "cancelled"}
REQUESTER, OPERATOR, WORKER_INDEX, VERIFIERS = 2, 3, 6, (16, 17, 18)
PRICE = 2_000  # Base units per digit job, over the model's minimum.
API_KEY = "kill-campaign-key"
SETTLE_S = 120  # How long a trial's jobs may take to reach a terminal status after the kill.


def _digit(i: int) -> bytes:
    """A digit image as the model's input: 64 pixels, one byte each, from a seeded generator."""
    return bytes(random.Random(i).randrange(17) for _ in range(64))


def submit(batches: int, seed: int) -> int:
    """The requester process: `batches` batches of 1-4 digit jobs, one transaction each, with
    random pauses, so that a kill lands before, between or inside its transactions."""
    settings = NodeSettings()
    client = RequesterClient(ChainClient(settings.rpc_url, settings.deployments, settings.private_key))
    rng = random.Random(seed)
    for b in range(batches):
        inputs = [_digit(seed * 1_000 + b * 10 + i) for i in range(rng.randint(1, 4))]
        client.submit(DigitsMLP.name, inputs, PRICE, audit_bps=rng.choice((0, 2_000, 10_000)))
        time.sleep(rng.uniform(0, 0.5))
    return 0


@dataclass
class Campaign:
    devnet: Devnet
    rng: random.Random
    worker: NodeProcess = field(init=False)
    verifiers: list[NodeProcess] = field(init=False)
    gateway: NodeProcess = field(init=False)
    violations: list[str] = field(default_factory=list)
    killed: Counter[str] = field(default_factory=Counter)
    jobs: int = 0

    def __post_init__(self) -> None:
        net = self.devnet
        for index in (REQUESTER, OPERATOR):
            net.fund(index, 100_000)
        self.worker = net.start_worker("worker", WORKER_INDEX)
        self.verifiers = [net.start_verifier(f"verifier-{i}", index) for i, index in enumerate(VERIFIERS)]
        self.gateway = net.start_gateway("gateway", OPERATOR, gateway_api_key=API_KEY, gateway_price=20_000)
        self.parties = {
            net.accounts[i].address for i in (REQUESTER, OPERATOR, WORKER_INDEX, *VERIFIERS)
        }  # Whose transactions must never revert.

    def trial(self, number: int, target: str) -> None:
        net = self.devnet
        start = net.w3.eth.block_number + 1
        requester = self._requester(number)
        request = threading.Thread(target=self._embed, args=(number,), daemon=True)
        request.start()
        time.sleep(self.rng.uniform(0.3, 5.0))
        self.killed[target] += 1
        if target == "requester":
            requester.send_signal(signal.SIGKILL)
        else:
            node = {"worker": self.worker, "gateway": self.gateway}.get(target) or self.rng.choice(self.verifiers)
            net.stop(node, kill=True)
            net.launch(node)
        requester.wait(timeout=120)
        request.join(timeout=120)
        self._check(number, target, start)

    def _requester(self, number: int) -> subprocess.Popen[bytes]:
        net = self.devnet
        env = {
            **os.environ,
            "NIGHTSHIFT_RPC_URL": net.anvil.url,
            "NIGHTSHIFT_DEPLOYMENTS": str(net.deployments_path),
            "NIGHTSHIFT_PRIVATE_KEY": "0x" + net.accounts[REQUESTER].key.hex().removeprefix("0x"),
        }
        command = [sys.executable, "-m", "bench.kills", "submit", "--batches", "6", "--seed", str(number)]
        log = open(net.root / "requester.log", "ab")  # noqa: SIM115 - the child holds it
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)

    def _embed(self, number: int) -> None:
        """One embeddings request through the gateway; a gateway killed under it is expected."""
        texts = [f"sentence {i} of trial {number}" for i in range(3)]
        with contextlib.suppress(httpx.HTTPError):
            httpx.post(
                f"{self.gateway.url}/v1/embeddings",
                json={"model": MiniLM.name, "input": texts},
                headers={"Authorization": f"Bearer {API_KEY}"},
                timeout=90,
            )

    def _check(self, number: int, target: str, start: int) -> None:
        net, view = self.devnet, self.devnet.view
        created = net.market_contract.events.BatchCreated().get_logs(from_block=start)
        jobs = [job_id(e["args"]["batchId"], i) for e in created for i in range(len(e["args"]["inputs"]))]
        self.jobs += len(jobs)
        deadline = time.monotonic() + SETTLE_S
        left = jobs
        while left and time.monotonic() < deadline:
            left = [j for j in left if job_status(view.job_batch(j).status, view.audit_status(j)) not in TERMINAL]
            time.sleep(0.5)
        what = f"trial {number} ({target} killed)"
        if left:
            self._violate(f"{what}: {len(left)} of {len(jobs)} jobs not terminal after {SETTLE_S}s")
        batches = [e["args"]["batchId"] for e in created]
        market, accounts = net.market_contract, net.accounts
        held, owed = market_books(Reads(net.anvil.url), market, net.credit, accounts, accounts, batches)
        if held != owed:
            self._violate(f"{what}: the market holds {held} and owes {owed}")
        staked, stakes = self._stakes()
        if staked != stakes:
            self._violate(f"{what}: staking holds {staked}, stakes sum to {stakes}")
        for tx in self._reverted(start):
            self._violate(f"{what}: transaction {tx} reverted")
        for node in (self.worker, *self.verifiers, self.gateway):
            if not node.alive():
                self._violate(f"{what}: {node.name} stopped")
                net.launch(node)

    def _violate(self, message: str) -> None:
        print(message, file=sys.stderr)
        self.violations.append(message)

    def _stakes(self) -> tuple[int, int]:
        net = self.devnet
        stakes = sum(net.view.stake(a.address, role).amount for a in net.accounts for role in (WORKER, VERIFIER))
        return net.credit.functions.balanceOf(net.staking.address).call(), stakes

    def _reverted(self, start: int) -> list[str]:
        w3 = self.devnet.w3
        reverted = []
        for number in range(start, w3.eth.block_number + 1):
            for tx in w3.eth.get_block(number, full_transactions=True)["transactions"]:
                assert not isinstance(tx, bytes)  # Full transactions, not their hashes.
                if tx["from"] in self.parties and w3.eth.get_transaction_receipt(tx["hash"])["status"] != 1:
                    reverted.append(f"0x{bytes(tx['hash']).hex()} from {self._name(tx['from'])}: {self._why(tx)}")
        return reverted

    def _name(self, address: str) -> str:
        for node in (self.worker, *self.verifiers, self.gateway):
            if node.account.address == address:
                return node.name
        return "requester"

    def _why(self, tx: Any) -> str:
        """The revert, replayed on the state of the block it was mined in."""
        call = {"from": tx["from"], "to": tx["to"], "data": tx["input"], "gas": tx["gas"]}
        try:
            self.devnet.w3.eth.call(call, tx["blockNumber"])  # type: ignore[arg-type]
        except ContractLogicError as exc:
            data = revert_data(exc)
            return str(decoder_for(load_artifacts()).decode(data)) if data else str(exc)
        return "no revert on replay"


def campaign(root: Path, trials: int, seed: int) -> dict[str, Any]:
    """Runs `trials` trials, the targets in turn, on one devnet under `root`."""
    started = time.monotonic()
    market = MarketParams(challenge_window=6, verdict_window=10)
    net = Devnet(root, market=market).up()
    try:
        run = Campaign(net, random.Random(seed))
        for number in range(trials):
            run.trial(number, TARGETS[number % len(TARGETS)])
    finally:
        net.down()
    return {
        "trials": trials,
        "killed": dict(run.killed),
        "jobs": run.jobs,
        "violations": run.violations,
        "seconds": round(time.monotonic() - started, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="kill -9 campaign")
    parser.add_argument("mode", nargs="?", choices=("campaign", "submit"), default="campaign")
    parser.add_argument("--trials", type=int, default=52)
    parser.add_argument("--seed", type=int, default=int.from_bytes(keccak(b"kills")[:4], "big"))
    parser.add_argument("--batches", type=int, default=6)
    parser.add_argument("--out", type=Path, default=RESULTS / "kills.json")
    args = parser.parse_args(argv)
    if args.mode == "submit":
        return submit(args.batches, args.seed)
    with tempfile.TemporaryDirectory(prefix="nightshift-kills-") as root:
        result = campaign(Path(root), args.trials, args.seed)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 1 if result["violations"] else 0


if __name__ == "__main__":
    sys.exit(main())
