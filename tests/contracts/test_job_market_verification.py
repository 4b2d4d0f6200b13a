"""submitVerdict, challenge, replaceVerifier and settleDispute."""

import ape
from eth_utils import keccak

from .helpers import (
    AUDITED,
    COMMITTED,
    CREDIT,
    DISPUTED,
    FINALIZED,
    PAYMENT,
    PROTOCOL_FEE,
    UNAUDITED,
    VERIFIER,
    VERIFIER_FEE,
    WORKER,
    WORKER_PAYMENT,
    by_address,
    request,
)

COLLATERAL = 2 * PAYMENT
FEE = PAYMENT // 10
PROTOCOL = PAYMENT // 20
VERDICT_WINDOW = 300
OUT = keccak(b"verifier output")


def _audited(proto, requester, worker, verifiers):
    job_id, address = proto.audited_job(requester, worker, worker)
    return job_id, by_address(verifiers, address)


def _reject(proto, market, job_id, auditor, verifiers):
    """The auditor rejects; returns the drawn panel as accounts."""
    tx = market.submitVerdict(job_id, False, OUT, sender=auditor)
    (opened,) = tx.decode_logs(market.DisputeOpened)
    return [by_address(verifiers, a) for a in opened.panel], tx


# -------------------------------------------------------------- submitVerdict


def test_submit_verdict_accept_pays_worker_verifier_and_treasury(
    proto, market, staking, requester, worker, verifiers, treasury
):
    job_id, auditor = _audited(proto, requester, worker, verifiers)
    tx = market.submitVerdict(job_id, True, OUT, sender=auditor)
    assert tx.events.filter(market.VerdictSubmitted) == [
        market.VerdictSubmitted(jobId=job_id, verifier=auditor, accepted=True, outputHash=OUT)
    ]
    # The requester paid the premium (audit rate above base), so the fee does not come from the payment.
    assert tx.events.filter(market.JobFinalized) == [
        market.JobFinalized(jobId=job_id, worker=worker, workerPayment=PAYMENT - PROTOCOL)
    ]
    assert tx.events.filter(market.Credited) == [
        market.Credited(account=worker, jobId=job_id, amount=PAYMENT - PROTOCOL, reason=WORKER_PAYMENT),
        market.Credited(account=treasury, jobId=job_id, amount=PROTOCOL, reason=PROTOCOL_FEE),
        market.Credited(account=auditor, jobId=job_id, amount=FEE, reason=VERIFIER_FEE),
    ]
    assert market.getJob(job_id).status == FINALIZED
    assert staking.getStake(auditor, VERIFIER).locked == 0
    assert staking.getStake(worker, WORKER).locked == 0


def test_submit_verdict_accept_takes_fee_from_payment_at_base_rate(
    deploy_market, credit, requester, worker, verifiers, funded, chain
):
    stk, mkt = deploy_market(baseAuditBps=10_000)
    for account in (requester, worker, verifiers[0]):
        credit.approve(mkt, 2**256 - 1, sender=account)
        credit.approve(stk, 2**256 - 1, sender=account)
    stk.stake(WORKER, 500 * CREDIT, "http://127.0.0.1:9001", sender=worker)
    stk.stake(VERIFIER, 500 * CREDIT, "", sender=verifiers[0])
    tx = mkt.createJobs([request()], sender=requester)
    job_id = tx.decode_logs(mkt.JobCreated)[0].jobId
    mkt.takeJobs([job_id], sender=worker)
    mkt.commitResults([job_id], [keccak(b"out")], sender=worker)
    chain.mine(1)
    mkt.drawAudits([job_id], sender=worker)
    tx = mkt.submitVerdict(job_id, True, OUT, sender=verifiers[0])
    assert mkt.JobFinalized(jobId=job_id, worker=worker, workerPayment=PAYMENT - PROTOCOL - FEE) in tx.events
    assert mkt.balanceOf(verifiers[0]) == FEE
    assert credit.balanceOf(mkt) == PAYMENT  # No premium was escrowed.


def test_submit_verdict_reject_opens_dispute_with_fresh_panel(proto, market, staking, requester, worker, verifiers):
    job_id, auditor = _audited(proto, requester, worker, verifiers)
    panel, tx = _reject(proto, market, job_id, auditor, verifiers)
    assert len(panel) == 2
    assert len({p.address for p in panel} | {auditor.address, worker.address}) == 4
    (opened,) = tx.decode_logs(market.DisputeOpened)
    assert (opened.accuser, opened.challenge) == (auditor.address, False)
    job = market.getJob(job_id)
    assert (job.status, job.deadline) == (DISPUTED, opened.deadline)
    assert list(market.jobVerifiers(job_id)) == [auditor.address, *(p.address for p in panel)]
    assert market.voteOf(job_id, auditor) == 2  # Reject
    for member in panel:
        assert staking.getStake(member, VERIFIER).locked == COLLATERAL


