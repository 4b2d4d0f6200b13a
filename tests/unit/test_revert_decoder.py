"""Reverts are decoded by ABI into named errors with named arguments."""

from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector

from node.chain.errors import ContractRevertError, RevertDecoder, UnknownRevertError
from node.chain.protocol import Role

ABI = [
    {
        "type": "error",
        "name": "JobMarketNotWorker",
        "inputs": [{"name": "batchId", "type": "uint256"}, {"name": "caller", "type": "address"}],
    },
    {"type": "error", "name": "JobMarketInvalidParams", "inputs": []},
    {"type": "function", "name": "withdraw", "inputs": [], "outputs": []},
]
CALLER = "0xABaBaBaBABabABabAbAbABAbABabababaBaBABaB"


def _data(signature: str, types: list[str], values: list) -> bytes:
    return function_signature_to_4byte_selector(signature) + encode(types, values)


def test_decode_custom_error_returns_name_and_named_args():
    error = RevertDecoder([ABI]).decode(
        _data("JobMarketNotWorker(uint256,address)", ["uint256", "address"], [7, CALLER])
    )
    assert isinstance(error, ContractRevertError)
    assert error.name == "JobMarketNotWorker"
    assert error.args_by_name == {"batchId": 7, "caller": CALLER}
    assert str(error) == f"JobMarketNotWorker(batchId=7, caller={CALLER})"


def test_decode_error_without_args():
    error = RevertDecoder([ABI]).decode(function_signature_to_4byte_selector("JobMarketInvalidParams()"))
    assert isinstance(error, ContractRevertError)
    assert (error.name, error.args_by_name) == ("JobMarketInvalidParams", {})


def test_decode_error_string_and_panic():
    decoder = RevertDecoder([ABI])
    message = decoder.decode(_data("Error(string)", ["string"], ["boom"]))
    panic = decoder.decode(_data("Panic(uint256)", ["uint256"], [0x11]))
    assert (message.name, message.args_by_name) == ("Error", {"message": "boom"})
    assert (panic.name, panic.args_by_name) == ("Panic", {"code": 0x11})


def test_decode_unknown_selector_keeps_raw_data():
    error = RevertDecoder([ABI]).decode(bytes.fromhex("deadbeef00"))
    assert isinstance(error, UnknownRevertError)
    assert error.data == bytes.fromhex("deadbeef00")


STAKING_ABI = [
    {
        "type": "error",
        "name": "StakingStillUnbonding",
        "inputs": [
            {"name": "account", "type": "address", "internalType": "address"},
            {"name": "role", "type": "uint8", "internalType": "enum IStaking.Role"},
            {"name": "unbondsAt", "type": "uint256", "internalType": "uint256"},
        ],
    }
]


def test_decode_names_enum_arguments_and_shows_times_as_dates():
    error = RevertDecoder([STAKING_ABI]).decode(
        _data("StakingStillUnbonding(address,uint8,uint256)", ["address", "uint8", "uint256"], [CALLER, 1, 1796288114])
    )
    assert isinstance(error, ContractRevertError)
    assert error.args_by_name["role"] is Role.VERIFIER
    assert error.args_by_name["unbondsAt"] == 1796288114
    assert str(error) == f"StakingStillUnbonding(account={CALLER}, role=verifier, unbondsAt=2026-12-03 08:55:14 UTC)"
