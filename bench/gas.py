"""Gas per job for each lifecycle path, summed over every party's transactions.

    python -m bench.gas [--batches 1 16 64] [--json FILE]

It starts a fresh anvil, deploys the protocol with the real contracts, and drives each path
with real signed transactions:

- unaudited: create, take on, commit, finalize (the audit draw happens inside finalize)
- audited:   create, take on, commit, draw, one accept verdict per job
- disputed:  create, take on, commit, draw, reject, two panel rejects per job (the cheater is
             slashed)
- expired:   create, take on, expire after the deadline

A batch of N jobs is one `createBatches`, `takeBatches`, `commitResults`, `drawAudits` and
`finalizeBatches` transaction; verdicts are one transaction per job. The worker's `withdraw` is
reported on its own: it is one transaction for any number of jobs.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from eth_utils import keccak
from web3.logs import DISCARD
from web3.types import TxReceipt

from node.chain.anvil import Anvil, dev_accounts
from node.chain.artifacts import load_artifacts
from node.chain.deploy import CREDIT_UNIT, DeployConfig, MarketParams, ModelSpec, decoder_for, deploy_protocol
from node.chain.deployments import Deployment
from node.chain.tx import TxSender

TX_BASE_GAS = 21_000
PAYMENT = CREDIT_UNIT
MODEL_ID = "0x" + keccak(b"gas-bench-model").hex()
WORKER, VERIFIER = 0, 1


@dataclass
class PathGas:
    """Gas of one path at one batch size."""

    path: str
    batch: int
    steps: dict[str, int] = field(default_factory=dict)
    txs: int = 0

    def add(self, step: str, receipts: list[TxReceipt]) -> None:
        self.steps[step] = self.steps.get(step, 0) + sum(int(r["gasUsed"]) for r in receipts)
        self.txs += len(receipts)

    @property
    def total(self) -> int:
        return sum(gas for step, gas in self.steps.items() if step != "withdraw")

    @property
    def per_job(self) -> int:
        return self.total // self.batch

    @property
    def base_floor_per_job(self) -> int:
        """21,000 per transaction, per job: the floor no contract design can go under."""
        withdraw_txs = 1 if "withdraw" in self.steps else 0
        return TX_BASE_GAS * (self.txs - withdraw_txs) // self.batch


class GasBench:
    """A deployed protocol with funded, staked parties, and one method per path."""

    def __init__(self, anvil: Anvil):
        self.w3 = anvil.web3()
        artifacts = load_artifacts()
        decoder = decoder_for(artifacts)
        accounts = dev_accounts(10)
        self.senders = [TxSender(self.w3, a, decoder) for a in accounts]
        owner, self.requester, self.worker, self.keeper = self.senders[:4]
        self.verifiers = self.senders[4:9]
        config = DeployConfig(market=MarketParams(base_audit_bps=0))
        model = ModelSpec(name="bench", model_id=MODEL_ID, mode="exact", min_price=PAYMENT)
        self.deployment: Deployment = deploy_protocol(self.w3, owner, config, [model], artifacts)
        self.market = self.deployment.contract(self.w3, "JobMarket")
        credit = self.deployment.contract(self.w3, "Credit")
        staking = self.deployment.contract(self.w3, "Staking")
        for s in (self.requester, self.worker, *self.verifiers):
            owner.transact(credit.functions.mint(s.address, 10**7 * CREDIT_UNIT))
            s.transact(credit.functions.approve(self.market.address, 2**256 - 1))
            s.transact(credit.functions.approve(staking.address, 2**256 - 1))
        self.worker.transact(staking.functions.stake(WORKER, 10**6 * CREDIT_UNIT, "http://127.0.0.1:9001"))
        for v in self.verifiers:
            v.transact(staking.functions.stake(VERIFIER, 10**6 * CREDIT_UNIT, ""))
        self._by_address = {s.address: s for s in self.senders}
        self._nonce = 0

    # ------------------------------------------------------------------ steps

    def _create(self, gas: PathGas, n: int, audit_bps: int) -> tuple[int, list[int]]:
        """One batch of n jobs; returns the batch id and the job ids."""
        inputs = []
        for _ in range(n):
            self._nonce += 1
            payload = b"input %d" % self._nonce
            inputs.append((keccak(payload), payload, ""))
        request = (bytes.fromhex(MODEL_ID[2:]), PAYMENT, 600, audit_bps, False, inputs)
        receipt = self.requester.transact(self.market.functions.createBatches([request]))
        gas.add("create", [receipt])
        batch_id = self.market.events.BatchCreated().process_receipt(receipt, errors=DISCARD)[0]["args"]["batchId"]
        return batch_id, [(batch_id << 16) | i for i in range(n)]

    def _take_commit(self, gas: PathGas, batch_id: int, n: int, commit: bool = True) -> None:
        gas.add("take", [self.worker.transact(self.market.functions.takeBatches([batch_id]))])
        if commit:
            hashes = [keccak(b"output %d %d" % (batch_id, i)) for i in range(n)]
            gas.add("commit", [self.worker.transact(self.market.functions.commitResults([batch_id], [hashes]))])
            self._mine()

    def _draw(self, gas: PathGas, batch_id: int) -> dict[int, str]:
        receipt = self.keeper.transact(self.market.functions.drawAudits([batch_id]))
        gas.add("draw", [receipt])
        events = self.market.events.AuditAssigned().process_receipt(receipt, errors=DISCARD)
        return {e["args"]["jobId"]: e["args"]["verifier"] for e in events}

    def _mine(self, seconds: int = 0) -> None:
        if seconds:
            self.w3.provider.make_request("evm_increaseTime", [seconds])  # type: ignore[arg-type]
        self.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]

    # ------------------------------------------------------------------ paths

    def unaudited(self, n: int) -> PathGas:
        gas = PathGas("unaudited", n)
        batch_id, _ = self._create(gas, n, 0)
        self._take_commit(gas, batch_id, n)
        self._mine(601)
        gas.add("finalize", [self.keeper.transact(self.market.functions.finalizeBatches([batch_id]))])
        gas.add("withdraw", [self.worker.transact(self.market.functions.withdraw())])
        return gas

    def _audited_batch(self, gas: PathGas, n: int) -> tuple[list[int], dict[int, str]]:
        """A batch with every job audited, drawn: its job ids and each job's verifier."""
        batch_id, ids = self._create(gas, n, 10_000)
        self._take_commit(gas, batch_id, n)
        return ids, self._draw(gas, batch_id)

    def audited(self, n: int) -> PathGas:
        gas = PathGas("audited", n)
        ids, assigned = self._audited_batch(gas, n)
        out = keccak(b"verifier output")
        gas.add(
            "verdict",
            [self._by_address[assigned[j]].transact(self.market.functions.submitVerdict(j, True, out)) for j in ids],
        )
        return gas

    def disputed(self, n: int) -> PathGas:
        gas = PathGas("disputed", n)
        ids, assigned = self._audited_batch(gas, n)
        out = keccak(b"verifier output")
        rejects, votes = [], []
        for j in ids:
            receipt = self._by_address[assigned[j]].transact(self.market.functions.submitVerdict(j, False, out))
            rejects.append(receipt)
            panel = self.market.events.DisputeOpened().process_receipt(receipt, errors=DISCARD)[0]["args"]["panel"]
            votes += [self._by_address[p].transact(self.market.functions.submitVerdict(j, False, out)) for p in panel]
        gas.add("reject", rejects)
        gas.add("panel votes", votes)
        return gas

    def expired(self, n: int) -> PathGas:
        gas = PathGas("expired", n)
        batch_id, _ = self._create(gas, n, 0)
        self._take_commit(gas, batch_id, n, commit=False)
        self._mine(601)
        gas.add("expire", [self.keeper.transact(self.market.functions.expireBatches([batch_id]))])
        return gas

    def paths(self) -> dict[str, Callable[[int], PathGas]]:
        return {
            "unaudited": self.unaudited,
            "audited": self.audited,
            "disputed": self.disputed,
            "expired": self.expired,
        }


def measure(batches: tuple[int, ...] = (1, 16, 64)) -> list[PathGas]:
    """Runs every path at every batch size on a fresh anvil."""
    with Anvil() as anvil:
        bench = GasBench(anvil)
        return [run(n) for run in bench.paths().values() for n in batches]


def render(rows: list[PathGas]) -> str:
    """A Markdown table."""
    lines = [
        "| path | batch | txs | total gas | gas per job | 21k-per-tx floor per job | steps (gas per job) |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        steps = ", ".join(f"{k} {v // r.batch:,}" for k, v in r.steps.items())
        lines.append(
            f"| {r.path} | {r.batch} | {r.txs} | {r.total:,} | {r.per_job:,} | {r.base_floor_per_job:,} | {steps} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Gas per job for each lifecycle path.")
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 16, 64])
    parser.add_argument("--json", type=Path, help="also write the rows as JSON")
    args = parser.parse_args(argv)
    rows = measure(tuple(args.batches))
    print(render(rows))
    if args.json:
        payload = [{**asdict(r), "total": r.total, "per_job": r.per_job, "floor": r.base_floor_per_job} for r in rows]
        args.json.write_text(json.dumps(payload, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
