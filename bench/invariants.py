"""A stateful property test of the whole protocol: random interleavings of every external
function, by requesters, an honest worker, a cheating worker, honest verifiers, a lying
verifier and outsiders, with time and blocks moving forward, on a real anvil.

After every step it checks:
- the market's token balance is exactly what it owes: internal balances, fees owed, and the
  escrow of every batch still live;
- no locked collateral or verifier bond exceeds the stake it is taken from;
- no honest party lost credits: no batch of the honest worker was forfeited, and no honest
  verifier was slashed except for missing a deadline;
and at the end of each run that every batch and audit reaches a terminal state by
permissionless calls once time has passed.

`tests/integration/test_invariants.py` runs it briefly in `make test`; `make soak` runs it for
at least 10,000 steps (`bench.soak`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from eth_utils import keccak
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from bench.adversary import Arena, output_of
from bench.books import Reads, market_books
from node.chain.anvil import Anvil
from node.chain.errors import ContractRevertError
from node.chain.protocol import AuditStatus, BatchStatus, batch_of, job_id, result_commitment
from node.chain.tx import TransactionFailedError, TxSender

TERMINAL = {BatchStatus.FINALIZED, BatchStatus.EXPIRED, BatchStatus.CANCELLED, BatchStatus.FORFEITED}
OPEN_AUDITS = {AuditStatus.DRAWING, AuditStatus.ASSIGNED, AuditStatus.DISPUTED}


@dataclass
class Stats:
    steps: int = 0
    violations: list[str] = field(default_factory=list)
    reverted: int = 0  # Of the rules' calls (the end-of-run drain's are not counted).
    sent: int = 0


class ProtocolMachine(RuleBasedStateMachine):
    """Subclassed with `arena` and `stats` set (see `machine`)."""

    arena: Arena
    stats: Stats

    def __init__(self) -> None:
        super().__init__()
        a = self.arena
        self.snapshot = a.w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
        a.inputs.clear()  # Batch ids repeat after the last run's chain was reverted.
        a.committed.clear()
        self.batches: list[int] = []
        self.honest_worker, self.cheater = a.workers[0], a.workers[1]
        self.liar = a.honest[0]  # Votes reject whatever the truth: an adversary, not honest.
        self.honest_verifiers = {v.address for v in a.honest[1:]}
        self.absent: set[str] = set()
        self.from_block = a.w3.eth.block_number + 1
        self.reads = Reads(a.anvil.url)

    def teardown(self) -> None:
        try:
            self._check_terminal()
        finally:
            self.arena.w3.provider.make_request("evm_revert", [self.snapshot])  # type: ignore[arg-type]
            for sender in (*self.arena.tx, *self.arena.extra):
                sender.resync_nonce()

    # ------------------------------------------------------------ helpers

    def _send(self, sender: TxSender, fn: Any, counted: bool = True) -> bool:
        self.stats.sent += counted
        try:
            sender.transact(fn)
            return True
        except (ContractRevertError, TransactionFailedError):
            self.stats.reverted += counted  # Refused with a custom error: a call out of turn.
            return False

    def _batch(self, pick: int) -> int | None:
        return self.batches[pick % len(self.batches)] if self.batches else None

    def _job(self, pick: int) -> int | None:
        batch_id = self._batch(pick)
        if batch_id is None:
            return None
        return job_id(batch_id, (pick // 7) % len(self.arena.inputs[batch_id]))

    def _right(self, job: int) -> bool:
        return batch_of(job) in self.arena.committed and self.arena.is_right(job)

    # ------------------------------------------------------------ rules

    @initialize()
    def some_work(self) -> None:
        """Every run starts with work in flight (Hypothesis switches rules off at random, so a
        run must not depend on one rule to have anything to do): batches of each kind, one
        committed honestly, one with garbage."""
        for size, audited in ((1, False), (2, True), (3, False)):
            self.create(size, audited)
        self.commit(0, honest=True)
        self.commit(1, honest=False)

    @rule(size=st.integers(1, 3), audited=st.booleans())
    def create(self, size: int, audited: bool) -> None:
        batch_id, _ = self.arena.create(size, 10_000 if audited else 0)
        self.batches.append(batch_id)

    @rule(pick=st.integers(0, 10**6), honest=st.booleans())
    def commit(self, pick: int, honest: bool) -> None:
        batch_id = self._batch(pick)
        if batch_id is None:
            return
        worker = self.honest_worker if honest else self.cheater
        payloads = self.arena.inputs[batch_id]
        commitments = [
            result_commitment(worker.address, job_id(batch_id, i), output_of(x))
            if honest
            else keccak(b"garbage %d %d" % (batch_id, i))
            for i, x in enumerate(payloads)
        ]
        if self._send(worker, self.arena.market.functions.commitResults([batch_id], [commitments])):
            self.arena.committed[batch_id] = (worker.address, commitments)

    @rule(pick=st.integers(0, 10**6), honest=st.booleans())
    def take(self, pick: int, honest: bool) -> None:
        if (batch_id := self._batch(pick)) is not None:
            self._send(
                self.honest_worker if honest else self.cheater, self.arena.market.functions.takeBatches([batch_id])
            )

    @rule(pick=st.integers(0, 10**6))
    def cancel(self, pick: int) -> None:
        if (batch_id := self._batch(pick)) is not None:
            m = self.arena.market.functions
            self._send(self.arena.requester, m.requestCancel([batch_id]))
            self._send(self.arena.requester, m.cancelBatches([batch_id]))

    @rule(pick=st.integers(0, 10**6))
    def keeper_batch(self, pick: int) -> None:
        """What anyone may do to a batch: expire it, draw it, finalize it (one of them is due)."""
        if (batch_id := self._batch(pick)) is not None:
            for call in ("expireBatches", "drawAudits", "finalizeBatches"):
                self._send(self.arena.keeper, getattr(self.arena.market.functions, call)([batch_id]))

    @rule(pick=st.integers(0, 10**6))
    def keeper_job(self, pick: int) -> None:
        """What anyone may do to a job's audit: draw its seats, resolve its deadline."""
        if (job := self._job(pick)) is not None:
            for call in ("drawVerifiers", "resolveTimeouts"):
                self._send(self.arena.keeper, getattr(self.arena.game.functions, call)([job]))

    @rule(pick=st.integers(0, 10**6), seat=st.integers(0, 3))
    def verdict(self, pick: int, seat: int) -> None:
        """The auditor, or one panelist, votes: the truth, or reject if it is the liar."""
        job = self._job(pick)
        if job is None:
            return
        audit = self.arena.game.functions.getAudit(job).call()
        voters = [audit[4]] if audit[0] == AuditStatus.ASSIGNED else [p for p in audit[6] if int(p, 16)]
        if not voters:
            return
        voter = voters[seat % len(voters)]
        accept = False if voter == self.liar.address else self._right(job)
        self._send(self.arena.by_address(voter), self.arena.game.functions.submitVerdict(job, accept, b"\x01" * 32))

    @rule(pick=st.integers(0, 10**6), liar=st.booleans())
    def challenge(self, pick: int, liar: bool) -> None:
        job = self._job(pick)
        if job is None or (not liar and self._right(job)):
            return  # An honest verifier challenges only what it found wrong.
        challenger = self.liar if liar else self.arena.honest[1]
        self._send(challenger, self.arena.game.functions.challenge(job, b"\x01" * 32))

    @rule(seconds=st.sampled_from([1, 30, 301, 601, 1_300]), blocks=st.sampled_from([1, 1, 1, 300]))
    def advance(self, seconds: int, blocks: int) -> None:
        self.arena.mine(seconds, blocks)

    @rule(who=st.integers(0, 11))
    def withdraw(self, who: int) -> None:
        sender = self.arena.tx[who]
        if self.arena.market.functions.balanceOf(sender.address).call():
            self._send(sender, self.arena.market.functions.withdraw())

    # ------------------------------------------------------------ checks

    @invariant()
    def books_balance(self) -> None:
        self.stats.steps += 1
        a = self.arena
        # Only workers' payouts owe fees.
        held, owed = market_books(self.reads, a.market, a.credit, [*a.tx, *a.extra], a.workers, self.batches)
        if held != owed:
            self._violation(f"market holds {held}, owes {owed}")

    @invariant()
    def locks_within_stakes(self) -> None:
        a, r = self.arena, self.reads
        staked = [*((w, 0) for w in a.workers), *((v, 1) for v in (*a.honest, *a.extra))]
        for s, role in staked:
            r.add(a.staking, "getStake", s.address, role)
        for (s, role), stake in zip(staked, r.send(), strict=True):
            if stake[1] > stake[0]:
                self._violation(f"{s.address} role {role}: locked {stake[1]} > stake {stake[0]}")

    @invariant()
    def honest_parties_lose_nothing(self) -> None:
        a = self.arena
        head = a.w3.eth.block_number
        if head < self.from_block:
            return
        logs = {
            name: contract.events[name]().get_logs(from_block=self.from_block, to_block=head)
            for contract, name in (
                (a.game, "VerifierAbsent"),
                (a.market, "PartySlashed"),
                (a.market, "BatchForfeited"),
            )
        }
        self.from_block = head + 1
        self.absent |= {e["args"]["verifier"] for e in logs["VerifierAbsent"]}
        for e in logs["BatchForfeited"]:
            if e["args"]["worker"] == self.honest_worker.address:
                self._violation(f"honest worker's batch {e['args']['batchId']} forfeited")
        for e in logs["PartySlashed"]:
            who = e["args"]["account"]
            if who in self.honest_verifiers and who not in self.absent:
                self._violation(f"honest verifier {who} slashed in batch {e['args']['batchId']}")
        self.absent.clear()

    def _check_terminal(self) -> None:
        """Time passes and keepers do what anyone may: every batch and audit must end."""
        a = self.arena
        for _ in range(40):  # Enough for a dispute's three rounds with retried draws.
            a.mine(1_300, 2)  # Past every deadline; a block for pending seeds.
            for batch_id in self.batches:
                for call in ("expireBatches", "drawAudits", "finalizeBatches"):
                    self._send(a.keeper, getattr(a.market.functions, call)([batch_id]), counted=False)
                jobs = [job_id(batch_id, i) for i in range(len(a.inputs[batch_id]))]
                for job in jobs:
                    for call in ("drawVerifiers", "resolveTimeouts"):
                        self._send(a.keeper, getattr(a.game.functions, call)([job]), counted=False)
                self._send(a.requester, a.market.functions.requestCancel([batch_id]), counted=False)
                self._send(a.requester, a.market.functions.cancelBatches([batch_id]), counted=False)
            statuses = [a.view.batch_status(b) for b in self.batches]
            if all(s in TERMINAL for s in statuses):
                break
        stuck = []
        for batch_id in self.batches:
            status = a.view.batch_status(batch_id)
            audits = [a.game.functions.getAudit(job_id(batch_id, i)).call() for i in range(len(a.inputs[batch_id]))]
            open_audits = [
                f"job {i} {AuditStatus(audit[0]).name} {audit}"
                for i, audit in enumerate(audits)
                if AuditStatus(audit[0]) in OPEN_AUDITS or audit[0] == AuditStatus.ACCEPTED  # An accept's bond too.
            ]
            if status not in TERMINAL or open_audits:
                stuck.append(f"batch {batch_id} stuck {status.name} ({self._refusal(batch_id)}): {open_audits}")
        if stuck:
            self._violation("; ".join(stuck))

    def _refusal(self, batch_id: int) -> str:
        """Why a keeper's finalize of the batch is refused now, for the report."""
        try:
            self.arena.keeper.transact(self.arena.market.functions.finalizeBatches([batch_id]))
            return "finalize lands"
        except (ContractRevertError, TransactionFailedError) as e:
            return f"finalize refused: {e}"

    def _violation(self, what: str) -> None:
        self.stats.violations.append(what)
        raise AssertionError(what)


def machine(anvil: Anvil, stats: Stats) -> type[ProtocolMachine]:
    """The machine class bound to a fresh arena on `anvil`."""
    arena = Arena(anvil)
    return type("Protocol", (ProtocolMachine,), {"arena": arena, "stats": stats})
