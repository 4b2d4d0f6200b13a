"""Detection rate of a cheating worker, measured on a devnet against the theory 1 - (1 - p)^k.

    python -m bench.detection [--jobs 4096] [--cheat-rate 0.25] [--audit-rate 0.1]

A worker that answers a fraction r of its digit jobs with another input's label (fault injection)
runs against three honest verifiers (an auditor and a dispute panel of two) with audit rate p.
After every job is final, the bench re-runs the model itself to find which committed hashes were
wrong (the cheats) and reads from the chain which of them were rejected (caught).

Each cheat is audited with probability p, independently (the draw is per job), and an audited
cheat is always rejected, so a worker that cheats k times is caught at least once with
probability 1 - (1 - p)^k. The bench groups the cheats, in job order, into disjoint runs of k
and compares the fraction of runs caught with the theory.

Every group size is read from the same cheats, so one low or high draw moves them all, and five
95% intervals would together miss the theory in far more than 5% of runs. The intervals are
therefore simultaneous: Wilson intervals at the Bonferroni level 1 - 0.05/5 each, so that all
five hold together in at least 95% of runs when the theory is right.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from statistics import NormalDist
from typing import Any

from eth_utils import keccak
from sklearn.datasets import load_digits
from web3.logs import DISCARD

from bench.common import wilson
from node.chain.deploy import MarketParams
from node.devnet import Devnet
from node.inference.engine import InferenceEngine
from node.inference.models.digits import encode_pixels

MODEL = "digits-mlp"
PRICE = 1_000
REQUESTER = 2
BATCH = 64
JOBS = 4096
GROUP_SIZES = (1, 2, 5, 10, 20)
CONFIDENCE = 0.95  # Simultaneous, over all the group sizes.
Z = NormalDist().inv_cdf(1 - (1 - CONFIDENCE) / (2 * len(GROUP_SIZES)))  # About 2.58.


def measure(root: Path, jobs: int = JOBS, cheat_rate: float = 0.25, audit_rate: float = 0.1) -> dict[str, Any]:
    market = MarketParams(base_audit_bps=round(audit_rate * 10_000), challenge_window=2, verdict_window=60)
    devnet = Devnet(root, market=market, models=[MODEL]).up()
    try:
        devnet.fund(REQUESTER, 10**5)
        sender = devnet.senders[REQUESTER]
        contract = devnet.market_contract
        sender.transact(devnet.credit.functions.approve(contract.address, 2**256 - 1))
        devnet.start_worker("cheater", 6, stake=10**5, faults__wrong_rate=cheat_rate, faults__seed=7)
        for i in range(3):
            devnet.start_verifier(f"verifier{i}", 16 + i, stake=10**5)
        digits = load_digits()
        inputs = [encode_pixels(digits.data[i % len(digits.data)]) for i in range(jobs)]
        model_id = bytes.fromhex(next(s.model_id for s in devnet.specs if s.name == MODEL)[2:])
        requests = [
            (model_id, PRICE, 600, 0, False, [(keccak(x), x, "") for x in inputs[i : i + BATCH]])
            for i in range(0, jobs, BATCH)
        ]
        first = devnet.w3.eth.block_number + 1
        create = contract.functions.createBatches
        sent = [sender.send_nowait(create(requests[i : i + 4])) for i in range(0, len(requests), 4)]
        batch_ids = []
        for tx_hash in sent:
            created = contract.events.BatchCreated().process_receipt(sender.wait(tx_hash), errors=DISCARD)
            batch_ids += [e["args"]["batchId"] for e in created]
        job_ids = [(b << 16) | i for b in batch_ids for i in range(BATCH)]
        _wait_final(devnet, job_ids)
        return _score(devnet, first, inputs, job_ids, cheat_rate, audit_rate)
    finally:
        devnet.down()


def _wait_final(devnet: Devnet, job_ids: list[int], timeout: float = 600.0) -> None:
    """Until every job is finalized or rejected (job statuses 7 and 8)."""
    status = devnet.market_contract.functions.jobStatus
    pending = list(job_ids)
    deadline = time.monotonic() + timeout
    while pending:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(pending)} jobs not final after {timeout}s")
        pending = [j for j in pending if status(j).call() not in (7, 8)]
        if pending:
            time.sleep(1.0)


def _score(
    devnet: Devnet, first: int, inputs: list[bytes], job_ids: list[int], cheat_rate: float, p: float
) -> dict[str, Any]:
    events = devnet.market_contract.events
    committed: dict[int, bytes] = {}
    for e in events.ResultsCommitted().get_logs(from_block=first):
        for i, h in enumerate(e["args"]["outputHashes"]):
            committed[(e["args"]["batchId"] << 16) | i] = bytes(h)
    audited = {e["args"]["jobId"] for e in events.AuditAssigned().get_logs(from_block=first)}
    # Drawn for audit, but no verifier had the free stake to take it on: not audited.
    unavailable = {e["args"]["jobId"] for e in events.AuditUnavailable().get_logs(from_block=first)}
    rejected = {e["args"]["jobId"] for e in events.JobRejected().get_logs(from_block=first)}
    engine = InferenceEngine()
    engine.load([MODEL])
    plugin = engine.plugin_by_name(MODEL)
    honest = [keccak(out) for out in engine.run(plugin.model_id, inputs)]
    cheats = [j for j, h in zip(job_ids, honest, strict=True) if committed[j] != h]
    caught = [j in rejected for j in cheats]
    false_rejections = len(rejected - set(cheats))
    groups = []
    for k in GROUP_SIZES:
        runs = [caught[i : i + k] for i in range(0, len(caught) - k + 1, k)]
        hits = sum(any(run) for run in runs)
        low, high = wilson(hits, len(runs), Z)
        theory = 1 - (1 - p) ** k
        groups.append({
            "k": k, "trials": len(runs), "caught": hits, "measured": hits / len(runs) if runs else 0.0,
            "ci95": [low, high], "theory": theory, "within_ci": low <= theory <= high,
        })  # fmt: skip
    return {
        "model": MODEL,
        "jobs": len(job_ids),
        "audit_rate": p,
        "cheat_rate": cheat_rate,
        "cheats": len(cheats),
        "audited_jobs": len(audited),
        "audited_cheats": sum(j in audited for j in cheats),
        "audits_unavailable": len(unavailable),
        "caught": sum(caught),
        "honest_jobs_rejected": false_rejections,
        "groups": groups,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Detection rate of a cheating worker against 1-(1-p)^k.")
    parser.add_argument("--jobs", type=int, default=JOBS)
    parser.add_argument("--cheat-rate", type=float, default=0.25)
    parser.add_argument("--audit-rate", type=float, default=0.1)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as root:
        print(json.dumps(measure(Path(root), args.jobs, args.cheat_rate, args.audit_rate), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
