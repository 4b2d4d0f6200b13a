"""submitVerdict(s), challenge, replaceVerifier and settleDispute: per-job verification."""

import ape
from eth_utils import keccak

from .helpers import (
    COLLATERAL,
    CREDIT,
    FEE,
    PRICE,
    PROTOCOL,
    VERDICT_WINDOW,
    VERIFIER,
    WINDOW,
    WORKER,
    AuditStatus,
    JobStatus,
    Reason,
    batch,
    by_address,
    job_id,
)

OUT = keccak(b"verifier output")


def _audited(proto, requester, worker, verifiers):
    job, address = proto.audited_job(requester, worker)
    return job, by_address(verifiers, address)


def _reject(market, job, auditor, verifiers):
    """The auditor rejects; returns the drawn panel as accounts, and the transaction."""
    tx = market.submitVerdict(job, False, OUT, sender=auditor)
    (opened,) = tx.decode_logs(market.DisputeOpened)
    return [by_address(verifiers, a) for a in opened.panel], tx


# -------------------------------------------------------------- submitVerdict


def test_submit_verdict_accept_pays_worker_verifier_and_treasury(
    proto, market, staking, requester, worker, verifiers, treasury
):
    job, auditor = _audited(proto, requester, worker, verifiers)
    batch_id = job >> 16
    tx = market.submitVerdict(job, True, OUT, sender=auditor)
    assert tx.events.filter(market.VerdictSubmitted) == [
        market.VerdictSubmitted(jobId=job, verifier=auditor, accepted=True, outputHash=OUT)
    ]
    # The requester paid the premium (audit rate above base), so the fee does not come from the price.
    assert tx.events.filter(market.JobFinalized) == [
        market.JobFinalized(jobId=job, worker=worker, workerPayment=PRICE - PROTOCOL)
    ]
    assert tx.events.filter(market.Credited) == [
        market.Credited(account=worker, batchId=batch_id, amount=PRICE - PROTOCOL, reason=Reason.WORKER_PAYMENT),
        market.Credited(account=treasury, batchId=batch_id, amount=PROTOCOL, reason=Reason.PROTOCOL_FEE),
        market.Credited(account=auditor, batchId=batch_id, amount=FEE, reason=Reason.VERIFIER_FEE),
    ]
    assert market.getAudit(job).status == AuditStatus.ACCEPTED
    assert market.jobStatus(job) == JobStatus.FINALIZED
    assert staking.getStake(auditor, VERIFIER).locked == 0
    assert staking.getStake(worker, WORKER).locked == 0


def test_submit_verdict_accept_takes_fee_from_price_at_base_rate(
    deploy_market, credit, requester, worker, verifiers, funded, chain
):
    stk, mkt = deploy_market(baseAuditBps=10_000)
    for account in (requester, worker, verifiers[0]):
        credit.approve(mkt, 2**256 - 1, sender=account)
        credit.approve(stk, 2**256 - 1, sender=account)
    stk.stake(WORKER, 500 * CREDIT, "http://127.0.0.1:9001", sender=worker)
    stk.stake(VERIFIER, 500 * CREDIT, "", sender=verifiers[0])
    tx = mkt.createBatches([batch()], sender=requester)
    batch_id = tx.decode_logs(mkt.BatchCreated)[0].batchId
    mkt.takeBatches([batch_id], sender=worker)
    mkt.commitResults([batch_id], [[keccak(b"out")]], sender=worker)
    chain.mine(1)
    mkt.drawAudits([batch_id], sender=worker)
    tx = mkt.submitVerdict(job_id(batch_id), True, OUT, sender=verifiers[0])
    assert mkt.JobFinalized(jobId=job_id(batch_id), worker=worker, workerPayment=PRICE - PROTOCOL - FEE) in tx.events
    assert mkt.balanceOf(verifiers[0]) == FEE
    assert credit.balanceOf(mkt) == PRICE  # No premium was escrowed.


def test_submit_verdict_reject_opens_dispute_with_fresh_panel(proto, market, staking, requester, worker, verifiers):
    job, auditor = _audited(proto, requester, worker, verifiers)
    panel, tx = _reject(market, job, auditor, verifiers)
    assert len(panel) == 2
    assert len({p.address for p in panel} | {auditor.address, worker.address}) == 4
    (opened,) = tx.decode_logs(market.DisputeOpened)
    assert (opened.accuser, opened.challenge) == (auditor.address, False)
    audit = market.getAudit(job)
    assert (audit.status, audit.deadline) == (AuditStatus.DISPUTED, opened.deadline)
    assert market.jobStatus(job) == JobStatus.DISPUTED
    assert list(market.jobVerifiers(job)) == [auditor.address, *(p.address for p in panel)]
    assert market.voteOf(job, auditor) == 2  # Reject
    for member in panel:
        assert staking.getStake(member, VERIFIER).locked == COLLATERAL


