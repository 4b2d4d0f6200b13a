"""Reading `eth_createAccessList` replies as the nodes send them (anvil, and geth's shapes)."""

import pytest

from node.chain.tx import REFUND_AND_FORWARDING, gas_from_access_list

REVERT = "0x79e920f000000000000000000000000070997970c51812dc3a010c7d01b50e0d17dc79c8"


def test_gas_from_access_list_allows_for_refunds_and_forwarding_on_the_gas_used():
    reply = {"jsonrpc": "2.0", "id": 1, "result": {"accessList": [], "gasUsed": hex(100_000)}}
    assert gas_from_access_list(reply) == int(100_000 * REFUND_AND_FORWARDING)
    assert 1.25 < REFUND_AND_FORWARDING < 1.3


def test_gas_from_access_list_returns_the_revert_data_of_an_error_reply():
    reply = {"error": {"code": 3, "message": "execution reverted: custom error", "data": REVERT}}
    assert gas_from_access_list(reply) == bytes.fromhex(REVERT[2:])
    assert gas_from_access_list({"error": {"code": 3, "message": "execution reverted", "data": "0x"}}) == b""


@pytest.mark.parametrize(
    "reply",
    [
        {"error": {"code": -32601, "message": "the method eth_createAccessList does not exist"}},
        {"error": {"code": -32000, "message": "insufficient funds for gas * price + value"}},
        {"result": {"accessList": [], "gasUsed": "0x5208", "error": "execution reverted"}},  # geth
        {"result": None},
    ],
    ids=["no such method", "error without revert data", "failure inside the result", "no result"],
)
def test_gas_from_access_list_defers_to_estimate_gas_where_the_reply_cannot_say(reply):
    assert gas_from_access_list(reply) is None
