"""Whose turn it is to do a keeper duty, so that verifiers do not race for it.

Any verifier may draw an audit's seats, expire a silent worker's batch or resolve a timeout,
and every verifier sees the event that makes the duty due. If all of them send the transaction
at once, all but the first revert. Instead each duty has an order of turns among the verifiers
in the draw pool, the same for every one of them (by `keccak256(id, verifier)`): the first acts
at once, the second `TURN_S` later if the duty is still undone (its simulation then shows
whether it is), and so on. A verifier that is down only delays the duty by one turn.

The pool is followed from the staking contract's `PoolWeightSet` events.
"""

from __future__ import annotations

from eth_abi import encode
from eth_utils import keccak, to_checksum_address

# Time for the verifier before to see the duty's event, send, and have it mined; longer than a
# retry's delay (`RETRY_DELAY_S`), so that the first in turn retrying a duty that came too
# early (a seed block not yet mined) does it before the next one's turn comes.
TURN_S = 3


class KeeperTurns:
    def __init__(self, me: str):
        self._me = to_checksum_address(me)
        self._weights: dict[str, int] = {}

    def weight_set(self, verifier: str, weight: int) -> None:
        """A `PoolWeightSet` event."""
        verifier = to_checksum_address(verifier)
        if weight > 0:
            self._weights[verifier] = weight
        else:
            self._weights.pop(verifier, None)

    def rank(self, duty: int) -> int:
        """This verifier's place in the order of turns for a duty (a job or batch id): 0 acts first."""
        order = sorted(self._weights, key=lambda v: keccak(encode(["uint256", "address"], [duty, v])))
        return order.index(self._me) if self._me in order else len(order)

    def delay(self, duty: int) -> int:
        """Seconds this verifier waits before doing the duty."""
        return TURN_S * self.rank(duty)
