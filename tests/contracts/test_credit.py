import ape

from .helpers import CREDIT


def test_decimals_is_six(credit):
    assert credit.decimals() == 6
    assert credit.symbol() == "NSC"


def test_mint_by_owner_credits_receiver_and_emits_transfer(credit, owner, requester):
    tx = credit.mint(requester, 5 * CREDIT, sender=owner)
    assert credit.balanceOf(requester) == 5 * CREDIT
    assert tx.events == [credit.Transfer(**{"from": ape.utils.ZERO_ADDRESS, "to": requester, "value": 5 * CREDIT})]


def test_mint_reverts_if_not_owner(credit, requester):
    with ape.reverts(credit.OwnableUnauthorizedAccount, account=requester):
        credit.mint(requester, 1, sender=requester)
