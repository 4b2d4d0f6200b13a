"""One test per lifecycle path, end to end, checking where every credit went.

Each test ends by checking that the market holds exactly what it owes: internal balances plus
the escrow of jobs still open. That is the "nothing stuck" invariant.
"""

import ape
from eth_utils import keccak

from .helpers import (
    CREDIT,
    DISPUTED,
    EXPIRED,
    FINALIZED,
    PAYMENT,
    REJECTED,
    TIMEOUT,
    UNBONDING,
    VERIFIER,
    WORKER,
    by_address,
    request,
)

COLLATERAL = 2 * PAYMENT
FEE = PAYMENT // 10
PROTOCOL = PAYMENT // 20
WINDOW = 600
VERDICT_WINDOW = 300
OUT = keccak(b"verifier output")


def assert_market_solvent(market, credit, accounts, escrowed=0):
    owed = sum(market.balanceOf(a) for a in accounts)
    assert credit.balanceOf(market) == owed + escrowed


def withdraw_all(market, credit, accounts):
    for account in accounts:
        if market.balanceOf(account):
            market.withdraw(sender=account)
    assert credit.balanceOf(market) == 0


def test_honest_unaudited_job_pays_worker_after_window(
    proto, market, credit, requester, worker, treasury, outsider, verifiers
):
    start = credit.balanceOf(requester)
    job_id, _ = proto.create(requester, request(b"hello"))
    proto.take(worker, job_id)
    proto.commit(worker, [job_id], [keccak(b"embedding")])
    proto.after(WINDOW)
    market.finalizeJobs([job_id], sender=outsider)
    assert market.getJob(job_id).status == FINALIZED
    parties = [requester, worker, treasury, *verifiers]
    assert_market_solvent(market, credit, parties)
    worker_before = credit.balanceOf(worker)
    withdraw_all(market, credit, parties)
    assert credit.balanceOf(worker) == worker_before + PAYMENT - PROTOCOL
    assert credit.balanceOf(requester) == start - PAYMENT


def test_audited_job_accepted_pays_worker_and_verifier(proto, market, credit, requester, worker, treasury, verifiers):
    job_id, address = proto.audited_job(requester, worker, worker)
    auditor = by_address(verifiers, address)
    market.submitVerdict(job_id, True, keccak(b"embedding"), sender=auditor)
    assert market.getJob(job_id).status == FINALIZED
    assert market.balanceOf(worker) == PAYMENT - PROTOCOL
    assert market.balanceOf(auditor) == FEE
    assert market.balanceOf(treasury) == PROTOCOL
    withdraw_all(market, credit, [requester, worker, treasury, *verifiers])


def test_audited_job_rejected_by_majority_slashes_cheater_and_refunds_requester(
    proto, market, staking, credit, requester, worker, treasury, verifiers
):
    job_id, address = proto.audited_job(requester, worker, worker)
    auditor = by_address(verifiers, address)
    tx = market.submitVerdict(job_id, False, OUT, sender=auditor)
    panel = [by_address(verifiers, a) for a in tx.decode_logs(market.DisputeOpened)[0].panel]
    market.submitVerdict(job_id, False, OUT, sender=panel[0])
    assert market.getJob(job_id).status == DISPUTED
    tx = market.submitVerdict(job_id, False, OUT, sender=panel[1])  # The last vote settles it.
    assert market.DisputeSettled(jobId=job_id, workerWon=False, acceptVotes=0, rejectVotes=3) in tx.events
    assert market.JobRejected(jobId=job_id, worker=worker, requester=requester) in tx.events
    assert tx.events.filter(market.PartySlashed) == [
        market.PartySlashed(jobId=job_id, account=worker, role=WORKER, amount=COLLATERAL)
    ]
    assert market.getJob(job_id).status == REJECTED
    share = COLLATERAL * 3 // 10 // 3
    assert market.balanceOf(requester) == PAYMENT + FEE + COLLATERAL // 2  # Refund, premium, half the slash.
    for v in (auditor, *panel):
        assert market.balanceOf(v) == share
        assert staking.getStake(v, VERIFIER).locked == 0
    assert market.balanceOf(treasury) == COLLATERAL - COLLATERAL // 2 - 3 * share
    assert staking.getStake(worker, WORKER).amount == 1_000 * CREDIT - COLLATERAL
    withdraw_all(market, credit, [requester, worker, treasury, *verifiers])


def test_malicious_verifier_outvoted_is_slashed_and_worker_paid(
    proto, market, staking, credit, requester, worker, treasury, verifiers
):
    job_id, address = proto.audited_job(requester, worker, worker)
    liar = by_address(verifiers, address)
    tx = market.submitVerdict(job_id, False, OUT, sender=liar)
    panel = [by_address(verifiers, a) for a in tx.decode_logs(market.DisputeOpened)[0].panel]
    market.submitVerdict(job_id, True, OUT, sender=panel[0])
    tx = market.submitVerdict(job_id, True, OUT, sender=panel[1])
    assert market.DisputeSettled(jobId=job_id, workerWon=True, acceptVotes=2, rejectVotes=1) in tx.events
    assert market.PartySlashed(jobId=job_id, account=liar, role=VERIFIER, amount=COLLATERAL) in tx.events
    assert market.getJob(job_id).status == FINALIZED
    assert market.balanceOf(worker) == PAYMENT - PROTOCOL + COLLATERAL // 2
    for v in panel:
        assert market.balanceOf(v) == FEE // 2 + COLLATERAL * 3 // 10 // 2
    assert market.balanceOf(liar) == 0
    assert staking.getStake(liar, VERIFIER).amount == 1_000 * CREDIT - COLLATERAL
    withdraw_all(market, credit, [requester, worker, treasury, *verifiers])


