"""The typed protocol layer against the contracts: every enum against the interfaces' Solidity,
every view struct against the compiled ABI, and the job-id arithmetic."""

from __future__ import annotations

import re
from enum import IntEnum

import pytest

from node.chain.artifacts import REPO_ROOT, load_artifacts
from node.chain.protocol import (
    Audit,
    AuditStatus,
    Batch,
    BatchStatus,
    CreditReason,
    Params,
    Role,
    Stake,
    VerificationMode,
    Vote,
    batch_of,
    format_job,
    index_of,
    job_id,
    parse_job,
)

INTERFACES = REPO_ROOT / "contracts" / "interfaces"


def solidity_enum(name: str) -> list[str]:
    for path in INTERFACES.glob("*.sol"):
        found = re.search(r"enum\s+" + name + r"\s*\{([^}]*)\}", path.read_text())
        if found:
            return [m.strip() for m in found.group(1).split(",") if m.strip()]
    raise AssertionError(f"enum {name} not found in {INTERFACES}")


def screaming(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).upper()


@pytest.mark.parametrize("enum", [BatchStatus, AuditStatus, Vote, Role, VerificationMode, CreditReason])
def test_enum_matches_the_interface_member_for_member(enum: type[IntEnum]) -> None:
    members = solidity_enum(enum.__name__)
    assert [e.name for e in enum] == [screaming(m) for m in members]
    assert [e.value for e in enum] == list(range(len(members)))


def view_components(contract: str, function: str) -> list[dict]:
    abi = load_artifacts()[contract].abi
    entry = next(e for e in abi if e.get("type") == "function" and e["name"] == function)
    outputs = entry["outputs"]
    return outputs[0]["components"]


@pytest.mark.parametrize(
    ("struct", "contract", "function"),
    [
        (Batch, "JobMarket", "getBatch"),
        (Audit, "VerificationGame", "getAudit"),
        (Stake, "Staking", "getStake"),
        (Params, "JobMarket", "params"),
    ],
)
def test_view_struct_matches_the_abi_field_for_field(struct: type, contract: str, function: str) -> None:
    struct.check_abi(view_components(contract, function))


def test_decode_names_fields_and_types_enums() -> None:
    raw = ("0x" + "11" * 20, 5, 2, 1000, False, "0x" + "22" * 20, 99, 7, 3, 600)
    batch = Batch.decode(raw)
    assert batch.status is BatchStatus.COMMITTED
    assert (batch.price, batch.size, batch.seed_block, batch.timeout) == (5, 2, 7, 600)


def test_decode_rejects_a_tuple_of_the_wrong_length() -> None:
    with pytest.raises(ValueError, match="Batch: 3 fields, expected 10"):
        Batch.decode((1, 2, 3))


def test_check_abi_rejects_a_renamed_field() -> None:
    components = [{"name": n} for n in Stake.abi_fields]
    components[1] = {"name": "frozen"}
    with pytest.raises(ValueError, match="Stake has fields"):
        Stake.check_abi(components)


def test_job_id_round_trips_through_batch_and_index_and_text() -> None:
    job = job_id(12, 3)
    assert (batch_of(job), index_of(job)) == (12, 3)
    assert format_job(job) == "12.3"
    assert parse_job("12.3") == job == parse_job(str(job))


def test_job_id_rejects_an_index_outside_16_bits() -> None:
    with pytest.raises(ValueError, match="job index 65536"):
        job_id(1, 65536)
