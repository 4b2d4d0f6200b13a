"""The contracts' storage layout, pinned: the packed records (a batch, an account, an audit, a
stake) each fill one slot in this field order, so that a change to a struct that
would split a word, or move a field an off-chain reader relies on, fails here first.

The layout comes from the compiler itself (solc-js's `storageLayout` output), not from a
hand-kept table of shifts."""

import json
import subprocess
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("contracts/JobMarket.sol", "contracts/VerificationGame.sol", "contracts/Staking.sol")


@cache
def layouts() -> dict[str, dict]:
    sources = {p: {"content": (ROOT / p).read_text()} for p in SOURCES}
    request = {
        "language": "Solidity",
        "sources": sources,
        "settings": {"outputSelection": {"*": {"*": ["storageLayout"]}}},
    }
    done = subprocess.run(
        ["node", "scripts/solc.js", "--standard-json"],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    output = json.loads(done.stdout)
    errors = [e["formattedMessage"] for e in output.get("errors", []) if e["severity"] == "error"]
    assert not errors, errors
    return {name: c["storageLayout"] for path in SOURCES for name, c in output["contracts"][path].items()}


def struct(contract: str, name: str) -> list[tuple[str, int, int]]:
    """(field, slot, byte offset) of each member of struct `name` as `contract` stores it."""
    types = layouts()[contract]["types"]
    (found,) = [t for key, t in types.items() if key.startswith(f"t_struct({name})")]
    return [(m["label"], int(m["slot"]), m["offset"]) for m in found["members"]]


def variables(contract: str) -> list[tuple[str, int]]:
    return [(v["label"], int(v["slot"])) for v in layouts()[contract]["storage"]]


@pytest.mark.parametrize(
    ("contract", "name", "fields"),
    [
        (
            "JobMarket",
            "BatchSlot",
            [
                ("requesterId", 0), ("workerId", 4), ("price", 8), ("size", 13), ("auditBps", 15),
                ("status", 17), ("reopenOnExpiry", 18), ("deadline", 19), ("seedBlock", 24), ("timeout", 29),
            ],
        ),
        ("JobMarket", "Account", [("id", 0), ("workerLocked", 4), ("balance", 12), ("feesOwed", 24)]),
        (
            "VerificationGame",
            "AuditSlot",
            [("status", 0), ("round", 1), ("deadline", 2), ("seedBlock", 7), ("auditor", 12)],
        ),
        ("VerificationGame", "BatchAudits", [("open", 0), ("challengeableUntil", 2), ("forfeited", 7)]),
        (
            "Staking",
            "StakeSlot",
            [("amount", 0), ("unbondsAt", 8), ("active", 13), ("seat", 14), ("seatedAt", 18)],
        ),
    ],
)  # fmt: skip
def test_packed_record_fills_its_slots_in_field_order(contract, name, fields):
    """Each record is one slot."""
    assert struct(contract, name) == [(field, 0, offset) for field, offset in fields]


def test_contracts_keep_their_state_in_declared_order():
    assert variables("JobMarket") == [
        ("_batches", 0), ("_accounts", 1), ("_accountAt", 2), ("_auditFeesPaid", 3), ("_accountCount", 4),
        ("_nextBatchId", 5), ("_modelTerms", 6),
    ]  # fmt: skip
    assert [label for label, _ in variables("VerificationGame")] == [
        "_audits", "_disputes", "_panels", "_votes", "_onJob", "_batchAudits", "_seeds", "_bonded",
    ]  # fmt: skip
    assert [label for label, _ in variables("Staking")] == [
        "_stakes", "_workerUrls", "_pool", "_seatHolders", "_freeSeats", "_seatCount",
    ]  # fmt: skip
