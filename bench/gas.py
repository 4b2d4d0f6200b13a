"""Gas per job for each lifecycle path, summed over every party's transactions.

    python -m bench.gas [--batches 1 16 64] [--json FILE] [--doc docs/gas.md]

`make gas` writes the tables to `docs/gas.md` too: that file is generated, never edited.

It starts a fresh anvil, deploys the protocol with the real contracts, and drives each path
with real signed transactions:

- unaudited: create, commit, finalize (the audit draw happens inside finalize; the worker
             finalizes its own batch, as its node does, and a verifier node leaves the draw
             to that finalize)
- audited:   create, commit, draw, auditors' draw (a keeper's `drawVerifiers`), accept
             verdicts (each verifier's in one transaction), finalize, and the release of the
             auditors' bonds once the accepts stood their window (`resolveTimeouts`)
- disputed:  create, commit, draw, auditors' draw, reject verdicts (likewise), the panels'
             draw, and a quorum of two panel rejects per job (the cheater forfeits the batch)
- expired:   create, take on, expire after the deadline

The market refuses parameters under which cheating pays, so no deployment audits nothing. The
bench deploys with a base audit rate of 0.2% (and the collateral that makes it safe) and counts
only the batches whose draw selects none as unaudited, committing another when one is selected:
a path's gas does not depend on the rate, only on which jobs are selected.

A worker commits as its node does. An idle node computes a batch of at most 16 jobs
(`commit_open_max_jobs`) while it is still open and takes it on in the commit; a longer batch is
taken on first, in a `takeBatches` of its own. So batches 1 and 16 commit in one transaction, and
64 and 256 take on and commit in two. One more row shows a batch-1 job taken on first, as it is
when it arrives while the worker is busy:

- unaudited, taken on first: create, take on, commit, finalize
- unaudited, 64 lone jobs per worker transaction: 64 batch-1 jobs, each created alone in its own
             transaction, that a busy worker takes on, commits and finalizes 64 at a time, as its
             node does under load (the requester's side does not amortize, the worker's does)
- unaudited, lone jobs in a stream: batch-1 jobs one after another, each in transactions of its
             own on both sides: the worker's commit of each also finalizes the job before it,
             whose window has ended, in one `multicall`, as its node does (`finalize_hold`)

A batch of N jobs is one `createBatches`, `takeBatches` (where taken on first), `commitResults`,
`drawAudits` and `finalizeBatches` transaction. The audits are spread over the verifiers at
random; each sends its verdicts in one `submitVerdicts`, as the verifier node does; a dispute
panel's votes are one transaction each. The worker's `withdraw` is reported on its own: it is
one transaction for any number of jobs.

The requester has deposited credits into the market once (`deposit`), so each `createBatches`
pays its escrow from that internal balance instead of with a token transfer. One more row pays
from the wallet instead, with an allowance, as a requester that never deposited does:

- unaudited, paid from the wallet: create (with its `transferFrom`), commit, finalize

And one shows what a draw in a transaction of its own adds, as verifier nodes drew every batch
before they left the draw to the worker's finalize:

- unaudited, drawn in a transaction of its own: create, commit, draw, finalize

Figures are for a market in steady state: each requester has created a job before, so the
market's token balance and the treasury's and worker's internal balances are already non-zero, and
the requesters and the worker have their account ids (the first job ever pays to create them; it
is reported as its own row).

Next to each figure are the floors it is measured against, per job: 21,000 per transaction, the
calldata of the transactions' input (4 gas per zero byte, 16 per other byte), and the cheapest
SSTOREs that make the transactions' net storage changes (from anvil's prestate tracer).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from eth_abi import encode
from eth_utils import keccak
from web3.logs import DISCARD
from web3.types import TxReceipt

from bench.gaspath import SSTORE_FRESH, SSTORE_UPDATE, PathGas, render, render_profile, render_steps
from bench.opcodes import gas_by_kind
from bench.opcodes import render as render_kinds
from node.chain.anvil import Anvil, dev_accounts
from node.chain.artifacts import load_artifacts
from node.chain.deploy import CREDIT_UNIT, DeployConfig, MarketParams, ModelSpec, decoder_for, deploy_protocol
from node.chain.deployments import Deployment
from node.chain.protocol import Batch, batch_of, job_id
from node.chain.transport import raw_rpc
from node.chain.tx import TxSender
from node.config import WorkerSettings

PAYMENT = CREDIT_UNIT
BASE_AUDIT_BPS = 20
COLLATERAL_BPS = 8_000_000  # 800 times the price: 12 * (9,500 + c) > 10,000 * 9,500.
MODEL_ID = "0x" + keccak(b"gas-bench-model").hex()
TRIES = 50  # Batches committed until one's draw selects none.
AUDIT_DISPUTED = 4
WORKER, VERIFIER = 0, 1
BUSY_BATCHES = 64  # Batch-1 batches per worker transaction on the busy-worker row.
# The largest open backlog an idle worker node computes before taking it on (in the commit).
COMMIT_OPEN_MAX_JOBS: int = WorkerSettings.model_fields["commit_open_max_jobs"].default


class GasBench:
    """A deployed protocol with funded, staked parties, and one method per path."""

    def __init__(self, anvil: Anvil):
        self.w3 = anvil.web3()
        artifacts = load_artifacts()
        decoder = decoder_for(artifacts)
        accounts = dev_accounts(11)
        self.senders = [TxSender(self.w3, a, decoder) for a in accounts]
        owner, self.requester, self.worker, self.keeper = self.senders[:4]
        self.verifiers = self.senders[4:9]
        self.wallet_requester = self.senders[9]  # Pays each batch from its wallet: no deposit.
        self.newcomer = self.senders[10]  # Joins as a verifier in `staking_steps`.
        # The least audit rate the market accepts with this collateral, so that most batches draw
        # no audit (see the module's docstring), and the stake that lets a batch carry it.
        config = DeployConfig(
            min_verifier_stake=10**9 * CREDIT_UNIT,
            market=MarketParams(base_audit_bps=BASE_AUDIT_BPS, collateral_bps=COLLATERAL_BPS),
        )
        model = ModelSpec(name="bench", model_id=MODEL_ID, mode="exact", min_price=PAYMENT)
        self.deployment: Deployment = deploy_protocol(self.w3, owner, config, [model], artifacts)
        self.market = self.deployment.contract(self.w3, "JobMarket")
        credit = self.deployment.contract(self.w3, "Credit")
        staking = self.deployment.contract(self.w3, "Staking")
        for s in (self.requester, self.wallet_requester, self.worker, *self.verifiers, self.newcomer):
            owner.transact(credit.functions.mint(s.address, 10**11 * CREDIT_UNIT))
            s.transact(credit.functions.approve(self.market.address, 2**256 - 1))
            s.transact(credit.functions.approve(staking.address, 2**256 - 1))
        self.requester.transact(self.market.functions.deposit(10**6 * CREDIT_UNIT))
        self.worker.transact(staking.functions.stake(WORKER, 10**11 * CREDIT_UNIT, "http://127.0.0.1:9001"))
        for v in self.verifiers:
            v.transact(staking.functions.stake(VERIFIER, 10**11 * CREDIT_UNIT, ""))
        self.game = self.deployment.contract(self.w3, "VerificationGame")
        self.staking = staking
        self._by_address = {s.address: s for s in self.senders}
        self._nonce = 0
        self._contracts = {
            c.address: c
            for c in (self.market, self.game, credit, staking, self.deployment.contract(self.w3, "ModelRegistry"))
        }
        self._names = {
            address: name
            for name in ("Credit", "Staking", "ModelRegistry", "JobMarket", "VerificationGame")
            for address in [self.deployment.contract(self.w3, name).address]
        }

    # ------------------------------------------------------------------ steps

    def _create(
        self,
        gas: PathGas,
        n: int,
        audit_bps: int,
        keep: dict[str, TxReceipt] | None = None,
        requester: TxSender | None = None,
    ) -> tuple[int, list[int]]:
        """One batch of n jobs; returns the batch id and the job ids."""
        inputs = []
        for _ in range(n):
            self._nonce += 1
            payload = b"input %d" % self._nonce
            inputs.append((keccak(payload), payload, ""))
        request = (bytes.fromhex(MODEL_ID[2:]), PAYMENT, 600, audit_bps, False, inputs)
        receipt = (requester or self.requester).transact(self.market.functions.createBatches([request]))
        gas.add("create", [receipt], self.floors)
        if keep is not None:
            keep["create"] = receipt
        batch_id = self.market.events.BatchCreated().process_receipt(receipt, errors=DISCARD)[0]["args"]["batchId"]
        return batch_id, [job_id(batch_id, i) for i in range(n)]

    def _take_commit(
        self, gas: PathGas, batch_id: int, n: int, commit: bool = True, take_first: bool | None = None
    ) -> None:
        """Commits a batch as the worker node does (see the module's docstring): a small one taken
        on in the commit, a larger one taken on first. Without `commit`, only takes it on."""
        if take_first is None:
            take_first = n > COMMIT_OPEN_MAX_JOBS or not commit
        if take_first:
            gas.add("take", [self.worker.transact(self.market.functions.takeBatches([batch_id]))], self.floors)
        if commit:
            hashes = [keccak(b"output %d %d" % (batch_id, i)) for i in range(n)]
            gas.add(
                "commit", [self.worker.transact(self.market.functions.commitResults([batch_id], [hashes]))], self.floors
            )
            self._mine()

    def _draw(self, gas: PathGas, batch_id: int) -> list[int]:
        """The batch's audit draw, in a transaction of its own; returns the jobs it selected."""
        receipt = self.keeper.transact(self.market.functions.drawAudits([batch_id]))
        gas.add("draw", [receipt], self.floors)
        drawn = self.game.events.AuditsDrawn().process_receipt(receipt, errors=DISCARD)
        return list(drawn[0]["args"]["jobIds"]) if drawn else []

    def _selects_none(self, batch_id: int) -> bool:
        """Whether the committed batch's draw selects none of its jobs (its seed block is mined)."""
        batch = Batch.decode(self.market.functions.getBatch(batch_id).call())
        seed = self.w3.eth.get_block(batch.seed_block)["hash"]
        return not any(
            int.from_bytes(keccak(encode(["bytes32", "uint256"], [seed, job_id(batch_id, i)])), "big") % 10_000
            < BASE_AUDIT_BPS
            for i in range(batch.size)
        )

    def _assign(self, gas: PathGas, ids: list[int], step: str = "assign") -> dict[int, str]:
        """A keeper draws the verifiers the jobs wait for; returns each seat's verifier by job (the
        auditor, or the panelists)."""
        receipt = self.keeper.transact(self.game.functions.drawVerifiers(ids))
        gas.add(step, [receipt], self.floors)
        seats: dict[int, list[str]] = {}
        for name in ("AuditAssigned", "PanelistDrawn"):
            for e in self.game.events[name]().process_receipt(receipt, errors=DISCARD):
                seats.setdefault(e["args"]["jobId"], []).append(e["args"]["verifier"])
        return {j: v[0] for j, v in seats.items()} if step == "assign" else seats  # type: ignore[return-value]

    def floors(self, receipt: TxReceipt) -> tuple[int, int]:
        """(calldata gas of the input, storage-write floor) of a mined transaction.

        The storage floor prices the transaction's net state change (anvil's prestate tracer in
        diff mode) at the cheapest SSTORE that makes it: 22,100 for a fresh slot (20,000 plus
        the cold access), 5,000 for a changed or cleared one (2,900 plus the cold access).
        Writes undone within the transaction (the reentrancy lock) are not counted."""
        tx = self.w3.eth.get_transaction(receipt["transactionHash"])
        calldata = sum(4 if b == 0 else 16 for b in bytes(tx["input"]))
        diff = raw_rpc(
            self.w3,
            "debug_traceTransaction",
            [receipt["transactionHash"].to_0x_hex(), {"tracer": "prestateTracer", "tracerConfig": {"diffMode": True}}],
        )
        storage = 0
        for address in set(diff["pre"]) | set(diff["post"]):
            before = diff["pre"].get(address, {}).get("storage", {})
            after = diff["post"].get(address, {}).get("storage", {})
            for slot in set(before) | set(after):
                old, new = int(before.get(slot, "0x0"), 16), int(after.get(slot, "0x0"), 16)
                if old != new:
                    storage += SSTORE_FRESH if old == 0 else SSTORE_UPDATE
        return calldata, storage

    def profile(self, receipt: TxReceipt) -> list[dict[str, object]]:
        """The gas of each call a transaction made, from anvil's call tracer, depth first."""
        trace = raw_rpc(
            self.w3, "debug_traceTransaction", [receipt["transactionHash"].to_0x_hex(), {"tracer": "callTracer"}]
        )
        rows: list[dict[str, object]] = []

        def walk(call: dict[str, Any], depth: int) -> None:
            rows.append({"depth": depth, "call": self._call_name(call), "gas_used": int(call["gasUsed"], 16)})
            for child in call.get("calls", []):
                walk(child, depth + 1)

        walk(trace, 0)
        return rows

    def _call_name(self, call: dict[str, Any]) -> str:
        to = self.w3.to_checksum_address(call["to"])
        contract = self._contracts.get(to)
        if contract is None:
            return to
        selector = call["input"][:10]
        for fn in contract.all_functions():
            if fn.signature and "0x" + keccak(text=fn.signature)[:4].hex() == selector:
                return f"{self._names[to]}.{fn.fn_name}"
        return f"{self._names[to]}.{selector}"

    def _mine(self, seconds: int = 0) -> None:
        if seconds:
            self.w3.provider.make_request("evm_increaseTime", [seconds])  # type: ignore[arg-type]
        self.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]

    # ------------------------------------------------------------------ paths

    def unaudited(
        self, n: int, take_first: bool | None = None, from_wallet: bool = False, draw_apart: bool = False
    ) -> PathGas:
        path = "unaudited" if take_first is None else "unaudited, taken on first"
        if from_wallet:
            path = "unaudited, paid from the wallet"
        elif draw_apart:
            path = "unaudited, drawn in a transaction of its own"
        for _ in range(TRIES):
            gas = PathGas(path, n)
            batch_id, _ = self._create(gas, n, 0, requester=self.wallet_requester if from_wallet else None)
            self._take_commit(gas, batch_id, n, take_first=take_first)
            if self._selects_none(batch_id):
                break
        if draw_apart:
            self._draw(gas, batch_id)
        self._mine(601)
        gas.add("finalize", [self.worker.transact(self.market.functions.finalizeBatches([batch_id]))], self.floors)
        return gas

    def unaudited_busy(self, batches: int = BUSY_BATCHES) -> PathGas:
        """Batch-1 jobs as a busy worker handles them: each requester's job created alone, in a
        transaction of its own, and the worker taking, committing and finalizing `batches` of
        them per transaction, as its node does under load."""
        for _ in range(TRIES):
            gas = PathGas(f"unaudited, {batches} lone jobs per worker transaction", 1, jobs=batches)
            ids = [self._create(gas, 1, 0)[0] for _ in range(batches)]
            gas.add("take", [self.worker.transact(self.market.functions.takeBatches(ids))], self.floors)
            hashes = [[keccak(b"output %d" % batch_id)] for batch_id in ids]
            gas.add("commit", [self.worker.transact(self.market.functions.commitResults(ids, hashes))], self.floors)
            self._mine()
            if all(self._selects_none(b) for b in ids):
                break
        self._mine(601)
        gas.add("finalize", [self.worker.transact(self.market.functions.finalizeBatches(ids))], self.floors)
        return gas

    def unaudited_stream(self) -> PathGas:
        """Batch-1 jobs in a steady stream: each created alone, and the worker's commit of each
        also finalizing the job before it in one `multicall`. Per job: one create and one
        worker transaction."""
        for _ in range(TRIES):
            uncounted = PathGas("the job before", 1)
            before, _ = self._create(uncounted, 1, 0)
            self._take_commit(uncounted, before, 1)
            if self._selects_none(before):
                break
        self._mine(601)
        for _ in range(TRIES):  # The job measured: its commit must also select none, for the finalize after.
            gas = PathGas("unaudited, lone jobs in a stream", 1)
            batch_id, _ = self._create(gas, 1, 0)
            calls = [
                self.market.encode_abi("commitResults", [[batch_id], [[keccak(b"output %d" % batch_id)]]]),
                self.market.encode_abi("finalizeBatches", [[before]]),
            ]
            receipt = self.worker.transact(self.market.functions.multicall(calls))
            gas.add("commit + finalize", [receipt], self.floors)
            self._mine()
            if self._selects_none(batch_id):
                break
            before = batch_id  # Selected: it cannot be the next one's finalize either; try on.
            self._mine(601)
            self.keeper.transact(self.market.functions.finalizeBatches([before]))  # Hands its audits over.
            before, _ = self._create(uncounted, 1, 0)
            self._take_commit(uncounted, before, 1)
            while not self._selects_none(before):
                before, _ = self._create(uncounted, 1, 0)
                self._take_commit(uncounted, before, 1)
            self._mine(601)
        self._mine(601)  # The next job's commit would finalize this one; here a keeper does.
        self.keeper.transact(self.market.functions.finalizeBatches([batch_id]))
        return gas

    def _audited_batch(self, gas: PathGas, n: int) -> tuple[int, list[int], dict[int, str]]:
        """A batch with every job audited, drawn, its auditors drawn: its id, its job ids and
        each job's auditor."""
        batch_id, ids = self._create(gas, n, 10_000)
        self._take_commit(gas, batch_id, n)
        self._draw(gas, batch_id)
        return batch_id, ids, self._assign(gas, ids)

    def audited(self, n: int) -> PathGas:
        gas = PathGas("audited", n)
        batch_id, ids, assigned = self._audited_batch(gas, n)
        gas.add("verdict", self._verdicts(ids, assigned, True), self.floors)
        self._mine(601)
        gas.add("finalize", [self.worker.transact(self.market.functions.finalizeBatches([batch_id]))], self.floors)
        gas.add("release", [self.keeper.transact(self.game.functions.resolveTimeouts(ids))], self.floors)
        return gas

    def _verdicts(self, ids: list[int], assigned: dict[int, str], accept: bool) -> list[Any]:
        """Each assigned verifier's verdicts on its jobs, in one transaction per verifier."""
        out = keccak(b"verifier output")
        by_verifier: dict[str, list[int]] = {}
        for j in ids:
            by_verifier.setdefault(assigned[j], []).append(j)
        return [
            self._by_address[v].transact(
                self.game.functions.submitVerdicts(jobs, [accept] * len(jobs), [out] * len(jobs))
            )
            for v, jobs in by_verifier.items()
        ]

    def disputed(self, n: int) -> PathGas:
        gas = PathGas("disputed", n)
        _, ids, assigned = self._audited_batch(gas, n)
        out = keccak(b"verifier output")
        gas.add("reject", self._verdicts(ids, assigned, False), self.floors)
        self._mine()
        panels: dict[int, list[str]] = self._assign(gas, ids, "panel draw")  # type: ignore[assignment]
        votes = []
        batch_id = batch_of(ids[0])
        for j, panel in panels.items():
            if self.game.functions.isForfeited(batch_id).call():
                break  # The first cheat proven forfeits the batch: the other disputes are moot.
            for p in panel[:2]:  # A quorum of the three seats decides.
                votes.append(self._by_address[p].transact(self.game.functions.submitVerdict(j, False, out)))
        gas.add("panel votes", votes, self.floors)
        moot = [j for j in ids if self.game.functions.getAudit(j).call()[0] == AUDIT_DISPUTED]
        if moot:  # Their bonds released, by a keeper.
            gas.add("moot", [self.keeper.transact(self.game.functions.resolveTimeouts(moot))], self.floors)
        return gas

    def expired(self, n: int) -> PathGas:
        gas = PathGas("expired", n)
        batch_id, _ = self._create(gas, n, 0)
        self._take_commit(gas, batch_id, n, commit=False)
        self._mine(601)
        gas.add("expire", [self.keeper.transact(self.market.functions.expireBatches([batch_id]))], self.floors)
        return gas

    def profile_unaudited(self) -> dict[str, TxReceipt]:
        """One batch-1 unaudited job: the receipt of each of its transactions."""
        receipts: dict[str, TxReceipt] = {}
        batch_id, _ = self._create(PathGas("profile", 1), 1, 0, receipts)
        receipts["commit"] = self.worker.transact(
            self.market.functions.commitResults([batch_id], [[keccak(b"profiled output")]])
        )
        self._mine(601)
        receipts["finalize"] = self.worker.transact(self.market.functions.finalizeBatches([batch_id]))
        return receipts

    def staking_steps(self) -> dict[str, int]:
        """Gas of a verifier's stake changes, each of which moves its weight in the draw pool."""
        stake = self.staking.functions.stake
        steps = {
            "stake (a verifier joins)": self.newcomer.transact(stake(VERIFIER, 10**10 * CREDIT_UNIT, "")),
            "stake (a verifier tops up)": self.newcomer.transact(stake(VERIFIER, CREDIT_UNIT, "")),
            "requestExit (a verifier leaves)": self.newcomer.transact(self.staking.functions.requestExit(VERIFIER)),
        }
        return {step: int(receipt["gasUsed"]) for step, receipt in steps.items()}

    def paths(self) -> dict[str, Callable[[int], PathGas]]:
        return {
            "unaudited": self.unaudited,
            "audited": self.audited,
            "disputed": self.disputed,
            "expired": self.expired,
        }


