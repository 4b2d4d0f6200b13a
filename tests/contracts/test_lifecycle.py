"""One test per lifecycle path, end to end, checking where every credit went.

Each test ends by withdrawing every internal balance and checking that the market then holds
nothing but the escrow of batches still open: no credit is stuck, none is made up.
"""

import ape
from eth_utils import keccak

from .helpers import (
    COLLATERAL,
    CREDIT,
    FEE,
    PRICE,
    PROTOCOL,
    TIMEOUT,
    UNBONDING,
    VERDICT_WINDOW,
    VERIFIER,
    VERIFIER_STAKE,
    WINDOW,
    WORKER,
    BatchStatus,
    Vote,
    batch,
    by_address,
    job_id,
)

OUT = keccak(b"verifier output")


def withdraw_all(market, credit, accounts, escrowed=0):
    """The fees workers owe are collected, then everyone withdraws; the market must be left
    with exactly `escrowed`."""
    market.collectFees(accounts, sender=accounts[0])
    for account in accounts:
        if market.balanceOf(account):
            market.withdraw(sender=account)
    assert credit.balanceOf(market) == escrowed


def _panel(proto, verifiers, job, caller):
    return [by_address(verifiers, a) for a in proto.dispute_panel(job, caller)]


def test_honest_unaudited_batch_pays_worker_after_window(
    proto, market, credit, requester, worker, treasury, outsider, verifiers
):
    first = market.nextBatchId()
    batch_id = proto.unaudited_batch(requester, worker, b"hello", b"world")
    proto.after(WINDOW)
    market.finalizeBatches([batch_id], sender=outsider)
    assert market.getBatch(batch_id).status == BatchStatus.FINALIZED
    assert market.balanceOf(worker) == 2 * (PRICE - PROTOCOL)
    assert market.feesOwed(worker) == 2 * PROTOCOL
    # The tries `unaudited_batch` made before are still escrowed: the market keeps exactly those.
    tries = batch_id - first
    withdraw_all(market, credit, [requester, worker, treasury, *verifiers], escrowed=tries * 2 * PRICE)


def test_audited_job_accepted_pays_worker_verifier_and_treasury(
    proto, market, game, credit, requester, worker, treasury, verifiers, outsider
):
    job, address = proto.audited_job(requester, worker)
    auditor = by_address(verifiers, address)
    game.submitVerdict(job, True, keccak(b"embedding"), sender=auditor)
    proto.after(WINDOW)
    market.finalizeBatches([job >> 16], sender=outsider)
    game.resolveTimeouts([job], sender=auditor)  # Its bond, free once the accept stood.
    assert market.balanceOf(worker) == PRICE - PROTOCOL
    assert market.balanceOf(auditor) == FEE
    withdraw_all(market, credit, [requester, worker, treasury, *verifiers])
    assert game.bondedOf(auditor) == 0


def test_audited_job_rejected_by_the_panel_forfeits_the_batch_and_refunds_the_requester(
    proto, market, game, staking, credit, requester, worker, treasury, verifiers, outsider
):
    start = credit.balanceOf(requester)
    job, address = proto.audited_job(requester, worker)
    auditor = by_address(verifiers, address)
    game.submitVerdict(job, False, OUT, sender=auditor)
    panel = _panel(proto, verifiers, job, outsider)
    game.submitVerdict(job, False, OUT, sender=panel[0])
    game.submitVerdict(job, False, OUT, sender=panel[1])
    assert market.getBatch(job >> 16).status == BatchStatus.FORFEITED
    assert staking.getStake(worker, WORKER).amount == 1_000 * CREDIT - COLLATERAL
    withdraw_all(market, credit, [requester, worker, treasury, *verifiers])
    assert credit.balanceOf(requester) == start + COLLATERAL // 2  # Everything back, and half the slash.
    assert staking.getStake(auditor, VERIFIER).locked == 0


def test_malicious_auditor_is_outvoted_slashed_and_the_worker_paid(
    proto, market, game, staking, credit, requester, worker, treasury, verifiers, outsider
):
    job, address = proto.audited_job(requester, worker)
    liar = by_address(verifiers, address)
    game.submitVerdict(job, False, OUT, sender=liar)
    panel = _panel(proto, verifiers, job, outsider)
    game.submitVerdict(job, True, OUT, sender=panel[0])
    game.submitVerdict(job, True, OUT, sender=panel[1])
    proto.after(WINDOW)
    market.finalizeBatches([job >> 16], sender=outsider)
    assert market.balanceOf(worker) == PRICE - PROTOCOL + COLLATERAL // 2
    assert staking.getStake(liar, VERIFIER).amount == VERIFIER_STAKE - COLLATERAL
    withdraw_all(market, credit, [requester, worker, treasury, *verifiers])


