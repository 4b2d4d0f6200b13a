"""Detection of a cheating worker, measured on a devnet against the theory 1 - (1 - p)^k.

    python -m bench.detection [--jobs 4096] [--cheat-rate 0.25] [--audit-rate 0.1]

A worker that answers a fraction r of its digit jobs with another input's label (fault injection)
runs against four honest verifiers (an auditor and a dispute panel) with audit rate p, in small
batches so that the number k of cheats in a batch varies. After every batch is final, the bench
re-runs the model itself to find which commitments were wrong (the cheats) and reads from the
chain which batches were forfeited (caught). The verifiers make no challenges of their own
here, which would only catch more.

Each job is audited with probability p, independently (the draw is per job), and an audited
cheat is always proven, which forfeits the whole batch; so a batch with k cheats is caught with
probability 1 - (1 - p)^k, and a batch with none never is. The bench groups the batches by k and
compares the fraction caught with the theory.

The intervals are simultaneous: Wilson intervals at the Bonferroni level 1 - 0.05/m each, for m
groups, so that all hold together in at least 95% of runs when the theory is right.
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

import faults
from bench.common import wilson
from node.chain.deploy import MarketParams
from node.chain.protocol import BatchStatus, batch_of, job_id, result_commitment
from node.devnet import Devnet
from node.inference.engine import InferenceEngine
from node.inference.models.digits import encode_pixels

MODEL = "digits-mlp"
PRICE = 1_000
REQUESTER = 2
BATCH = 8  # At r = 0.25 a batch holds from 0 to about 5 cheats.
JOBS = 4096
GROUP_SIZES = (0, 1, 2, 3, 4)
CONFIDENCE = 0.95  # Simultaneous, over all the group sizes.
Z = NormalDist().inv_cdf(1 - (1 - CONFIDENCE) / (2 * len(GROUP_SIZES)))  # About 2.58.
FINAL = (BatchStatus.FINALIZED, BatchStatus.FORFEITED)


BLOCKHASH_REACH = 256


def measure(root: Path, jobs: int = JOBS, cheat_rate: float = 0.25, audit_rate: float = 0.1) -> dict[str, Any]:
    market = MarketParams(base_audit_bps=round(audit_rate * 10_000), challenge_window=2, verdict_window=60)
    devnet = Devnet(root, market=market, models=[MODEL]).up()
    try:
        devnet.fund(REQUESTER, 10**5)
        sender = devnet.senders[REQUESTER]
        contract = devnet.market_contract
        sender.transact(devnet.credit.functions.approve(contract.address, 2**256 - 1))
        devnet.start_worker(
            "cheater", 6, stake=10**5, module=faults.WORKER, faults__wrong_rate=cheat_rate, faults__seed=7
        )
        for i in range(4):
            # Audits alone: challenges (each verifier re-checks a few unaudited jobs) only add.
            devnet.start_verifier(f"verifier{i}", 16 + i, stake=10**5, challenge_rate=0)
        digits = load_digits()
        inputs = [encode_pixels(digits.data[i % len(digits.data)]) for i in range(jobs)]
        model_id = bytes.fromhex(next(s.model_id for s in devnet.specs if s.name == MODEL)[2:])
        requests = [
            (model_id, PRICE, 600, 0, False, [(keccak(x), x, "") for x in inputs[i : i + BATCH]])
            for i in range(0, jobs, BATCH)
        ]
        first = devnet.w3.eth.block_number + 1
        create = contract.functions.createBatches
        sent = [sender.send_nowait(create(requests[i : i + 16])) for i in range(0, len(requests), 16)]
        batch_ids = []
        for tx_hash in sent:
            created = contract.events.BatchCreated().process_receipt(sender.wait(tx_hash), errors=DISCARD)
            batch_ids += [e["args"]["batchId"] for e in created]
        _wait_final(devnet, batch_ids)
        return _score(devnet, first, inputs, batch_ids, cheat_rate, audit_rate)
    finally:
        devnet.down()


def _wait_final(devnet: Devnet, batch_ids: list[int], timeout: float = 900.0) -> None:
    """Until every batch is finalized or forfeited."""
    pending = list(batch_ids)
    deadline = time.monotonic() + timeout
    while pending:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(pending)} batches not final after {timeout}s")
        pending = [b for b in pending if devnet.view.batch_status(b) not in FINAL]
        if pending:
            time.sleep(1.0)


def _score(
    devnet: Devnet, first: int, inputs: list[bytes], batch_ids: list[int], cheat_rate: float, p: float
) -> dict[str, Any]:
    market, game = devnet.market_contract.events, devnet.game.events
    committed: dict[int, tuple[str, list[bytes]]] = {
        e["args"]["batchId"]: (e["args"]["worker"], [bytes(h) for h in e["args"]["outputHashes"]])
        for e in market.ResultsCommitted().get_logs(from_block=first)
    }
    seeds = {e["args"]["batchId"]: e["args"]["seedBlock"] for e in market.ResultsCommitted().get_logs(from_block=first)}
    drawn_at = {e["args"]["batchId"]: e["blockNumber"] for e in market.BatchDrawn().get_logs(from_block=first)}
    drawn_at |= {e["args"]["batchId"]: e["blockNumber"] for e in game.AuditsDrawn().get_logs(from_block=first)}
    for e in market.BatchFinalized().get_logs(from_block=first):  # Drawn in the finalize itself.
        drawn_at.setdefault(e["args"]["batchId"], e["blockNumber"])
    # A batch drawn once its seed block left `blockhash` reach has every job audited (the game
    # never draws such a seed afresh): its odds are not 1-(1-p)^k, so the groups leave it out.
    past_reach = {b for b, block in drawn_at.items() if block - seeds[b] > BLOCKHASH_REACH}
    forfeited = {e["args"]["batchId"] for e in market.BatchForfeited().get_logs(from_block=first)}
    audited = {e["args"]["jobId"] for e in game.AuditAssigned().get_logs(from_block=first)}
    slashed = [e["args"] for e in market.PartySlashed().get_logs(from_block=first) if e["args"]["role"] == 1]
    engine = InferenceEngine()
    engine.load([MODEL])
    plugin = engine.plugin_by_name(MODEL)
    outputs = engine.run(plugin.model_id, inputs)
    cheats: dict[int, list[int]] = {}  # Batch id -> the jobs answered wrongly.
    for n, batch_id in enumerate(batch_ids):
        worker, hashes = committed[batch_id]
        cheats[batch_id] = [
            job_id(batch_id, i)
            for i, h in enumerate(hashes)
            if h != result_commitment(worker, job_id(batch_id, i), outputs[n * BATCH + i])
        ]
    groups = []
    for k in GROUP_SIZES:
        batches = [b for b in batch_ids if len(cheats[b]) == k and b not in past_reach]
        hits = sum(b in forfeited for b in batches)
        low, high = wilson(hits, len(batches), Z)
        theory = 1 - (1 - p) ** k
        groups.append({
            "k": k, "trials": len(batches), "caught": hits, "measured": hits / len(batches) if batches else 0.0,
            "ci95": [low, high], "theory": theory, "within_ci": low <= theory <= high,
        })  # fmt: skip
    audited_cheats = [j for js in cheats.values() for j in js if j in audited]
    return {
        "model": MODEL,
        "jobs": len(inputs),
        "batch": BATCH,
        "audit_rate": p,
        "cheat_rate": cheat_rate,
        "cheats": sum(map(len, cheats.values())),
        "audited_jobs": len(audited),
        "audited_cheats": len(audited_cheats),
        "audited_cheats_not_caught": sum(batch_of(j) not in forfeited for j in audited_cheats),
        "batches_forfeited": len(forfeited),
        "batches_drawn_past_reach": len(past_reach),
        "batches_not_drawn": len(set(batch_ids) - set(drawn_at)),
        "honest_batches_forfeited": sum(not cheats[b] for b in forfeited),
        "verifiers_slashed": len(slashed),
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
