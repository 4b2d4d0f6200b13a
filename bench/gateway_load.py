"""Load on the OpenAI-compatible gateway: requests/s and latency at 1, 8 and 32 clients.

    python -m bench.gateway_load [--clients 1 8 32] [--seconds 15] [--inputs 4]

A devnet (anvil with mixed mining, one worker, one verifier, the gateway, each a process of its
own) serves all-MiniLM-L6-v2. Each client is a thread that posts `/v1/embeddings` requests of
`--inputs` texts back to back for `--seconds`, as the stock `openai` client does: a 429 is
waited out for its `Retry-After` and sent again, and the latency of a request is from its first
try to its answer, waits included. Every answer is a job paid on chain, computed by the worker
and checked by the gateway against the hash the worker committed. Reported per client count:
answered requests per second, latency p50 and p99, 429s met, and the gateway's peak memory.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from bench.common import peak_rss_mib, percentile
from node.chain.deploy import MarketParams
from node.config import GatewaySettings
from node.devnet import Devnet

MODEL = "all-MiniLM-L6-v2"
OPERATOR = 2  # The account the gateway pays from.


class _Client(threading.Thread):
    def __init__(self, url: str, inputs: int, until: float, index: int):
        super().__init__(daemon=True)
        self._url, self._inputs, self._until, self._index = url, inputs, until, index
        self.latencies: list[float] = []
        self.refused = 0
        self.errors: list[str] = []

    def run(self) -> None:
        with httpx.Client(timeout=60) as http:
            n = 0
            while time.perf_counter() < self._until:
                texts = [f"client {self._index} request {n} text {i}" for i in range(self._inputs)]
                n += 1
                started = time.perf_counter()
                while True:
                    response = http.post(self._url, json={"model": MODEL, "input": texts})
                    if response.status_code != 429:
                        break
                    self.refused += 1
                    time.sleep(float(response.headers.get("retry-after", "1")))
                if response.status_code != 200:
                    self.errors.append(f"{response.status_code} {response.text[:200]}")
                    continue
                assert len(response.json()["data"]) == self._inputs
                self.latencies.append(time.perf_counter() - started)


def load(url: str, clients: int, seconds: float, inputs: int) -> dict[str, Any]:
    started = time.perf_counter()
    threads = [_Client(url, inputs, started + seconds, i) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started  # Requests in flight at the end are waited for.
    latencies = [x for t in threads for x in t.latencies]
    errors = [e for t in threads for e in t.errors]
    if errors:
        raise RuntimeError(f"{len(errors)} requests failed, the first: {errors[0]}")
    return {
        "clients": clients,
        "requests": len(latencies),
        "requests_per_s": round(len(latencies) / elapsed, 2),
        "latency_p50_s": round(statistics.median(latencies), 3),
        "latency_p99_s": round(percentile(latencies, 0.99), 3),
        "refused_429": sum(t.refused for t in threads),
    }


def measure(clients: list[int], seconds: float, inputs: int, root: Path) -> dict[str, Any]:
    devnet = Devnet(root, market=MarketParams(challenge_window=5), models=[MODEL]).up()
    try:
        devnet.fund(OPERATOR, 100_000)
        devnet.start_worker("worker", 6)
        devnet.start_verifier("verifier", 16)
        gateway = devnet.start_gateway("gateway", OPERATOR)
        url = f"{gateway.url}/v1/embeddings"
        load(url, 1, 2.0, inputs)  # Warms the path up; not counted.
        rows = []
        for count in clients:
            rows.append(load(url, count, seconds, inputs))
        assert gateway.proc is not None
        return {
            "model": MODEL,
            "inputs_per_request": inputs,
            "seconds": seconds,
            "max_concurrent": GatewaySettings.model_fields["gateway_max_concurrent"].default,
            "rows": rows,
            "gateway_peak_rss_mib": round(peak_rss_mib(gateway.proc.pid), 1),
        }
    finally:
        devnet.down()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--inputs", type=int, default=4)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as root:
        print(json.dumps(measure(args.clients, args.seconds, args.inputs, Path(root)), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