def test_submit_verdict_reverts_if_not_assigned(proto, market, requester, worker, verifiers):
    job, auditor = _audited(proto, requester, worker, verifiers)
    other = next(v for v in verifiers if v != auditor)
    with ape.reverts(market.JobMarketNotAssigned, jobId=job, caller=other):
        market.submitVerdict(job, True, OUT, sender=other)


def test_submit_verdict_reverts_if_accuser_votes_again_in_dispute(proto, market, requester, worker, verifiers):
    job, auditor = _audited(proto, requester, worker, verifiers)
    _reject(market, job, auditor, verifiers)
    with ape.reverts(market.JobMarketNotAssigned, jobId=job, caller=auditor):
        market.submitVerdict(job, True, OUT, sender=auditor)


def test_submit_verdict_reverts_if_panel_member_votes_twice(proto, market, requester, worker, verifiers):
    job, auditor = _audited(proto, requester, worker, verifiers)
    panel, _ = _reject(market, job, auditor, verifiers)
    market.submitVerdict(job, True, OUT, sender=panel[0])
    with ape.reverts(market.JobMarketAlreadyVoted, jobId=job, verifier=panel[0]):
        market.submitVerdict(job, False, OUT, sender=panel[0])


def test_submit_verdict_reverts_if_deadline_passed(proto, market, requester, worker, verifiers):
    job, auditor = _audited(proto, requester, worker, verifiers)
    deadline = market.getAudit(job).deadline
    proto.after(VERDICT_WINDOW)
    with ape.reverts(market.JobMarketDeadlinePassed, id=job, deadline=deadline):
        market.submitVerdict(job, True, OUT, sender=auditor)


def test_submit_verdict_reverts_if_not_under_audit(proto, market, requester, worker, verifiers):
    batch_id = proto.committed_batch(requester, worker, audit_bps=10_000)
    with ape.reverts(market.JobMarketInvalidJobStatus, jobId=job_id(batch_id), status=JobStatus.COMMITTED):
        market.submitVerdict(job_id(batch_id), True, OUT, sender=verifiers[0])


# -------------------------------------------------------------- submitVerdicts


def _many_audited(proto, market, requester, worker, verifiers):
    """Six jobs, all audited by five verifiers: returns one verifier with two jobs or more, and them."""
    batch_id = proto.committed_batch(requester, worker, *[b"job %d" % i for i in range(6)], audit_bps=10_000)
    assigned = market.drawAudits([batch_id], sender=worker).decode_logs(market.AuditAssigned)
    auditor = max({a.verifier for a in assigned}, key=lambda v: sum(a.verifier == v for a in assigned))
    return by_address(verifiers, auditor), [a.jobId for a in assigned if a.verifier == auditor]


def test_submit_verdicts_votes_on_each_job_in_order(proto, market, requester, worker, verifiers):
    auditor, jobs = _many_audited(proto, market, requester, worker, verifiers)
    accepts = [True] * (len(jobs) - 1) + [False]
    tx = market.submitVerdicts(jobs, accepts, [OUT] * len(jobs), sender=auditor)
    assert tx.events.filter(market.VerdictSubmitted) == [
        market.VerdictSubmitted(jobId=j, verifier=auditor, accepted=a, outputHash=OUT)
        for j, a in zip(jobs, accepts, strict=True)
    ]
    assert [e.jobId for e in tx.events.filter(market.JobFinalized)] == jobs[:-1]
    assert [e.jobId for e in tx.events.filter(market.DisputeOpened)] == jobs[-1:]
    assert [market.getAudit(j).status for j in jobs] == [AuditStatus.ACCEPTED] * (len(jobs) - 1) + [
        AuditStatus.DISPUTED
    ]


def test_submit_verdicts_reverts_all_if_one_vote_is_refused(proto, market, requester, worker, verifiers):
    auditor, jobs = _many_audited(proto, market, requester, worker, verifiers)
    stranger = proto.committed_batch(requester, worker, audit_bps=10_000)
    with ape.reverts(market.JobMarketInvalidJobStatus, jobId=job_id(stranger), status=JobStatus.COMMITTED):
        market.submitVerdicts(
            [*jobs, job_id(stranger)], [True] * (len(jobs) + 1), [OUT] * (len(jobs) + 1), sender=auditor
        )
    assert [market.getAudit(j).status for j in jobs] == [AuditStatus.ASSIGNED] * len(jobs)