def measure(batches: tuple[int, ...] = (1, 16, 64, 256)) -> dict[str, Any]:
    """Runs every path at every batch size on a fresh anvil: the first job ever (cold), then each
    path in steady state, the worker's withdraw, and a per-call and per-kind profile of one
    batch-1 job."""
    with Anvil() as anvil:
        bench = GasBench(anvil)
        cold = bench.unaudited(1)
        cold.path = "unaudited, first job ever"
        bench.unaudited(1, from_wallet=True)  # The wallet requester's first batch gives it its account id.
        rows = [run(n) for run in bench.paths().values() for n in batches]
        if 1 in batches:
            rows += [
                bench.unaudited(1, from_wallet=True),
                bench.unaudited(1, take_first=True),
                bench.unaudited(1, draw_apart=True),
                bench.unaudited_busy(),
                bench.unaudited_stream(),
            ]
        profile = {step: bench.profile(r) for step, r in bench.profile_unaudited().items()}
        withdraw = bench.worker.transact(bench.market.functions.withdraw())
        staking = bench.staking_steps()
    # The opcode trace on a chain of its own: anvil keeps every transaction's steps in memory
    # once tracing is on (about 11 GB over all the paths above).
    with Anvil(steps_tracing=True) as traced:
        bench = GasBench(traced)
        bench.unaudited(1)  # Steady state: the first job creates the balances.
        by_kind = {
            step: gas_by_kind(bench.w3, r["transactionHash"].to_0x_hex(), int(r["gasUsed"]))
            for step, r in bench.profile_unaudited().items()
        }
    return {
        "rows": [r.as_dict() for r in rows],
        "cold": cold.as_dict(),
        "withdraw_gas": int(withdraw["gasUsed"]),
        "staking_gas": staking,
        "profile_batch1_unaudited": profile,
        "gas_by_kind_batch1_unaudited": by_kind,
    }


