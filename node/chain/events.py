"""Decoding contract logs straight from JSON-RPC, with eth-abi and the contract's ABI.

web3.py's `get_logs` and `process_log` run every field of every log through layers of
formatters (checksummed addresses, attribute dicts, recursive maps): that cost the nodes' event
listeners most of their CPU (a third of the verifier's). This decoder reads the raw log, decodes
topics and data with eth-abi in one call each, and gives the same values web3 gives: checksummed
addresses, dicts for structs, bytes for bytes.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from functools import lru_cache
from typing import Any

from eth_abi import decode as abi_decode
from eth_utils import event_abi_to_log_topic, to_checksum_address
from eth_utils.abi import collapse_if_tuple

# A checksum is a keccak of the address: 40% of decoding a log. A market's events name few
# parties (requesters, workers, verifiers, the treasury), so they are remembered.
_checksum = lru_cache(maxsize=4096)(to_checksum_address)


def _normalize(abi: Mapping[str, Any], value: Any) -> Any:
    """eth-abi's value for one ABI parameter, shaped as web3.py shapes it."""
    kind: str = abi["type"]
    if kind.endswith("]"):  # An array: normalize each element as the element type.
        element = dict(abi) | {"type": kind[: kind.rindex("[")]}
        return [_normalize(element, v) for v in value]
    if kind == "tuple":
        return {c["name"]: _normalize(c, v) for c, v in zip(abi["components"], value, strict=True)}
    if kind == "address":
        return _checksum(value)
    return value


class EventDecoder:
    """Decodes the logs of one contract's events by topic."""

    def __init__(self, abi: Sequence[Mapping[str, Any]]):
        self._events: dict[bytes, tuple[str, list[Any], list[str], list[Any], list[str]]] = {}
        for item in abi:
            if item.get("type") != "event" or item.get("anonymous"):
                continue
            indexed = [i for i in item["inputs"] if i["indexed"]]
            data = [i for i in item["inputs"] if not i["indexed"]]
            topic = event_abi_to_log_topic(dict(item))  # type: ignore[arg-type]
            self._events[topic] = (
                item["name"],
                indexed,
                [i["type"] for i in indexed],
                data,
                [collapse_if_tuple(dict(i)) for i in data],
            )

    def knows(self, topic: bytes) -> bool:
        return topic in self._events

    def topics(self, names: Collection[str]) -> dict[str, str]:
        """Name -> hex topic (as in a log filter) of those of the named events this ABI declares."""
        return {name: "0x" + topic.hex() for topic, (name, *_) in self._events.items() if name in names}

    def decode_raw(self, entry: Mapping[str, Any]) -> tuple[str, dict[str, Any]] | None:
        """A log as JSON-RPC returns it (hex topics and data): the event's name and arguments,
        or None for an event this contract does not declare."""
        topics = [bytes.fromhex(t[2:]) for t in entry["topics"]]
        if not topics or not self.knows(topics[0]):
            return None
        return self.decode(topics, bytes.fromhex(entry["data"][2:]))

    def decode(self, topics: Sequence[bytes], data: bytes) -> tuple[str, dict[str, Any]]:
        """The event's name and arguments. Indexed arguments are value types here (ids,
        addresses, hashes): the contracts index no strings, bytes or arrays."""
        name, indexed, indexed_types, data_abi, data_types = self._events[bytes(topics[0])]
        if len(topics) != len(indexed) + 1:
            raise ValueError(f"{name}: {len(topics) - 1} indexed topics, expected {len(indexed)}")
        args: dict[str, Any] = {}
        # Indexed value types are 32-byte words each: one decode reads them all.
        for item, value in zip(indexed, abi_decode(indexed_types, b"".join(map(bytes, topics[1:]))), strict=True):
            args[item["name"]] = _normalize(item, value)
        for item, value in zip(data_abi, abi_decode(data_types, bytes(data)), strict=True):
            args[item["name"]] = _normalize(item, value)
        return name, args
