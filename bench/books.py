"""The market's books, read in one JSON-RPC batch: what it holds against what it owes.

The stateful property test checks them after every step and the kill campaign after every
trial; both read them here, so the two checks cannot drift apart.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any

from eth_abi import decode, encode
from eth_utils import function_signature_to_4byte_selector

from node.chain.protocol import Batch, BatchStatus

LIVE = {BatchStatus.OPEN, BatchStatus.TAKEN, BatchStatus.COMMITTED, BatchStatus.DRAWN, BatchStatus.AUDITED}


def market_books(
    reads: Reads, market: Any, credit: Any, holders: Iterable[Any], fee_earners: Iterable[Any], batch_ids: Sequence[int]
) -> tuple[int, int]:
    """(the market's credit balance, what it owes): every holder's internal balance, every fee
    earner's fees owed, and the escrow of each live batch among `batch_ids` (its jobs' prices and
    audit premiums, less the audit fees already paid out of it). Equal when the books balance."""
    for holder in holders:
        reads.add(market, "balanceOf", holder.address)
    for earner in fee_earners:
        reads.add(market, "feesOwed", earner.address)
    accounts = len(reads.calls)
    for batch_id in batch_ids:
        reads.add(market, "getBatch", batch_id)
        reads.add(market, "auditFeesPaid", batch_id)
    reads.add(credit, "balanceOf", market.address)
    values = reads.send()
    owed, batches, held = sum(values[:accounts]), values[accounts:-1], values[-1]
    decoded = [Batch.decode(b) for b in batches[::2]]
    live = [(b, paid) for b, paid in zip(decoded, batches[1::2], strict=True) if b.status in LIVE]
    for b, _ in live:
        reads.add(market, "premiumFor", b.price, b.audit_bps)
    premiums = reads.send() if reads.calls else []
    escrow = sum(b.size * (b.price + premium) - paid for (b, paid), premium in zip(live, premiums, strict=True))
    return held, owed + escrow


class Reads:
    """View calls sent as one JSON-RPC batch: the checks run after every step read some fifty
    values, and web3's per-call encoding and middleware would make them most of a soak's time."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.calls: list[tuple[str, bytes, tuple[str, ...]]] = []

    def add(self, contract: Any, name: str, *args: Any) -> int:
        selector, inputs, outputs = _abi_of(contract.address, json.dumps(contract.abi), name)
        self.calls.append((contract.address, selector + encode(inputs, args), outputs))
        return len(self.calls) - 1

    def send(self) -> list[Any]:
        """Every value added, in order; a single output is returned bare."""
        body = [
            {
                "jsonrpc": "2.0",
                "id": i,
                "method": "eth_call",
                "params": [{"to": to, "data": "0x" + data.hex()}, "latest"],
            }
            for i, (to, data, _) in enumerate(self.calls)
        ]
        request = urllib.request.Request(self.url, json.dumps(body).encode(), {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            replies = {r["id"]: r for r in json.load(response)}
        values = []
        for i, (_, _, outputs) in enumerate(self.calls):
            if "error" in replies[i]:
                raise RuntimeError(f"view call {i} failed: {replies[i]['error']}")
            value = decode(outputs, bytes.fromhex(replies[i]["result"][2:]))
            values.append(value[0] if len(outputs) == 1 else value)
        self.calls = []
        return values


@cache
def _abi_of(address: str, abi: str, name: str) -> tuple[bytes, tuple[str, ...], tuple[str, ...]]:
    (fn,) = (e for e in json.loads(abi) if e.get("type") == "function" and e["name"] == name)

    def kind(p: dict[str, Any]) -> str:
        if p["type"].startswith("tuple"):
            return "(" + ",".join(kind(c) for c in p["components"]) + ")" + p["type"][5:]
        return str(p["type"])

    inputs = tuple(kind(p) for p in fn["inputs"])
    return (
        function_signature_to_4byte_selector(f"{name}({','.join(inputs)})"),
        inputs,
        tuple(kind(p) for p in fn["outputs"]),
    )
