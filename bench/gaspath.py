"""The gas of one lifecycle path at one batch size, with its floors, and the Markdown tables of
`bench.gas`'s results.

The floors a figure is measured against, per job: 21,000 per transaction, the calldata of the
transactions' input (4 gas per zero byte, 16 per other byte), and the cheapest SSTOREs that make
the transactions' net storage changes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from web3.types import TxReceipt

TX_BASE_GAS = 21_000
SSTORE_FRESH = 22_100  # Zero to non-zero, cold slot.
SSTORE_UPDATE = 5_000  # Non-zero to another value, cold slot.

# A transaction's (calldata floor, storage floor).
Floors = Callable[[TxReceipt], tuple[int, int]]


@dataclass
class PathGas:
    """Gas of one path at one batch size, with its floors."""

    path: str
    batch: int
    steps: dict[str, int] = field(default_factory=dict)
    txs: int = 0
    calldata: int = 0
    storage: int = 0
    jobs: int = 0  # Jobs the figures are shared over: the batch's, unless several batches ran.
    # Per step: [transactions, calldata floor, storage floor].
    step_floors: dict[str, list[int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.jobs = self.jobs or self.batch

    def add(self, step: str, receipts: list[TxReceipt], floors_of: Floors) -> None:
        """Adds a step's transactions, with their floors from `floors_of`."""
        self.steps[step] = self.steps.get(step, 0) + sum(int(r["gasUsed"]) for r in receipts)
        floors = self.step_floors.setdefault(step, [0, 0, 0])
        for r in receipts:
            calldata, storage = floors_of(r)
            floors[0] += 1
            floors[1] += calldata
            floors[2] += storage
            self.calldata += calldata
            self.storage += storage
        self.txs += len(receipts)

    @property
    def total(self) -> int:
        return sum(self.steps.values())

    @property
    def per_job(self) -> int:
        return self.total // self.jobs

    @property
    def base_per_job(self) -> int:
        """21,000 per transaction, per job: the floor no contract design can go under."""
        return TX_BASE_GAS * self.txs // self.jobs

    def as_dict(self) -> dict[str, object]:
        return {
            **asdict(self),
            "total": self.total,
            "per_job": self.per_job,
            "floor_base_per_job": self.base_per_job,
            "floor_calldata_per_job": self.calldata // self.jobs,
            "floor_storage_per_job": self.storage // self.jobs,
            "steps_per_job": {k: v // self.jobs for k, v in self.steps.items()},
            "step_floors_per_job": {
                k: {"base": TX_BASE_GAS * txs // self.jobs, "calldata": cd // self.jobs, "storage": st // self.jobs}
                for k, (txs, cd, st) in self.step_floors.items()
            },
        }


def render(result: dict[str, Any]) -> str:
    """A Markdown table: gas per job, its floors, and its steps."""
    lines = [
        "| path | batch | gas per job | floor: 21k per tx | floor: calldata | floor: storage | steps (per job) |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in [*result["rows"], result["cold"]]:
        steps = ", ".join(f"{k} {v:,}" for k, v in r["steps_per_job"].items())
        lines.append(
            f"| {r['path']} | {r['batch']} | {r['per_job']:,} | {r['floor_base_per_job']:,} | "
            f"{r['floor_calldata_per_job']:,} | {r['floor_storage_per_job']:,} | {steps} |"
        )
    lines.append(f"\nThe worker's `withdraw` is {result['withdraw_gas']:,} gas for any number of jobs.")
    steps = ", ".join(f"{step} {gas:,}" for step, gas in result["staking_gas"].items())
    lines.append(f"A verifier's stake changes, with 5 verifiers staked: {steps}.")
    return "\n".join(lines)


def render_steps(result: dict[str, Any], path: str = "unaudited") -> str:
    """A Markdown table: each step of one path per job at each batch size, with its floors."""
    lines = [
        "| batch | step | gas per job | floor: 21k per tx | floor: calldata | floor: storage |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    for r in result["rows"]:
        if r["path"] != path:
            continue
        for step, gas in r["steps_per_job"].items():
            f = r["step_floors_per_job"][step]
            lines.append(f"| {r['batch']} | {step} | {gas:,} | {f['base']:,} | {f['calldata']:,} | {f['storage']:,} |")
    return "\n".join(lines)


def render_profile(result: dict[str, Any]) -> str:
    """The per-call gas of one batch-1 unaudited job, as an indented list."""
    lines = []
    for step, calls in result["profile_batch1_unaudited"].items():
        for c in calls:
            lines.append(f"{'  ' * int(c['depth'])}- {step if c['depth'] == 0 else ''} {c['call']}: {c['gas_used']:,}")
    return "\n".join(line.replace("-  ", "- ") for line in lines)
