"""How the benchmark sizes its end-to-end workloads to the machine's raw PyTorch speed."""

import pytest

from bench.throughput import JOBS, MIN_JOBS, workload_size


@pytest.mark.parametrize(
    ("raw_per_s", "expected"),
    [
        (190.0, (JOBS, 512)),  # A machine at full speed keeps the full workloads.
        (95.0, (3584, 256)),  # 40 s of raw work is 3,800 jobs: rounded down to a multiple of 512.
        (54.2, (2048, 128)),  # A machine at a third of its speed: 2,168 jobs, 8 batches of 256.
        (10.0, (MIN_JOBS, 128)),  # Never so small that the run's fixed tail dominates.
    ],
)
def test_workload_size_follows_raw_speed_within_bounds(raw_per_s, expected):
    assert workload_size(raw_per_s) == expected
