"""Where a transaction's gas goes, by kind of work, from anvil's opcode-level trace.

The trace (anvil started with `--steps-tracing`) gives every executed opcode's gas. A call's
own cost is its reported cost less the gas it forwards, which the callee's opcodes account for.
The kinds, plus the intrinsic 21,000 and calldata, add up to the receipt's `gasUsed`; a refund
shows as a negative kind, and anything the trace does not explain as "unattributed".
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from web3 import Web3

from bench.gaspath import TX_BASE_GAS
from node.chain.transport import raw_rpc

CALLS = {"CALL", "STATICCALL", "DELEGATECALL", "CALLCODE"}
KINDS = (
    "transaction base",
    "calldata",
    "storage writes (SSTORE)",
    "storage reads (SLOAD)",
    "events (LOG)",
    "external calls (CALL, account access)",
    "other execution (stack, memory, hashing, jumps)",
    "refund",
    "unattributed",
)
BALANCING = KINDS[-2:]  # Shown only when not zero.


def kind_of(op: str) -> str:
    """The kind of work an opcode does."""
    if op == "SSTORE":
        return KINDS[2]
    if op == "SLOAD":
        return KINDS[3]
    if op.startswith("LOG"):
        return KINDS[4]
    if op in CALLS or op in ("EXTCODESIZE", "EXTCODEHASH", "BALANCE"):
        return KINDS[5]
    return KINDS[6]


def gas_by_kind(w3: Web3, tx_hash: str, gas_used: int) -> dict[str, int]:
    """A mined transaction's gas, by kind of work; the kinds sum to `gas_used`."""
    options = {"disableMemory": True, "disableStack": True, "disableStorage": True}
    trace = raw_rpc(w3, "debug_traceTransaction", [tx_hash, options])
    steps: list[dict[str, Any]] = trace["structLogs"]
    if not steps:
        raise RuntimeError("no opcode trace: start anvil with steps_tracing=True")
    kinds: Counter[str] = Counter()
    for i, step in enumerate(steps):
        cost = int(step["gasCost"])
        if step["op"] in CALLS and i + 1 < len(steps) and steps[i + 1]["depth"] == step["depth"] + 1:
            cost -= int(steps[i + 1]["gas"])  # Forwarded to the callee, whose opcodes count it.
        kinds[kind_of(step["op"])] += cost
    tx = w3.eth.get_transaction(tx_hash)  # type: ignore[arg-type]
    kinds[KINDS[0]] = TX_BASE_GAS
    kinds[KINDS[1]] = sum(4 if b == 0 else 16 for b in bytes(tx["input"]))
    # What the trace does not explain: a refund (storage cleared) is negative; anything else
    # would be a gap in the attribution (none on anvil 1.7.1).
    rest = gas_used - sum(kinds.values())
    if rest:
        kinds[BALANCING[0] if rest < 0 else BALANCING[1]] = rest
    return {k: kinds[k] for k in KINDS if kinds[k] or k not in BALANCING}


def render(profile: dict[str, dict[str, int]]) -> str:
    """A Markdown table: one column per step, one row per kind of work, and their totals."""
    steps = list(profile)
    kinds = [k for k in KINDS if any(k in profile[s] for s in steps)]
    lines = [
        "| kind of work | " + " | ".join(steps) + " | total |",
        "|---|" + "---:|" * (len(steps) + 1),
    ]
    for k in kinds:
        row = [profile[s].get(k, 0) for s in steps]
        lines.append(f"| {k} | " + " | ".join(f"{v:,}" for v in row) + f" | {sum(row):,} |")
    totals = [sum(profile[s].values()) for s in steps]
    lines.append("| **gas used** | " + " | ".join(f"**{v:,}**" for v in totals) + f" | **{sum(totals):,}** |")
    return "\n".join(lines)
