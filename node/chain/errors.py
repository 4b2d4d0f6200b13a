"""Chain errors, and decoding of contract reverts by ABI (never by message substring)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from enum import IntEnum
from typing import Any

from eth_abi import decode
from eth_utils import function_signature_to_4byte_selector, to_checksum_address

from node.chain.protocol import ENUMS
from node.errors import NightshiftError

_ERROR_STRING = bytes.fromhex("08c379a0")  # Error(string)
_PANIC = bytes.fromhex("4e487b71")  # Panic(uint256)


# Reverts that mean "too early": the chain's clock (or head) lags the node's. Nodes try again later.
NOT_DUE_ERRORS = frozenset({"JobMarketDeadlineNotReached", "JobMarketSeedPending"})


class ChainError(NightshiftError):
    """Something went wrong talking to the chain."""


class RpcUnavailableError(ChainError):
    """The RPC endpoint could not be reached."""


class DeploymentError(ChainError):
    """A deployments file is missing, malformed, or for another chain."""


class ContractRevertError(ChainError):
    """A contract call reverted with a custom error that the ABI names.

    `name` is the error's name (for example `JobMarketNotWorker`) and `args` its decoded
    arguments by parameter name.
    """

    def __init__(self, name: str, args: Mapping[str, Any]):
        self.name = name
        self.args_by_name = dict(args)
        rendered = ", ".join(f"{k}={_render(k, v)}" for k, v in self.args_by_name.items())
        super().__init__(f"{name}({rendered})")


class UnknownRevertError(ChainError):
    """A revert whose data matches no error in the known ABIs."""

    def __init__(self, data: bytes):
        self.data = data
        super().__init__(f"reverted with unknown data 0x{data.hex()}" if data else "reverted without data")


# Error parameters that hold a chain timestamp, by name: `unbondsAt`, `deadline`, `until`...
_TIME = re.compile(r"(At|Until|until|deadline|Deadline)$")


def as_date(timestamp: int) -> str:
    """A chain timestamp as people read it: `2026-12-03 12:00:00 UTC`."""
    return datetime.fromtimestamp(int(timestamp), UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _render(name: str, value: Any) -> str:
    """An error argument for people: enums by name, timestamps as dates, bytes in hex."""
    if isinstance(value, IntEnum):
        return value.name.lower()
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, int) and not isinstance(value, bool) and _TIME.search(name) and 0 < value < 2**40:
        return as_date(value)
    return str(value)


def _type_string(param: Mapping[str, Any]) -> str:
    if param["type"].startswith("tuple"):
        inner = ",".join(_type_string(c) for c in param["components"])
        return f"({inner}){param['type'][5:]}"
    return str(param["type"])


class RevertDecoder:
    """Maps revert data to `ContractRevertError` using the errors declared in a set of ABIs."""

    def __init__(self, abis: Iterable[list[dict[str, Any]]]):
        self._errors: dict[bytes, tuple[str, list[str], list[str], list[type[IntEnum] | None]]] = {}
        for abi in abis:
            for item in abi:
                if item.get("type") != "error":
                    continue
                types = [_type_string(p) for p in item["inputs"]]
                selector = function_signature_to_4byte_selector(f"{item['name']}({','.join(types)})")
                names = [p["name"] or f"arg{i}" for i, p in enumerate(item["inputs"])]
                enums = [ENUMS.get(str(p.get("internalType", "")).removeprefix("enum ")) for p in item["inputs"]]
                self._errors[selector] = (item["name"], names, types, enums)

    def decode(self, data: bytes) -> ChainError:
        """The exception for this revert data."""
        selector, payload = data[:4], data[4:]
        if selector in self._errors:
            name, names, types, enums = self._errors[selector]
            values = [
                to_checksum_address(v) if t == "address" else enum(v) if enum else v
                for t, enum, v in zip(types, enums, decode(types, payload), strict=True)
            ]
            return ContractRevertError(name, dict(zip(names, values, strict=True)))
        if selector == _ERROR_STRING:
            return ContractRevertError("Error", {"message": decode(["string"], payload)[0]})
        if selector == _PANIC:
            return ContractRevertError("Panic", {"code": decode(["uint256"], payload)[0]})
        return UnknownRevertError(data)


def revert_data(exc: BaseException) -> bytes | None:
    """The raw revert data carried by a web3.py exception, if any."""
    data = getattr(exc, "data", None)
    if isinstance(data, dict):
        data = data.get("data")
    if isinstance(data, str) and data.startswith("0x"):
        return bytes.fromhex(data[2:])
    return None
