"""`make bench`: every benchmark in one run, written to bench/results/latest.{json,md,png}.

    python -m bench [--out bench/results] [--jobs N] [--doc docs/performance.md]

1. gas per job for each lifecycle path at batch sizes 1, 16, 64, 256, with its floors;
2. end-to-end embedding throughput with 1 and 2 workers at p = 0.1, against raw PyTorch;
3. single-job latency, submit -> result and submit -> finalized;
4. verification cost at p = 0.05, 0.1, 0.25, and the detection rate of a cheater against theory;
5. the node's transaction sender against a plain web3.py loop;
6. peak RSS of the worker and the verifier;
7. where the nodes' CPU goes (py-spy) in an end-to-end run at batch 1 and batch 64;
8. the gateway under load: requests/s and latency p50/p99 at 1, 8 and 32 concurrent clients;
9. text generation: tokens/s against transformers' generate, time to first token through the
   gateway, the verifier's CPU per audited generation over the worker's, and the calibration of
   its policy (bench/textcal.py: false rejects in 1,000 honest generations, each cheat's detection).

Each part starts its own fresh anvil or devnet. About 10 minutes on 2 cores. On a slower machine
the end-to-end workloads shrink (from one raw PyTorch measurement taken first), so that the run
keeps within about 15 minutes; `--jobs` fixes their size instead.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import detection, gas, gateway_load, generation, latency, profile, textcal, throughput, txrate
from bench.common import machine
from bench.report import markdown, plot, write_doc

log = logging.getLogger("bench")
BATCHES = [1, 16, 64, 256]
AUDIT_RATES = [0.05, 0.1, 0.25]
# (batch, jobs) of the py-spy profiles, one worker, for full-size workloads of throughput.JOBS.
PROFILED = [(1, 1024), (64, 2048)]


def run(out: Path, jobs: int | None, doc: Path | None = None) -> dict[str, Any]:
    started = time.perf_counter()
    result: dict[str, Any] = {"started": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine()}
    cores = os.cpu_count() or 2
    size = result["sizing"] = throughput.size_workloads(cores, jobs)
    log.info("workloads: %s", size)
    jobs, scale = size["jobs"], size["jobs"] / throughput.JOBS
    profiled = [(b, max(256, round(n * scale))) for b, n in PROFILED]
    steps_s = result["steps_s"] = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        steps = [
            ("gas", lambda: gas.measure(tuple(BATCHES))),
            ("txrate", lambda: txrate.measure(300)),
            (
                "throughput",
                lambda: throughput.measure(jobs, BATCHES, [1, 2], cores, root / "tp", AUDIT_RATES, size["raw_sample"]),
            ),
            ("profile", lambda: [profile.measure(root / f"prof{b}", 1, b, n) for b, n in profiled]),
            ("detection", lambda: detection.measure(root / "det", detection.JOBS, 0.25, 0.1)),
            ("latency", lambda: [latency.measure(15, "all-MiniLM-L6-v2", root / "lat")]),
            ("gateway_load", lambda: gateway_load.measure([1, 8, 32], 15.0, 4, root / "gw")),
            ("generation", lambda: generation.measure(32, 20, root / "gen")),
            ("text_calibration", lambda: textcal.calibrate(1000, 200)),
        ]
        for name, step in steps:
            t = time.perf_counter()
            log.info("running %s", name)
            result[name] = step()
            steps_s[name] = round(time.perf_counter() - t, 1)
            log.info("%s done in %.0f s", name, steps_s[name])
    result["duration_s"] = time.perf_counter() - started
    out.mkdir(parents=True, exist_ok=True)
    (out / "latest.json").write_text(json.dumps(result, indent=2))
    plot(result, out / "latest.png")
    (out / "latest.md").write_text(markdown(result))
    if doc is not None:
        write_doc(doc, result)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Every Nightshift benchmark in one run.")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    parser.add_argument("--jobs", type=int, help="jobs per throughput workload (default: sized to the machine)")
    parser.add_argument("--doc", type=Path, help="write the targets table into this document's generated part")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    result = run(args.out, args.jobs, args.doc)
    print(markdown(result))
    print(f"\nwritten: {args.out / 'latest.json'}, {args.out / 'latest.md'}, {args.out / 'latest.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