def test_unaudited_job_challenged_by_auditor_slashes_cheater(
    proto, market, staking, credit, requester, worker, treasury, verifiers
):
    job_id = proto.committed_job(requester, worker)
    proto.draw([job_id], worker)
    auditor = verifiers[0]
    tx = market.challenge(job_id, OUT, sender=auditor)
    panel = [by_address(verifiers, a) for a in tx.decode_logs(market.DisputeOpened)[0].panel]
    for member in panel:
        tx = market.submitVerdict(job_id, False, OUT, sender=member)
    assert market.DisputeSettled(jobId=job_id, workerWon=False, acceptVotes=0, rejectVotes=3) in tx.events
    assert market.getJob(job_id).status == REJECTED
    assert market.balanceOf(requester) == PAYMENT + COLLATERAL // 2
    assert market.balanceOf(auditor) == COLLATERAL * 3 // 10 // 3
    assert staking.getStake(auditor, VERIFIER).locked == 0
    withdraw_all(market, credit, [requester, worker, treasury, *verifiers])


def test_worker_timeout_refunds_requester(proto, market, credit, requester, worker, treasury, outsider, verifiers):
    start = credit.balanceOf(requester)
    job_id, _ = proto.create(requester)
    proto.take(worker, job_id)
    proto.after(TIMEOUT)
    market.expireJobs([job_id], sender=outsider)
    assert market.getJob(job_id).status == EXPIRED
    withdraw_all(market, credit, [requester, worker, treasury, outsider, *verifiers])
    assert credit.balanceOf(requester) == start + COLLATERAL // 2  # Whole payment back, plus half the slash.


def test_verifier_timeout_replaces_verifier_who_then_decides(
    proto, market, credit, requester, worker, treasury, outsider, verifiers
):
    job_id, address = proto.audited_job(requester, worker, worker)
    late = by_address(verifiers, address)
    proto.after(VERDICT_WINDOW)
    tx = market.replaceVerifier(job_id, sender=outsider)
    replacement = by_address(verifiers, tx.decode_logs(market.VerifierReplaced)[0].replacement)
    with ape.reverts(market.JobMarketNotAssigned, jobId=job_id, caller=late):
        market.submitVerdict(job_id, True, OUT, sender=late)
    market.submitVerdict(job_id, True, OUT, sender=replacement)
    assert market.getJob(job_id).status == FINALIZED
    assert market.balanceOf(replacement) == FEE
    assert market.balanceOf(late) == 0
    withdraw_all(market, credit, [requester, worker, treasury, outsider, *verifiers])


def test_exit_blocked_by_locked_collateral_until_job_settles(proto, market, staking, credit, requester, worker, outsider):
    job_id, _ = proto.create(requester)
    proto.take(worker, job_id)
    proto.commit(worker, [job_id])
    staking.requestExit(WORKER, sender=worker)
    proto.after(UNBONDING)
    with ape.reverts(staking.StakingStakeLocked, account=worker, role=WORKER, locked=COLLATERAL):
        staking.withdrawStake(WORKER, sender=worker)
    market.finalizeJobs([job_id], sender=outsider)
    before = credit.balanceOf(worker)
    staking.withdrawStake(WORKER, sender=worker)
    assert credit.balanceOf(worker) == before + 1_000 * CREDIT


def test_batch_of_64_created_committed_and_finalized_in_one_transaction_each(
    proto, market, staking, credit, requester, worker, treasury, outsider, verifiers
):
    requests = [request(b"sentence %d" % i) for i in range(64)]
    first, _ = proto.create(requester, *requests)
    ids = list(range(first, first + 64))
    proto.take(worker, *ids)
    assert staking.getStake(worker, WORKER).locked == 64 * COLLATERAL
    proto.commit(worker, ids)
    proto.after(WINDOW)
    tx = market.finalizeJobs(ids, sender=outsider)
    assert [e.jobId for e in tx.decode_logs(market.JobFinalized)] == ids
    assert tx.events.filter(staking.CollateralUnlocked) == [
        staking.CollateralUnlocked(account=worker, role=WORKER, amount=64 * COLLATERAL)
    ]
    assert market.balanceOf(worker) == 64 * (PAYMENT - PROTOCOL)
    withdraw_all(market, credit, [requester, worker, treasury, *verifiers])


def test_open_jobs_escrow_is_accounted_until_cancelled(proto, market, credit, requester, treasury):
    first, _ = proto.create(requester, request(b"a"), request(b"b", audit_bps=10_000))
    assert_market_solvent(market, credit, [requester, treasury], escrowed=2 * PAYMENT + FEE)
    market.cancelJobs([first, first + 1], sender=requester)
    withdraw_all(market, credit, [requester, treasury])