def document(tables: list[str]) -> str:
    """`docs/gas.md`: what each table is, and the tables."""
    gas, steps, profile, kinds = tables
    return "\n".join(
        [
            "# Gas",
            "",
            "Generated by `make gas` (`python -m bench.gas --doc docs/gas.md`) on a fresh anvil with the real",
            "contracts; do not edit. How each path is driven is in `bench/gas.py`'s docstring.",
            "",
            "## Gas per job, by path and batch size",
            "",
            "Summed over every party's transactions, in steady state. Floors per job: 21,000 per",
            "transaction, the calldata of the transactions' input, and the cheapest SSTOREs that make",
            "the net storage changes.",
            "",
            gas,
            "",
            "## The unaudited path, step by step",
            "",
            steps,
            "",
            "## One batch-1 unaudited job, call by call",
            "",
            profile,
            "",
            "## One batch-1 unaudited job, by kind of work (anvil's opcode trace)",
            "",
            kinds,
            "",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Gas per job for each lifecycle path.")
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 16, 64, 256])
    parser.add_argument("--json", type=Path, help="also write the result as JSON")
    parser.add_argument("--doc", type=Path, help="also write the tables as a Markdown document")
    args = parser.parse_args(argv)
    result = measure(tuple(args.batches))
    tables = [
        render(result),
        render_steps(result),
        render_profile(result),
        render_kinds(result["gas_by_kind_batch1_unaudited"]),
    ]
    print("\n\n".join(tables))
    if args.doc:
        args.doc.write_text(document(tables))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
