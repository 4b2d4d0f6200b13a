"""Issue 24's kill -9 campaign, short: one trial per target (worker, verifier, gateway,
requester). `make soak` runs it for 52 trials (`bench.kills`)."""

from bench.kills import TARGETS, campaign


def test_nodes_and_clients_killed_mid_flight_lose_no_job_no_credit_and_send_no_reverting_transaction(tmp_path):
    result = campaign(tmp_path, trials=len(TARGETS), seed=24)
    assert result["violations"] == []
    assert result["killed"] == dict.fromkeys(TARGETS, 1)
    assert result["jobs"] > 0