def test_submit_verdict_reverts_if_not_assigned(proto, market, requester, worker, verifiers):
    job_id, auditor = _audited(proto, requester, worker, verifiers)
    other = next(v for v in verifiers if v != auditor)
    with ape.reverts(market.JobMarketNotAssigned, jobId=job_id, caller=other):
        market.submitVerdict(job_id, True, OUT, sender=other)


def test_submit_verdict_reverts_if_accuser_votes_again_in_dispute(proto, market, requester, worker, verifiers):
    job_id, auditor = _audited(proto, requester, worker, verifiers)
    _reject(proto, market, job_id, auditor, verifiers)
    with ape.reverts(market.JobMarketNotAssigned, jobId=job_id, caller=auditor):
        market.submitVerdict(job_id, True, OUT, sender=auditor)


def test_submit_verdict_reverts_if_panel_member_votes_twice(proto, market, requester, worker, verifiers):
    job_id, auditor = _audited(proto, requester, worker, verifiers)
    panel, _ = _reject(proto, market, job_id, auditor, verifiers)
    market.submitVerdict(job_id, True, OUT, sender=panel[0])
    with ape.reverts(market.JobMarketAlreadyVoted, jobId=job_id, verifier=panel[0]):
        market.submitVerdict(job_id, False, OUT, sender=panel[0])


def test_submit_verdict_reverts_if_deadline_passed(proto, market, requester, worker, verifiers):
    job_id, auditor = _audited(proto, requester, worker, verifiers)
    deadline = market.getJob(job_id).deadline
    proto.after(VERDICT_WINDOW)
    with ape.reverts(market.JobMarketDeadlinePassed, jobId=job_id, deadline=deadline):
        market.submitVerdict(job_id, True, OUT, sender=auditor)


def test_submit_verdict_reverts_if_not_under_audit(proto, market, requester, worker, verifiers):
    job_id = proto.committed_job(requester, worker, audit_bps=10_000)
    with ape.reverts(market.JobMarketInvalidStatus, jobId=job_id, status=COMMITTED):
        market.submitVerdict(job_id, True, OUT, sender=verifiers[0])


# -------------------------------------------------------------- settleDispute


def test_settle_dispute_after_deadline_counts_votes_cast_and_tie_favours_worker(
    proto, market, staking, requester, worker, verifiers, treasury, outsider
):
    job_id, auditor = _audited(proto, requester, worker, verifiers)
    panel, _ = _reject(proto, market, job_id, auditor, verifiers)
    market.submitVerdict(job_id, True, OUT, sender=panel[0])  # panel[1] stays silent: 1 accept, 1 reject.
    deadline = market.getJob(job_id).deadline
    with ape.reverts(market.JobMarketDeadlineNotReached, jobId=job_id, deadline=deadline):
        market.settleDispute(job_id, sender=outsider)
    proto.after(VERDICT_WINDOW)
    tx = market.settleDispute(job_id, sender=outsider)
    assert market.DisputeSettled(jobId=job_id, workerWon=True, acceptVotes=1, rejectVotes=1) in tx.events
    assert tx.events.filter(market.PartySlashed) == [
        market.PartySlashed(jobId=job_id, account=auditor, role=VERIFIER, amount=COLLATERAL)
    ]
    assert market.getJob(job_id).status == FINALIZED
    # The falsely accused worker gets half the auditor's bond on top of its pay; the right
    # panel member gets the whole verifier fee and the verifiers' 30%; the silent one nothing.
    assert market.balanceOf(worker) == PAYMENT - PROTOCOL + COLLATERAL // 2
    assert market.balanceOf(panel[0]) == FEE + COLLATERAL * 3 // 10
    assert market.balanceOf(panel[1]) == 0
    assert staking.getStake(panel[1], VERIFIER).locked == 0
    assert staking.getStake(auditor, VERIFIER).amount == 1_000 * CREDIT - COLLATERAL


def test_settle_dispute_reverts_if_not_disputed(proto, market, requester, worker, verifiers, outsider):
    job_id, _ = _audited(proto, requester, worker, verifiers)
    with ape.reverts(market.JobMarketInvalidStatus, jobId=job_id, status=AUDITED):
        market.settleDispute(job_id, sender=outsider)


# ------------------------------------------------------------------ challenge


