"""The verifier draw pool: a draw by stake over the verifiers active at a past block.

Finding 11, from the adversary simulator's audit-steering row: the pool used to be a list that
only grew, in which an exit or a slash voided a verifier's entries but left their weight in the
running sum. A sybil that staked and left, round after round, filled the pool with dead weight;
most samples then hit it, the game's 16 probes found no one, and the audit waited for a retry
(after 200 rounds, 20M credits of dead weight against 100k live: 8% of draws filled). The pool
is now a tree of live weights with their history, and these tests attack it."""

from __future__ import annotations

import random

import ape
from eth_utils import keccak

from .helpers import CREDIT, MIN_VERIFIER_STAKE, MIN_WORKER_STAKE, UNBONDING, VERIFIER, VERIFIER_STAKE, job_id

ZERO = ape.utils.ZERO_ADDRESS


def randomness(i: int) -> int:
    return int.from_bytes(keccak(b"%d" % i), "big")


def new_accounts(accounts, owner, credit, spender, count: int, amount: int) -> list:
    made = []
    for _ in range(count):
        account = accounts.generate_test_account()
        owner.transfer(account, 10**18)
        credit.mint(account, amount, sender=owner)
        credit.approve(spender, 2**256 - 1, sender=account)
        made.append(account)
    return made


def test_stake_as_verifier_takes_a_seat_weighted_by_its_stake(staking, chain, outsider, funded, staked):
    before = staking.poolWeightAt(chain.blocks.head.number)
    tx = staking.stake(VERIFIER, MIN_VERIFIER_STAKE, "", sender=outsider)
    assert staking.seatOf(outsider) == 6  # After the five test verifiers'.
    assert staking.PoolWeightSet(verifier=outsider, seat=6, weight=MIN_VERIFIER_STAKE) in tx.events
    assert staking.poolWeightAt(tx.block_number) == before + MIN_VERIFIER_STAKE
    assert staking.poolWeightAt(tx.block_number - 1) == before
    top_up = staking.stake(VERIFIER, 7, "", sender=outsider)
    assert staking.PoolWeightSet(verifier=outsider, seat=6, weight=MIN_VERIFIER_STAKE + 7) in top_up.events
    assert staking.poolWeightAt(top_up.block_number) == before + MIN_VERIFIER_STAKE + 7


def test_request_exit_takes_the_verifiers_stake_out_of_later_draws(staking, chain, verifiers, staked):
    head = chain.blocks.head.number
    assert verifiers[0].address in {staking.sampleVerifier(head, randomness(i)) for i in range(60)}
    tx = staking.requestExit(VERIFIER, sender=verifiers[0])
    assert staking.PoolWeightSet(verifier=verifiers[0], seat=1, weight=0) in tx.events
    assert staking.poolWeightAt(tx.block_number) == 4 * VERIFIER_STAKE
    assert staking.poolWeightAt(head) == 5 * VERIFIER_STAKE  # The past is kept as it was.
    # Draws over the pool before the exit still land on its seat, and find no one there ...
    before = {staking.sampleVerifier(head, randomness(i)) for i in range(60)}
    assert verifiers[0].address not in before and ZERO in before
    # ... and draws over the pool after it only ever land on live stake.
    after = {staking.sampleVerifier(tx.block_number, randomness(i)) for i in range(60)}
    assert after == {v.address for v in verifiers[1:]}


def test_sample_verifier_ignores_stake_added_after_the_snapshot(staking, chain, outsider, funded, staked):
    snapshot = chain.blocks.head.number
    staking.stake(VERIFIER, 9_000 * CREDIT, "", sender=outsider)
    assert outsider.address not in {staking.sampleVerifier(snapshot, r * CREDIT) for r in range(0, 10_000, 100)}
    assert outsider.address in {staking.sampleVerifier(snapshot + 1, r * CREDIT) for r in range(0, 19_000, 100)}
    assert staking.sampleVerifier(0, 12345) == ZERO  # An empty pool.


def test_a_seat_given_up_goes_to_the_next_verifier_but_not_for_draws_before_it_sat(
    staking, chain, verifiers, outsider, funded, staked
):
    staking.requestExit(VERIFIER, sender=verifiers[0])
    before_exit = chain.blocks.head.number - 1
    chain.mine(1, timestamp=chain.pending_timestamp + UNBONDING + 1)
    staking.withdrawStake(VERIFIER, sender=verifiers[0])
    assert staking.seatOf(verifiers[0]) == 0
    tx = staking.stake(VERIFIER, VERIFIER_STAKE, "", sender=outsider)
    assert staking.seatOf(outsider) == 1  # The seat given up, not a sixth one.
    # Seat 1 weighed verifiers[0]'s stake before its exit: the newcomer takes none of those draws.
    old = {staking.sampleVerifier(before_exit, randomness(i)) for i in range(60)}
    assert outsider.address not in old and ZERO in old
    new = {staking.sampleVerifier(tx.block_number, randomness(i)) for i in range(60)}
    assert new == {outsider.address, *(v.address for v in verifiers[1:])}


