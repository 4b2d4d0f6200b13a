"""Single-job latency on a local devnet: submit -> result available, and submit -> finalized.

    python -m bench.latency [--jobs 20] [--model digits-mlp]

It starts a devnet (anvil with mixed mining: a block per transaction and one per second when
idle), one worker and one verifier as separate processes, then submits one job at a time and
times, from the `createBatches` call: the result being fetchable from the worker and matching the
hash on chain, and the batch being finalized (challenge window 2 s).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from pydantic import SecretStr
from sklearn.datasets import load_digits

from bench.common import percentile
from node.chain.client import ChainClient
from node.chain.deploy import MarketParams
from node.client import ClientError, RequesterClient
from node.devnet import Devnet
from node.inference.models.digits import encode_pixels


def measure(jobs: int, model: str, root: Path) -> dict[str, object]:
    devnet = Devnet(root, market=MarketParams(base_audit_bps=1000, challenge_window=2, verdict_window=10)).up()
    try:
        devnet.fund(2, 10_000)
        devnet.start_worker("worker", 6)
        devnet.start_verifier("verifier", 16)
        key = SecretStr("0x" + devnet.accounts[2].key.hex().removeprefix("0x"))
        client = RequesterClient(ChainClient(devnet.anvil.url, devnet.deployments_path, key))
        digits = load_digits()
        available, finalized = [], []
        for i in range(jobs):
            payload = encode_pixels(digits.data[i]) if model == "digits-mlp" else b"latency probe sentence %d" % i
            started = time.perf_counter()
            sub = client.submit(model, [payload], 20_000)
            while True:
                try:
                    client.fetch(sub.job_ids[0])
                    break
                except ClientError:
                    time.sleep(0.01)
            available.append(time.perf_counter() - started)
            client.wait(sub.batch_id, {"finalized"}, timeout=60, poll=0.05)
            finalized.append(time.perf_counter() - started)
        return {
            "model": model,
            "jobs": jobs,
            "submit_to_result_p50_s": statistics.median(available),
            "submit_to_result_p95_s": percentile(available, 0.95),
            "submit_to_finalized_p50_s": statistics.median(finalized),
            "submit_to_finalized_p95_s": percentile(finalized, 0.95),
            "challenge_window_s": 2,
        }
    finally:
        devnet.down()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Single-job latency on a local devnet.")
    parser.add_argument("--jobs", type=int, default=20)
    parser.add_argument("--model", default="digits-mlp")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as root:
        print(json.dumps(measure(args.jobs, args.model, Path(root)), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