def test_challenge_opens_dispute_with_challenger_bond(proto, market, staking, requester, worker, verifiers):
    job_id = proto.committed_job(requester, worker)
    proto.draw([job_id], worker)
    auditor = verifiers[0]
    tx = market.challenge(job_id, OUT, sender=auditor)
    assert market.VerdictSubmitted(jobId=job_id, verifier=auditor, accepted=False, outputHash=OUT) in tx.events
    (opened,) = tx.decode_logs(market.DisputeOpened)
    assert (opened.accuser, opened.challenge, len(opened.panel)) == (auditor.address, True, 2)
    assert auditor.address not in opened.panel
    assert market.getJob(job_id).status == DISPUTED
    assert staking.getStake(auditor, VERIFIER).locked == COLLATERAL


def test_challenge_reverts_if_challenger_is_worker(proto, market, staking, requester, worker):
    staking.stake(VERIFIER, 500 * CREDIT, "", sender=worker)
    job_id = proto.committed_job(requester, worker)
    proto.draw([job_id], worker)
    with ape.reverts(market.JobMarketSelfVerification, jobId=job_id, account=worker):
        market.challenge(job_id, OUT, sender=worker)


def test_challenge_reverts_if_not_a_verifier(proto, market, requester, worker, outsider):
    job_id = proto.committed_job(requester, worker)
    proto.draw([job_id], worker)
    with ape.reverts(market.JobMarketNotRegistered, account=outsider, role=VERIFIER):
        market.challenge(job_id, OUT, sender=outsider)


def test_challenge_reverts_if_window_closed(proto, market, requester, worker, verifiers):
    job_id = proto.committed_job(requester, worker)
    proto.draw([job_id], worker)
    deadline = market.getJob(job_id).deadline
    proto.after(600)
    with ape.reverts(market.JobMarketDeadlinePassed, jobId=job_id, deadline=deadline):
        market.challenge(job_id, OUT, sender=verifiers[0])


def test_challenge_reverts_if_draw_pending(proto, market, requester, worker, verifiers):
    job_id = proto.committed_job(requester, worker)
    with ape.reverts(market.JobMarketInvalidStatus, jobId=job_id, status=COMMITTED):
        market.challenge(job_id, OUT, sender=verifiers[0])


# ------------------------------------------------------------ replaceVerifier


def test_replace_verifier_after_deadline_draws_another(proto, market, staking, requester, worker, verifiers, outsider):
    job_id, late = _audited(proto, requester, worker, verifiers)
    proto.after(VERDICT_WINDOW)
    tx = market.replaceVerifier(job_id, sender=outsider)
    (replaced,) = tx.decode_logs(market.VerifierReplaced)
    assert replaced.previous == late.address
    assert replaced.replacement not in (late.address, worker.address)
    assert market.AuditAssigned(jobId=job_id, verifier=replaced.replacement) in tx.events
    assert list(market.jobVerifiers(job_id)) == [replaced.replacement]
    assert staking.getStake(late, VERIFIER).locked == 0
    assert staking.getStake(replaced.replacement, VERIFIER).locked == COLLATERAL
    assert market.getJob(job_id).status == AUDITED


def test_replace_verifier_without_candidates_leaves_job_unaudited(
    proto, market, staking, chain, requester, worker, verifiers, outsider
):
    job_id, late = _audited(proto, requester, worker, verifiers)
    for v in verifiers:
        if v != late:
            staking.requestExit(VERIFIER, sender=v)
    proto.after(VERDICT_WINDOW)
    tx = market.replaceVerifier(job_id, sender=outsider)
    assert tx.events.filter(market.AuditUnavailable) == [market.AuditUnavailable(jobId=job_id)]
    job = market.getJob(job_id)
    assert job.status == UNAUDITED
    assert job.deadline == chain.blocks[tx.block_number].timestamp + 600
    assert list(market.jobVerifiers(job_id)) == []


def test_replace_verifier_reverts_if_deadline_not_reached(proto, market, requester, worker, verifiers, outsider):
    job_id, _ = _audited(proto, requester, worker, verifiers)
    deadline = market.getJob(job_id).deadline
    with ape.reverts(market.JobMarketDeadlineNotReached, jobId=job_id, deadline=deadline):
        market.replaceVerifier(job_id, sender=outsider)


def test_replace_verifier_reverts_if_not_audited(proto, market, requester, worker, outsider):
    job_id = proto.committed_job(requester, worker)
    with ape.reverts(market.JobMarketInvalidStatus, jobId=job_id, status=COMMITTED):
        market.replaceVerifier(job_id, sender=outsider)