def test_a_pool_bloated_by_stake_that_left_draws_a_live_verifier_every_time(
    proto, market, game, staking, chain, credit, owner, accounts, requester, worker, verifiers
):
    """Finding 11: 20 sybils stake 10,000 credits each and leave, twenty times the live stake.
    Every sample after they left lands on a live verifier, so every audit of a batch committed
    then is assigned by the first draw."""
    sybils = new_accounts(accounts, owner, credit, staking, 20, 10_000 * CREDIT)
    for sybil in sybils:
        staking.stake(VERIFIER, 10_000 * CREDIT, "", sender=sybil)
    for sybil in sybils:
        staking.requestExit(VERIFIER, sender=sybil)
    head = chain.blocks.head.number
    assert {staking.sampleVerifier(head, randomness(i)) for i in range(100)} == {v.address for v in verifiers}
    batch_id = proto.committed_batch(requester, worker, *[b"%d" % i for i in range(8)], audit_bps=10_000)
    market.drawAudits([batch_id], sender=worker)
    tx = game.drawVerifiers([job_id(batch_id, i) for i in range(8)], sender=worker)
    assigned = [e.verifier for e in tx.decode_logs(game.AuditAssigned)]
    assert len(assigned) == 8 and set(assigned) <= {v.address for v in verifiers}


class PoolModel:
    """What the pool should hold: each seat's weight after every block, and who holds it."""

    def __init__(self):
        self.seats: dict[str, int] = {}  # verifier -> seat
        self.amount: dict[str, int] = {}
        self.active: dict[str, bool] = {}
        self.history: list[tuple[int, dict[int, int]]] = []  # (block, seat -> weight)

    def record(self, block: int) -> None:
        weights = {seat: self.amount[v] if self.active[v] else 0 for v, seat in self.seats.items()}
        self.history.append((block, weights))

    def expected_draw(self, index: int, target_randomness: int) -> str:
        _, weights = self.history[index]
        total = sum(weights.values())
        if total == 0:
            return ZERO
        target = target_randomness % total
        holders = {seat: v for v, seat in self.seats.items()}
        running = 0
        for seat in sorted(weights):
            running += weights[seat]
            if running > target:
                holder = holders[seat]
                return holder if self.active[holder] else ZERO
        raise AssertionError("target below the total")


def test_draws_match_a_model_of_the_stake_at_every_past_block(project, owner, credit, accounts, outsider):
    """Random stakes, top-ups, exits and slashes over 13 verifiers (the tree grows from one seat
    to 16): at each past block, the pool's total and 12 draws equal what the stake then gives."""
    # `outsider` plays the job market, so that the test can slash directly.
    staking = owner.deploy(project.Staking, credit, outsider, MIN_WORKER_STAKE, MIN_VERIFIER_STAKE, UNBONDING)
    verifiers = new_accounts(accounts, owner, credit, staking, 13, 20_000 * CREDIT)
    model = PoolModel()
    rng = random.Random(11)
    model.record(ape.chain.blocks.head.number)
    for _ in range(70):
        v = rng.choice(verifiers)
        key = v.address
        if key not in model.seats:
            amount = rng.randrange(1_000, 5_000) * CREDIT
            tx = staking.stake(VERIFIER, amount, "", sender=v)
            model.seats[key], model.amount[key], model.active[key] = len(model.seats) + 1, amount, True
        elif model.active[key] and rng.random() < 0.5:
            amount = rng.randrange(1, 3_000) * CREDIT
            tx = staking.stake(VERIFIER, amount, "", sender=v)
            model.amount[key] += amount
        elif model.active[key] and rng.random() < 0.3:
            tx = staking.requestExit(VERIFIER, sender=v)
            model.active[key] = False
        else:
            cut = rng.randrange(0, model.amount[key] + 1)
            tx = staking.slash(v, VERIFIER, cut, sender=outsider)
            model.amount[key] -= cut
            model.active[key] = model.active[key] and model.amount[key] >= MIN_VERIFIER_STAKE
        model.record(tx.block_number)
    assert len(model.seats) == 13
    for index, (block, weights) in enumerate(model.history):
        assert staking.poolWeightAt(block) == sum(weights.values())
        for i in range(12):
            r = randomness(block * 100 + i)
            assert staking.sampleVerifier(block, r) == model.expected_draw(index, r), (block, i)
