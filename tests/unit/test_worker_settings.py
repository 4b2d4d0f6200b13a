"""How many jobs a worker takes on at once: a quarter of the open backlog, within bounds that
scale with its forward threads, unless a fixed round is configured."""

import pytest

from node.config import ROUND_JOBS_PER_THREAD, WorkerSettings


@pytest.mark.parametrize(
    ("threads", "backlog", "expected"),
    [
        (1, 0, ROUND_JOBS_PER_THREAD),
        (1, 100, ROUND_JOBS_PER_THREAD),
        (1, 1_000, 250),
        (1, 4_096, 4 * ROUND_JOBS_PER_THREAD),
        (2, 1_000, 2 * ROUND_JOBS_PER_THREAD),
        (2, 4_096, 1_024),
        (2, 100_000, 8 * ROUND_JOBS_PER_THREAD),
    ],
)
def test_round_is_a_quarter_of_the_backlog_within_its_bounds(threads, backlog, expected):
    assert WorkerSettings(threads=threads).round_jobs(backlog) == expected


def test_round_is_fixed_when_configured_whatever_the_backlog():
    settings = WorkerSettings(threads=2, take_max_jobs=32)
    assert [settings.round_jobs(backlog) for backlog in (0, 1_000, 100_000)] == [32, 32, 32]


def test_every_component_defaults_to_the_deployments_file_the_cli_devnet_writes(monkeypatch, tmp_path):
    from node.config import GatewaySettings, VerifierSettings, default_deployments

    monkeypatch.delenv("NIGHTSHIFT_DEPLOYMENTS", raising=False)
    monkeypatch.setenv("NIGHTSHIFT_HOME", str(tmp_path))
    expected = tmp_path / "devnet" / "deployments.json"
    assert default_deployments() == expected
    assert WorkerSettings().deployments == VerifierSettings().deployments == GatewaySettings().deployments == expected
    monkeypatch.setenv("NIGHTSHIFT_DEPLOYMENTS", str(tmp_path / "other.json"))
    assert WorkerSettings().deployments == GatewaySettings().deployments == tmp_path / "other.json"