def test_a_cheat_caught_by_challenge_forfeits_the_whole_batch(
    proto, market, game, staking, credit, requester, worker, treasury, verifiers, outsider
):
    """Finding 6: the batch's other jobs, which nobody checked, are not paid either."""
    start = credit.balanceOf(requester)
    first = market.nextBatchId()
    batch_id = proto.drawn_batch(requester, worker, b"honest", b"forged", b"also forged")
    tries = batch_id - first  # Batches `drawn_batch` committed before this one, still escrowed.
    challenger = verifiers[0]
    job = job_id(batch_id, 1)
    game.challenge(job, OUT, sender=challenger)
    assert market.getBatch(batch_id).status == BatchStatus.AUDITED
    panel = _panel(proto, verifiers, job, outsider)
    game.submitVerdict(job, False, OUT, sender=panel[0])
    tx = game.submitVerdict(job, False, OUT, sender=panel[1])
    assert (
        market.BatchForfeited(batchId=batch_id, worker=worker, requester=requester, slashed=3 * COLLATERAL) in tx.events
    )
    proto.after(WINDOW)
    with ape.reverts(market.JobMarketInvalidBatchStatus, batchId=batch_id, status=BatchStatus.FORFEITED):
        market.finalizeBatches([batch_id], sender=outsider)
    withdraw_all(market, credit, [requester, worker, treasury, *verifiers], escrowed=tries * 3 * PRICE)
    assert credit.balanceOf(requester) == start - tries * 3 * PRICE + 3 * COLLATERAL // 2


def test_a_vote_mined_after_another_dispute_forfeited_the_batch_is_skipped(
    proto, market, game, staking, credit, requester, worker, treasury, verifiers, outsider
):
    """Two jobs of one batch disputed at once: the first panel to reach its quorum forfeits the
    batch, and a vote of the second panel mined after it (it could not have known) changes
    nothing instead of reverting; the bonds come back when the audit is mooted."""
    first = market.nextBatchId()
    batch_id = proto.drawn_batch(requester, worker, b"honest", b"forged", b"also forged")
    tries = batch_id - first
    decided, moot = job_id(batch_id, 1), job_id(batch_id, 2)
    game.challenge(decided, OUT, sender=verifiers[0])
    game.challenge(moot, OUT, sender=verifiers[1])
    panels = {job: _panel(proto, verifiers, job, outsider) for job in (decided, moot)}
    game.submitVerdict(decided, False, OUT, sender=panels[decided][0])
    game.submitVerdict(decided, False, OUT, sender=panels[decided][1])
    assert market.getBatch(batch_id).status == BatchStatus.FORFEITED
    late = panels[moot][0]
    stake = staking.getStake(late, VERIFIER)
    tx = game.submitVerdict(moot, True, OUT, sender=late)
    assert not tx.decode_logs(game.VerdictSubmitted) and game.voteOf(moot, late) == Vote.NONE
    assert staking.getStake(late, VERIFIER) == stake
    tx = game.resolveTimeouts([moot], sender=outsider)
    assert [e.jobId for e in tx.decode_logs(game.AuditMooted)] == [moot]
    for v in verifiers:
        assert staking.getStake(v, VERIFIER).locked == 0
    withdraw_all(market, credit, [requester, worker, treasury, *verifiers], escrowed=tries * 3 * PRICE)


def test_worker_timeout_refunds_requester(proto, market, credit, requester, worker, treasury, outsider, verifiers):
    start = credit.balanceOf(requester)
    batch_id, _ = proto.create(requester)
    proto.take(worker, batch_id)
    proto.after(TIMEOUT)
    market.expireBatches([batch_id], sender=outsider)
    assert market.getBatch(batch_id).status == BatchStatus.EXPIRED
    withdraw_all(market, credit, [requester, worker, treasury, outsider, *verifiers])
    assert credit.balanceOf(requester) == start + COLLATERAL // 2  # Whole payment back, plus half the slash.


def test_absent_auditor_is_slashed_and_replaced_by_one_who_then_decides(
    proto, market, game, staking, credit, requester, worker, treasury, outsider, verifiers
):
    job, address = proto.audited_job(requester, worker)
    late = by_address(verifiers, address)
    proto.after(VERDICT_WINDOW)
    game.resolveTimeouts([job], sender=outsider)
    proto.chain.mine(1)
    (assigned,) = game.drawVerifiers([job], sender=outsider).decode_logs(game.AuditAssigned)
    replacement = by_address(verifiers, assigned.verifier)
    game.submitVerdict(job, True, OUT, sender=replacement)
    proto.after(WINDOW)
    market.finalizeBatches([job >> 16], sender=outsider)
    assert market.balanceOf(replacement) == FEE
    assert staking.getStake(late, VERIFIER).amount == VERIFIER_STAKE - COLLATERAL
    # The worker, whose pay the absence delayed, gets the cheated share of the penalty.
    assert market.balanceOf(worker) == PRICE - PROTOCOL + COLLATERAL // 2
    withdraw_all(market, credit, [requester, worker, treasury, outsider, *verifiers])


