"""Keeper turns: every verifier computes the same order for a duty, so exactly one acts first."""

from eth_account import Account

from verifier.keepers import TURN_S, KeeperTurns

VERIFIERS = [Account.create().address for _ in range(5)]


def _turns(me: str) -> KeeperTurns:
    turns = KeeperTurns(me)
    for v in VERIFIERS:
        turns.weight_set(v, 10**18)
    return turns


def test_each_duty_gives_every_pool_verifier_a_distinct_turn_and_one_goes_first():
    for duty in (1, 65_536, 2**40 + 3):
        ranks = sorted(_turns(v).rank(duty) for v in VERIFIERS)
        assert ranks == list(range(len(VERIFIERS)))


def test_turns_differ_between_duties_so_no_verifier_does_all_of_them():
    first = {next(v for v in VERIFIERS if _turns(v).rank(duty) == 0) for duty in range(200)}
    assert first == set(VERIFIERS)


def test_a_verifier_outside_the_pool_goes_after_every_verifier_in_it():
    outsider = Account.create().address
    assert _turns(outsider).rank(7) == len(VERIFIERS)
    assert _turns(outsider).delay(7) == TURN_S * len(VERIFIERS)


def test_a_verifier_that_left_the_pool_hands_its_first_turns_to_the_others():
    leader = next(v for v in VERIFIERS if _turns(v).rank(7) == 0)
    left = [v for v in VERIFIERS if v != leader]
    ranks = []
    for v in left:
        turns = _turns(v)
        turns.weight_set(leader, 0)  # Its exit's `PoolWeightSet`.
        ranks.append(turns.rank(7))
    assert sorted(ranks) == list(range(len(left)))
