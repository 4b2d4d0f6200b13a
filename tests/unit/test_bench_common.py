"""The benchmarks' process pause: real child processes, read back from /proc."""

import subprocess
import time
from pathlib import Path

from bench.common import paused


def _state(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


def _wait_for(pid: int, states: set[str]) -> str:
    for _ in range(200):
        state = _state(pid)
        if state in states:
            return state
        time.sleep(0.01)
    return _state(pid)


def test_paused_stops_processes_for_the_body_and_resumes_them_after():
    procs = [subprocess.Popen(["sleep", "30"]) for _ in range(2)]
    try:
        pids = [p.pid for p in procs]
        with paused(pids):
            assert [_wait_for(pid, {"T"}) for pid in pids] == ["T", "T"]
        assert [_wait_for(pid, {"S", "R"}) in {"S", "R"} for pid in pids] == [True, True]
    finally:
        for p in procs:
            p.kill()
            p.wait()


def test_paused_resumes_the_processes_when_the_body_raises():
    proc = subprocess.Popen(["sleep", "30"])
    try:
        try:
            with paused([proc.pid]):
                raise RuntimeError("measurement failed")
        except RuntimeError:
            pass
        assert _wait_for(proc.pid, {"S", "R"}) in {"S", "R"}
    finally:
        proc.kill()
        proc.wait()
