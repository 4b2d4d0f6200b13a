"""What the benchmarks share: the sentence workload, statistics, process memory, the machine."""

from __future__ import annotations

import math
import os
import platform
import random
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path

from node.devnet import ROOT

WORDS = [
    "the",
    "a",
    "our",
    "every",
    "new",
    "old",
    "small",
    "large",
    "quiet",
    "fast",
    "slow",
    "network",
    "chain",
    "block",
    "worker",
    "model",
    "verifier",
    "token",
    "credit",
    "price",
    "sentence",
    "embedding",
    "vector",
    "river",
    "mountain",
    "city",
    "engineer",
    "protocol",
    "weather",
    "coffee",
    "market",
    "garden",
    "music",
    "photograph",
    "kitchen",
    "window",
    "morning",
    "evening",
    "winter",
    "summer",
    "language",
    "question",
    "answer",
    "computes",
    "verifies",
    "embeds",
    "stores",
    "forgets",
    "audits",
    "streams",
    "reads",
    "writes",
    "pays",
    "refunds",
    "opens",
    "closes",
]


def sentences(n: int, seed: int = 11) -> list[bytes]:
    """Deterministic sentences of 6 to 40 words (about 8 to 50 tokens), the shape of search queries
    and short passages that embedding services see."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        words = [rng.choice(WORDS) for _ in range(rng.randint(6, 40))]
        out.append(f"{i} {' '.join(words)}.".encode())
    return out


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank percentile (q in [0, 1])."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def wilson(successes: int, trials: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of a binomial proportion (95% by default)."""
    if trials == 0:
        return 0.0, 1.0
    p = successes / trials
    denom = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denom
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def peak_rss_mib(pid: int) -> float:
    """A live process's peak resident set size (VmHWM), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise ValueError(f"no VmHWM for pid {pid}")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a live process has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def paused(pids: list[int]) -> Iterator[None]:
    """Stops the processes (SIGSTOP) for the body and resumes them (SIGCONT) in reverse order, so
    that a measurement has the cores to itself: list servers last, so they are resumed first."""
    stopped: list[int] = []
    try:
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
            stopped.append(pid)
        yield
    finally:
        for pid in reversed(stopped):
            os.kill(pid, signal.SIGCONT)


@contextmanager
def stopwatch() -> Iterator[list[float]]:
    """`with stopwatch() as t: ...`; afterwards t[0] is the elapsed seconds."""
    elapsed = [0.0]
    started = time.perf_counter()
    try:
        yield elapsed
    finally:
        elapsed[0] = time.perf_counter() - started


def machine() -> dict[str, object]:
    """The machine and the versions a result was measured with."""
    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_kib = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kib = int(line.split()[1])
    anvil = subprocess.run(["anvil", "--version"], capture_output=True, text=True, check=False).stdout.strip()
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT, check=False
    ).stdout.strip()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kib / 2**20, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "commit": commit or "unknown",
        "versions": {
            pkg: version(pkg) for pkg in ("torch", "transformers", "web3", "eth-account", "coincurve", "fastapi")
        }
        | {"anvil": anvil.splitlines()[0] if anvil else "unknown", "solc": "0.8.30"},
    }


def write_generated(doc: Path, begin: str, end: str, body: str, append_missing: bool = False) -> None:
    """Replaces the generated part of `doc`, between its `begin` and `end` markers, with `body`
    (appended with its markers at the end if `append_missing` and they are not there yet)."""
    text = doc.read_text()
    if begin not in text:
        if not append_missing:
            raise ValueError(f"{doc} has no {begin} marker")
        doc.write_text(f"{text}\n{begin}\n{body}\n{end}\n")
        return
    doc.write_text(text[: text.index(begin)] + begin + "\n" + body + "\n" + text[text.index(end) :])
