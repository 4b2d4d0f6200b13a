"""How the benchmark sizes its end-to-end workloads to the machine's raw PyTorch speed."""

import pytest

from bench.throughput import JOBS, MIN_JOBS, workload_size


@pytest.mark.parametrize(
    ("raw_per_s", "expected"),
    [
        (190.0, (JOBS, 512)),  # A machine at full speed keeps the full workloads.
        (117.0, (3840, 320)),  # 35 s of raw work is 4,095 jobs: rounded down to a multiple of 256.
        (71.2, (2304, 192)),  # A machine at a third of its speed: about 35 s of raw work.
        (10.0, (MIN_JOBS, 128)),  # Never so small that the run's fixed tail dominates.
    ],
)
def test_workload_size_follows_raw_speed_within_bounds(raw_per_s, expected):
    assert workload_size(raw_per_s) == expected