def test_exit_blocked_by_locked_collateral_until_batch_settles(
    proto, market, staking, credit, requester, worker, outsider
):
    batch_id, _ = proto.create(requester, batch(b"a", b"b"))
    proto.take(worker, batch_id)
    staking.requestExit(WORKER, sender=worker)
    proto.after(UNBONDING)
    with ape.reverts(staking.StakingStakeLocked, account=worker, role=WORKER, locked=2 * COLLATERAL):
        staking.withdrawStake(WORKER, sender=worker)
    market.expireBatches([batch_id], sender=outsider)  # Settled (by its timeout): nothing is locked.
    before = credit.balanceOf(worker)
    staking.withdrawStake(WORKER, sender=worker)
    assert credit.balanceOf(worker) == before + 1_000 * CREDIT - 2 * COLLATERAL


def test_batches_of_16_fully_audited_are_paid_once_every_audit_is_accepted(
    proto, market, game, credit, requester, worker, treasury, outsider, verifiers
):
    jobs_per_batch = [b"s %d" % i for i in range(16)]
    ids = [proto.committed_batch(requester, worker, *jobs_per_batch, audit_bps=10_000) for _ in range(2)]
    market.drawAudits(ids, sender=outsider)
    jobs = [job_id(b, i) for b in ids for i in range(16)]
    tx = game.drawVerifiers(jobs, sender=outsider)
    audits = [(e.jobId, by_address(verifiers, e.verifier)) for e in tx.decode_logs(game.AuditAssigned)]
    assert len(audits) == 32
    for job, auditor in audits:
        game.submitVerdict(job, True, OUT, sender=auditor)
    proto.after(WINDOW)
    tx = market.finalizeBatches(ids, sender=outsider)
    assert [(e.batchId, e.paidJobs) for e in tx.decode_logs(market.BatchFinalized)] == [(b, 16) for b in ids]
    assert market.balanceOf(worker) == 2 * 16 * (PRICE - PROTOCOL)
    for job, _ in audits:
        game.resolveTimeouts([job], sender=outsider)
    withdraw_all(market, credit, [requester, worker, treasury, *verifiers])


def test_mixed_batch_pays_every_job_once_its_audits_are_accepted(
    proto, market, game, credit, chain, requester, worker, treasury, outsider, verifiers
):
    batch_id, _ = proto.create(requester, batch(*[b"job %d" % i for i in range(16)], audit_bps=3_000))
    proto.take(worker, batch_id)
    proto.commit(worker, [batch_id])
    chain.mine(1)
    tx = market.drawAudits([batch_id], sender=outsider)
    selected = tx.decode_logs(game.AuditsDrawn)[0].jobIds if tx.decode_logs(game.AuditsDrawn) else []
    audits = []
    if selected:
        tx = game.drawVerifiers(selected, sender=outsider)
        audits = [(e.jobId, by_address(verifiers, e.verifier)) for e in tx.decode_logs(game.AuditAssigned)]
    for job, auditor in audits:
        game.submitVerdict(job, True, OUT, sender=auditor)
    proto.after(WINDOW)
    tx = market.finalizeBatches([batch_id], sender=outsider)
    assert market.BatchFinalized(batchId=batch_id, paidJobs=16) in tx.events
    for job, auditor in audits:
        game.resolveTimeouts([job], sender=auditor)
    assert market.balanceOf(worker) == 16 * (PRICE - PROTOCOL)
    assert market.balanceOf(requester) == (16 - len(audits)) * FEE  # Premiums of jobs never audited.
    withdraw_all(market, credit, [requester, worker, treasury, *verifiers])
    assert all(game.bondedOf(v) == 0 for v in verifiers)


def test_open_batch_escrow_is_accounted_until_cancelled(proto, market, credit, requester, treasury):
    first, _ = proto.create(requester, batch(b"a"), batch(b"b", audit_bps=10_000))
    withdraw_all(market, credit, [requester, treasury], escrowed=2 * PRICE + FEE)
    market.requestCancel([first, first + 1], sender=requester)
    proto.after(TIMEOUT)
    market.cancelBatches([first, first + 1], sender=requester)
    withdraw_all(market, credit, [requester, treasury])
