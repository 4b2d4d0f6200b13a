"""One test per lifecycle path, end to end, checking where every credit went.

Each test ends by withdrawing every internal balance and checking that the market then holds
nothing: no credit is stuck.
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
    WINDOW,
    WORKER,
    BatchStatus,
    JobStatus,
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


def test_honest_unaudited_batch_pays_worker_after_window(
    proto, market, credit, requester, worker, treasury, outsider, verifiers
):
    start = credit.balanceOf(requester)
    worker_start = credit.balanceOf(worker)
    batch_id, _ = proto.create(requester, batch(b"hello", b"world"))
    proto.take(worker, batch_id)
    proto.commit(worker, [batch_id], [[keccak(b"embedding 1"), keccak(b"embedding 2")]])
    proto.after(WINDOW)
    market.finalizeBatches([batch_id], sender=outsider)
    assert market.getBatch(batch_id).status == BatchStatus.FINALIZED
    withdraw_all(market, credit, [requester, worker, treasury, *verifiers])
    assert credit.balanceOf(worker) == worker_start + 2 * (PRICE - PROTOCOL)
    assert credit.balanceOf(requester) == start - 2 * PRICE


def test_audited_job_accepted_pays_worker_and_verifier(proto, market, credit, requester, worker, treasury, verifiers):
    job, address = proto.audited_job(requester, worker)
    auditor = by_address(verifiers, address)
    market.submitVerdict(job, True, keccak(b"embedding"), sender=auditor)
    assert market.jobStatus(job) == JobStatus.FINALIZED
    assert market.balanceOf(worker) == PRICE - PROTOCOL
    assert market.balanceOf(auditor) == FEE
    assert market.balanceOf(treasury) == PROTOCOL
    withdraw_all(market, credit, [requester, worker, treasury, *verifiers])


def test_audited_job_rejected_by_majority_slashes_cheater_and_refunds_requester(
    proto, market, staking, credit, requester, worker, treasury, verifiers
):
    job, address = proto.audited_job(requester, worker)
    auditor = by_address(verifiers, address)
    tx = market.submitVerdict(job, False, OUT, sender=auditor)
    panel = [by_address(verifiers, a) for a in tx.decode_logs(market.DisputeOpened)[0].panel]
    market.submitVerdict(job, False, OUT, sender=panel[0])
    assert market.jobStatus(job) == JobStatus.DISPUTED
    tx = market.submitVerdict(job, False, OUT, sender=panel[1])  # The last vote settles it.
    assert market.DisputeSettled(jobId=job, workerWon=False, acceptVotes=0, rejectVotes=3) in tx.events
    assert market.JobRejected(jobId=job, worker=worker, requester=requester) in tx.events
    assert tx.events.filter(market.PartySlashed) == [
        market.PartySlashed(batchId=job >> 16, account=worker, role=WORKER, amount=COLLATERAL)
    ]
    assert market.jobStatus(job) == JobStatus.REJECTED
    share = COLLATERAL * 3 // 10 // 3
    assert market.balanceOf(requester) == PRICE + FEE + COLLATERAL // 2  # Refund, premium, half the slash.
    for v in (auditor, *panel):
        assert market.balanceOf(v) == share
        assert staking.getStake(v, VERIFIER).locked == 0
    assert market.balanceOf(treasury) == COLLATERAL - COLLATERAL // 2 - 3 * share
    assert staking.getStake(worker, WORKER).amount == 1_000 * CREDIT - COLLATERAL
    withdraw_all(market, credit, [requester, worker, treasury, *verifiers])


def test_malicious_verifier_outvoted_is_slashed_and_worker_paid(
    proto, market, staking, credit, requester, worker, treasury, verifiers
):
    job, address = proto.audited_job(requester, worker)
    liar = by_address(verifiers, address)
    tx = market.submitVerdict(job, False, OUT, sender=liar)
    panel = [by_address(verifiers, a) for a in tx.decode_logs(market.DisputeOpened)[0].panel]
    market.submitVerdict(job, True, OUT, sender=panel[0])
    tx = market.submitVerdict(job, True, OUT, sender=panel[1])
    assert market.DisputeSettled(jobId=job, workerWon=True, acceptVotes=2, rejectVotes=1) in tx.events
    assert market.PartySlashed(batchId=job >> 16, account=liar, role=VERIFIER, amount=COLLATERAL) in tx.events
    assert market.jobStatus(job) == JobStatus.FINALIZED
    assert market.balanceOf(worker) == PRICE - PROTOCOL + COLLATERAL // 2
    for v in panel:
        assert market.balanceOf(v) == FEE // 2 + COLLATERAL * 3 // 10 // 2
    assert market.balanceOf(liar) == 0
    assert staking.getStake(liar, VERIFIER).amount == 1_000 * CREDIT - COLLATERAL
    withdraw_all(market, credit, [requester, worker, treasury, *verifiers])


def test_unaudited_job_challenged_by_auditor_slashes_cheater(
    proto, market, staking, credit, requester, worker, treasury, verifiers, outsider
):
    batch_id = proto.drawn_batch(requester, worker, b"honest", b"forged")
    auditor = verifiers[0]
    job = job_id(batch_id, 1)
    tx = market.challenge(job, OUT, sender=auditor)
    panel = [by_address(verifiers, a) for a in tx.decode_logs(market.DisputeOpened)[0].panel]
    for member in panel:
        tx = market.submitVerdict(job, False, OUT, sender=member)
    assert market.DisputeSettled(jobId=job, workerWon=False, acceptVotes=0, rejectVotes=3) in tx.events
    assert market.jobStatus(job) == JobStatus.REJECTED
    assert market.balanceOf(requester) == PRICE + COLLATERAL // 2
    assert market.balanceOf(auditor) == COLLATERAL * 3 // 10 // 3
    assert staking.getStake(auditor, VERIFIER).locked == 0
    # The honest job in the same batch is still paid when the batch finalizes.
    proto.after(WINDOW)
    tx = market.finalizeBatches([batch_id], sender=outsider)
    assert market.BatchFinalized(batchId=batch_id, worker=worker, paidJobs=1) in tx.events
    assert staking.getStake(worker, WORKER).locked == 0
    withdraw_all(market, credit, [requester, worker, treasury, *verifiers])


def test_worker_timeout_refunds_requester(proto, market, credit, requester, worker, treasury, outsider, verifiers):
    start = credit.balanceOf(requester)
    batch_id, _ = proto.create(requester)
    proto.take(worker, batch_id)
    proto.after(TIMEOUT)
    market.expireBatches([batch_id], sender=outsider)
    assert market.jobStatus(job_id(batch_id)) == JobStatus.EXPIRED
    withdraw_all(market, credit, [requester, worker, treasury, outsider, *verifiers])
    assert credit.balanceOf(requester) == start + COLLATERAL // 2  # Whole payment back, plus half the slash.


def test_verifier_timeout_replaces_verifier_who_then_decides(
    proto, market, credit, requester, worker, treasury, outsider, verifiers
):
    job, address = proto.audited_job(requester, worker)
    late = by_address(verifiers, address)
    proto.after(VERDICT_WINDOW)
    tx = market.replaceVerifier(job, sender=outsider)
    replacement = by_address(verifiers, tx.decode_logs(market.VerifierReplaced)[0].replacement)
    with ape.reverts(market.JobMarketNotAssigned, jobId=job, caller=late):
        market.submitVerdict(job, True, OUT, sender=late)
    market.submitVerdict(job, True, OUT, sender=replacement)
    assert market.jobStatus(job) == JobStatus.FINALIZED
    assert market.balanceOf(replacement) == FEE
    assert market.balanceOf(late) == 0
    withdraw_all(market, credit, [requester, worker, treasury, outsider, *verifiers])


def test_exit_blocked_by_locked_collateral_until_batch_settles(
    proto, market, staking, credit, requester, worker, outsider
):
    batch_id, _ = proto.create(requester, batch(b"a", b"b"))
    proto.take(worker, batch_id)
    proto.commit(worker, [batch_id])
    staking.requestExit(WORKER, sender=worker)
    proto.after(UNBONDING)
    with ape.reverts(staking.StakingStakeLocked, account=worker, role=WORKER, locked=2 * COLLATERAL):
        staking.withdrawStake(WORKER, sender=worker)
    market.finalizeBatches([batch_id], sender=outsider)
    before = credit.balanceOf(worker)
    staking.withdrawStake(WORKER, sender=worker)
    assert credit.balanceOf(worker) == before + 1_000 * CREDIT


def test_batches_of_64_created_committed_and_finalized_together(
    proto, market, staking, credit, requester, worker, treasury, outsider, verifiers
):
    requests = [batch(*[b"sentence %d %d" % (b, i) for i in range(64)]) for b in range(3)]
    first, _ = proto.create(requester, *requests)
    ids = [first, first + 1, first + 2]
    proto.take(worker, *ids)
    assert staking.getStake(worker, WORKER).locked == 3 * 64 * COLLATERAL
    proto.commit(worker, ids)
    proto.after(WINDOW)
    tx = market.finalizeBatches(ids, sender=outsider)
    assert [(e.batchId, e.paidJobs) for e in tx.decode_logs(market.BatchFinalized)] == [(b, 64) for b in ids]
    assert market.lockedOf(worker, WORKER) == 0
    assert market.balanceOf(worker) == 3 * 64 * (PRICE - PROTOCOL)
    withdraw_all(market, credit, [requester, worker, treasury, *verifiers])


def test_mixed_batch_settles_audited_jobs_one_by_one_and_the_rest_together(
    proto, market, credit, chain, requester, worker, treasury, outsider, verifiers
):
    batch_id, _ = proto.create(requester, batch(*[b"job %d" % i for i in range(16)], audit_bps=3_000))
    proto.take(worker, batch_id)
    proto.commit(worker, [batch_id])
    chain.mine(1)
    tx = market.drawAudits([batch_id], sender=outsider)
    audits = [(e.jobId, by_address(verifiers, e.verifier)) for e in tx.decode_logs(market.AuditAssigned)]
    for job, auditor in audits:
        market.submitVerdict(job, True, OUT, sender=auditor)
    proto.after(WINDOW)
    tx = market.finalizeBatches([batch_id], sender=outsider)
    assert market.BatchFinalized(batchId=batch_id, paidJobs=16 - len(audits)) in tx.events
    assert market.balanceOf(worker) == 16 * (PRICE - PROTOCOL)
    assert market.balanceOf(requester) == (16 - len(audits)) * FEE  # Premiums of jobs never audited.
    withdraw_all(market, credit, [requester, worker, treasury, *verifiers])


def test_open_batch_escrow_is_accounted_until_cancelled(proto, market, credit, requester, treasury):
    first, _ = proto.create(requester, batch(b"a"), batch(b"b", audit_bps=10_000))
    withdraw_all(market, credit, [requester, treasury], escrowed=2 * PRICE + FEE)
    market.cancelBatches([first, first + 1], sender=requester)
    withdraw_all(market, credit, [requester, treasury])