def test_submit_verdicts_reverts_if_lengths_differ_or_empty(proto, market, requester, worker, verifiers):
    auditor, jobs = _many_audited(proto, market, requester, worker, verifiers)
    with ape.reverts(market.JobMarketLengthMismatch, batchId=0, expected=len(jobs), actual=1):
        market.submitVerdicts(jobs, [True], [OUT] * len(jobs), sender=auditor)
    with ape.reverts(market.JobMarketLengthMismatch, batchId=0, expected=len(jobs), actual=0):
        market.submitVerdicts(jobs, [True] * len(jobs), [], sender=auditor)
    with ape.reverts(market.JobMarketInvalidBatchSize, index=0, size=0):
        market.submitVerdicts([], [], [], sender=auditor)


# -------------------------------------------------------------- settleDispute


def test_settle_dispute_after_deadline_counts_votes_cast_and_tie_favours_worker(
    proto, market, staking, requester, worker, verifiers, outsider
):
    job, auditor = _audited(proto, requester, worker, verifiers)
    panel, _ = _reject(market, job, auditor, verifiers)
    market.submitVerdict(job, True, OUT, sender=panel[0])  # panel[1] stays silent: 1 accept, 1 reject.
    deadline = market.getAudit(job).deadline
    with ape.reverts(market.JobMarketDeadlineNotReached, id=job, deadline=deadline):
        market.settleDispute(job, sender=outsider)
    proto.after(VERDICT_WINDOW)
    tx = market.settleDispute(job, sender=outsider)
    assert market.DisputeSettled(jobId=job, workerWon=True, acceptVotes=1, rejectVotes=1) in tx.events
    assert tx.events.filter(market.PartySlashed) == [
        market.PartySlashed(batchId=job >> 16, account=auditor, role=VERIFIER, amount=COLLATERAL)
    ]
    assert market.jobStatus(job) == JobStatus.FINALIZED
    # The falsely accused worker gets half the auditor's bond on top of its pay; the right
    # panel member gets the whole verifier fee and the verifiers' 30%; the silent one nothing.
    assert market.balanceOf(worker) == PRICE - PROTOCOL + COLLATERAL // 2
    assert market.balanceOf(panel[0]) == FEE + COLLATERAL * 3 // 10
    assert market.balanceOf(panel[1]) == 0
    assert staking.getStake(panel[1], VERIFIER).locked == 0
    assert staking.getStake(auditor, VERIFIER).amount == 1_000 * CREDIT - COLLATERAL


def test_settle_dispute_reverts_if_not_disputed(proto, market, requester, worker, verifiers, outsider):
    job, _ = _audited(proto, requester, worker, verifiers)
    with ape.reverts(market.JobMarketInvalidJobStatus, jobId=job, status=JobStatus.AUDITED):
        market.settleDispute(job, sender=outsider)


# ------------------------------------------------------------------ challenge


def test_challenge_opens_dispute_and_removes_job_from_batch_payout(
    proto, market, staking, requester, worker, verifiers
):
    batch_id = proto.drawn_batch(requester, worker, b"a", b"b")
    auditor = verifiers[0]
    job = job_id(batch_id, 1)
    tx = market.challenge(job, OUT, sender=auditor)
    assert market.VerdictSubmitted(jobId=job, verifier=auditor, accepted=False, outputHash=OUT) in tx.events
    (opened,) = tx.decode_logs(market.DisputeOpened)
    assert (opened.accuser, opened.challenge, len(opened.panel)) == (auditor.address, True, 2)
    assert auditor.address not in opened.panel
    assert market.jobStatus(job) == JobStatus.DISPUTED
    assert market.auditedJobs(batch_id) == 1
    assert staking.getStake(auditor, VERIFIER).locked == COLLATERAL


def test_challenge_reverts_if_challenger_is_worker(proto, market, staking, requester, worker):
    staking.stake(VERIFIER, 500 * CREDIT, "", sender=worker)
    batch_id = proto.drawn_batch(requester, worker)
    with ape.reverts(market.JobMarketSelfVerification, jobId=job_id(batch_id), account=worker):
        market.challenge(job_id(batch_id), OUT, sender=worker)


def test_challenge_reverts_if_not_a_verifier(proto, market, requester, worker, outsider):
    batch_id = proto.drawn_batch(requester, worker)
    with ape.reverts(market.JobMarketNotRegistered, account=outsider, role=VERIFIER):
        market.challenge(job_id(batch_id), OUT, sender=outsider)


