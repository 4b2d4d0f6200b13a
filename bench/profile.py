"""Where the nodes' CPU goes in an end-to-end run: py-spy samples of every node process.

    python -m bench.profile [--workers 1] [--batch 64] [--jobs 2048] [--raw DIR]

It starts a devnet as the throughput benchmark does (all-MiniLM-L6-v2, p = 0.1), warms it up,
then samples each node with py-spy (50 times a second, every thread) while a workload runs. Each
busy sample is put in one kind of work by the frames on its stack, the model's forward pass
first; samples of a thread that waits (a lock, a selector, a thread pool's queue) are idle and
left out, and a thread blocked reading a socket is I/O wait. Next to the shares stands each
process's CPU time over the run, from /proc. `--raw DIR` keeps py-spy's raw stacks (one line per
distinct stack with its count, the collapsed format flame graph tools read).
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from bench.common import sentences
from bench.throughput import devnet_for, run_workload

RATE = 50  # Samples per second: a few percent of one core for py-spy.
IDLE_LEAVES = {
    "Condition.wait",
    "Event.wait",
    "EpollSelector.select",
    "_worker",
    "sleep",
    "Thread._wait_for_tstate_lock",
    "Queue.get",
    "SimpleQueue.get",
}
IO_WAIT = "waiting on a socket (JSON-RPC, HTTP)"
# (kind of work, frame prefixes that mark it): the first kind with a frame on the stack wins.
KINDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("model forward (PyTorch)", ("Module._call_impl",)),
    ("inference around the model (tokenize, pool, encode outputs)", ("InferenceEngine.run", "Worker._compute")),
    ("chain events (poll, decode, handle)", ("EventListener.",)),
    ("transactions (simulate, sign, send, receipts)", ("TxSender.",)),
    ("HTTP (serve results, fetch outputs)", ("uvicorn", "starlette", "FastAPI", "Verifier._fetch", "Verifier._get")),
    ("store (SQLite)", ("Store.",)),
    ("other chain calls", ("ChainClient.", "ContractFunction.call", "Eth.")),
)
OTHER = "other Python"


def py_spy() -> str:
    """The py-spy binary (a dev dependency): next to this Python, or on PATH."""
    beside = Path(sys.executable).parent / "py-spy"
    found = str(beside) if beside.exists() else shutil.which("py-spy")
    if found is None:
        raise RuntimeError("py-spy is not installed: run `make install`")
    return found


def kind_of(frames: list[str]) -> str:
    """The kind of work of one sampled stack (function names, root first)."""
    leaf = frames[-1]
    if leaf in IDLE_LEAVES:
        return "idle"
    if leaf == "SocketIO.readinto":
        return IO_WAIT
    for kind, markers in KINDS:
        if any(f.startswith(markers) for f in frames):
            return kind
    return OTHER


def summarize(raw: str) -> dict[str, Any]:
    """Samples by thread and by kind of work, from py-spy's raw output (`--threads`)."""
    threads: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        head, *frames = stack.split(";")
        functions = [f.split(" (")[0] for f in frames]
        if not functions:
            continue
        kind = kind_of(functions)
        if kind == "idle":
            continue
        threads[head.split(": ", 1)[-1].rstrip("0123456789_")] += int(count)
        kinds[kind] += int(count)
    busy = sum(kinds.values())
    return {
        "samples": busy,
        "by_kind": {k: round(v / busy, 4) for k, v in kinds.most_common()} if busy else {},
        "by_thread": {k: round(v / busy, 4) for k, v in threads.most_common()} if busy else {},
    }


def measure(
    root: Path, workers: int = 1, batch: int = 64, jobs: int = 2048, raw_dir: Path | None = None
) -> dict[str, Any]:
    """Profiles every node process of one end-to-end run."""
    texts = sentences(jobs)
    devnet = devnet_for(root, workers, 2)
    try:
        run_workload(devnet, texts[:256], batch)  # Warm-up: models, connections, caches.
        nodes = {n.name: n.proc.pid for n in devnet.nodes if n.proc is not None}
        out = raw_dir or root / "profiles"
        out.mkdir(parents=True, exist_ok=True)
        command = [py_spy(), "record", "--rate", str(RATE), "--threads", "--nolineno", "--format", "raw"]
        spies = {
            name: subprocess.Popen(
                [*command, "--pid", str(pid), "--output", str(out / f"{name}.txt")],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for name, pid in nodes.items()
        }
        row = run_workload(devnet, texts, batch)
        for process in spies.values():
            process.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT.
        for process in spies.values():
            process.wait(timeout=60)
        processes = {
            name: summarize((out / f"{name}.txt").read_text()) | {"cpu_s": row["cpu_s"][name]} for name in nodes
        }
        run = {"workers": workers, "batch": batch, "jobs": jobs, "jobs_per_s": row["jobs_per_s"], "cpu_s": row["cpu_s"]}
        return run | {"processes": processes}
    finally:
        devnet.down()


def render(result: dict[str, Any]) -> str:
    """A Markdown table per process: the share of its busy samples in each kind of work."""
    lines = [
        f"{result['workers']} worker(s), batch {result['batch']}, {result['jobs']} jobs, "
        f"{result['jobs_per_s']:.1f} jobs/s end to end. CPU seconds over the run: "
        + ", ".join(f"{k} {v}" for k, v in result["cpu_s"].items())
        + ".",
    ]
    for name, p in result["processes"].items():
        lines += [
            "",
            f"{name}: {p['cpu_s']} CPU seconds, {p['samples']} busy samples; by thread: "
            + ", ".join(f"{t} {share:.0%}" for t, share in p["by_thread"].items()),
            "",
            "| kind of work | share of busy samples |",
            "|---|---:|",
            *[f"| {k} | {share:.1%} |" for k, share in p["by_kind"].items()],
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Where the nodes' CPU goes in an end-to-end run (py-spy).")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--jobs", type=int, default=2048)
    parser.add_argument("--raw", type=Path, help="keep py-spy's raw stacks in this directory")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as root:
        result = measure(Path(root), args.workers, args.batch, args.jobs, args.raw)
    print(json.dumps(result, indent=2))
    print()
    print(render(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