def test_challenge_reverts_if_free_stake_insufficient(proto, market, staking, requester, worker, verifiers):
    staking.stake(WORKER, 1_000 * CREDIT, "", sender=worker)  # Room for 2 x 600 of collateral.
    price = 300 * CREDIT
    batch_id, _ = proto.create(requester, batch(b"a", b"b", price=price))
    proto.take(worker, batch_id)
    proto.commit(worker, [batch_id])
    proto.chain.mine(1)
    market.drawAudits([batch_id], sender=worker)
    bond = market.collateralFor(price)
    challenger = verifiers[0]
    market.challenge(job_id(batch_id, 0), OUT, sender=challenger)
    assert market.lockedOf(challenger, VERIFIER) == bond
    free = 1_000 * CREDIT - bond
    with ape.reverts(
        market.JobMarketInsufficientFreeStake, account=challenger, role=VERIFIER, required=bond, available=free
    ):
        market.challenge(job_id(batch_id, 1), OUT, sender=challenger)


def test_challenge_reverts_if_window_closed(proto, market, requester, worker, verifiers):
    batch_id = proto.drawn_batch(requester, worker)
    deadline = market.getBatch(batch_id).deadline
    proto.after(WINDOW)
    with ape.reverts(market.JobMarketDeadlinePassed, id=job_id(batch_id), deadline=deadline):
        market.challenge(job_id(batch_id), OUT, sender=verifiers[0])


def test_challenge_reverts_if_draw_pending_or_job_already_audited(proto, market, requester, worker, verifiers):
    batch_id = proto.committed_batch(requester, worker)
    with ape.reverts(market.JobMarketInvalidJobStatus, jobId=job_id(batch_id), status=JobStatus.COMMITTED):
        market.challenge(job_id(batch_id), OUT, sender=verifiers[0])
    job, auditor = _audited(proto, requester, worker, verifiers)
    other = next(v for v in verifiers if v != auditor)
    with ape.reverts(market.JobMarketInvalidJobStatus, jobId=job, status=JobStatus.AUDITED):
        market.challenge(job, OUT, sender=other)


def test_challenge_reverts_if_job_does_not_exist(proto, market, requester, worker, verifiers):
    batch_id = proto.drawn_batch(requester, worker)
    with ape.reverts(market.JobMarketInvalidJobStatus, jobId=job_id(batch_id, 1), status=JobStatus.NONE):
        market.challenge(job_id(batch_id, 1), OUT, sender=verifiers[0])


# ------------------------------------------------------------ replaceVerifier


def test_replace_verifier_after_deadline_draws_another(proto, market, staking, requester, worker, verifiers, outsider):
    job, late = _audited(proto, requester, worker, verifiers)
    proto.after(VERDICT_WINDOW)
    tx = market.replaceVerifier(job, sender=outsider)
    (replaced,) = tx.decode_logs(market.VerifierReplaced)
    assert replaced.previous == late.address
    assert replaced.replacement not in (late.address, worker.address)
    assert market.AuditAssigned(jobId=job, verifier=replaced.replacement) in tx.events
    assert list(market.jobVerifiers(job)) == [replaced.replacement]
    assert staking.getStake(late, VERIFIER).locked == 0
    assert staking.getStake(replaced.replacement, VERIFIER).locked == COLLATERAL
    assert market.jobStatus(job) == JobStatus.AUDITED


def test_replace_verifier_without_candidates_lapses_audit_and_pays_job(
    proto, market, staking, requester, worker, verifiers, outsider
):
    job, late = _audited(proto, requester, worker, verifiers)
    for v in verifiers:
        if v != late:
            staking.requestExit(VERIFIER, sender=v)
    proto.after(VERDICT_WINDOW)
    tx = market.replaceVerifier(job, sender=outsider)
    assert tx.events.filter(market.AuditLapsed) == [market.AuditLapsed(jobId=job)]
    assert market.JobFinalized(jobId=job, worker=worker, workerPayment=PRICE - PROTOCOL) in tx.events
    assert market.getAudit(job).status == AuditStatus.LAPSED
    assert market.jobStatus(job) == JobStatus.FINALIZED
    assert market.balanceOf(requester) == FEE  # The unused premium comes back.
    assert list(market.jobVerifiers(job)) == []
    assert staking.getStake(worker, WORKER).locked == 0


def test_replace_verifier_reverts_if_deadline_not_reached(proto, market, requester, worker, verifiers, outsider):
    job, _ = _audited(proto, requester, worker, verifiers)
    deadline = market.getAudit(job).deadline
    with ape.reverts(market.JobMarketDeadlineNotReached, id=job, deadline=deadline):
        market.replaceVerifier(job, sender=outsider)


def test_replace_verifier_reverts_if_not_audited(proto, market, requester, worker, outsider):
    batch_id = proto.committed_batch(requester, worker)
    with ape.reverts(market.JobMarketInvalidJobStatus, jobId=job_id(batch_id), status=JobStatus.COMMITTED):
        market.replaceVerifier(job_id(batch_id), sender=outsider)
