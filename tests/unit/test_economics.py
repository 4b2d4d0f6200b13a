"""The closed-form economics agree with the market's own checks, and the doc's tables are the
ones `bench.economics` generates."""

from dataclasses import replace

from bench.economics import (
    BEGIN,
    DOC,
    END,
    Params,
    capture,
    capture_condition,
    cheating_worker,
    honesty_condition,
    market_accepts,
)
from bench.economics import tables as economics_tables
from node.chain.deploy import MarketParams


def test_the_defaults_make_cheating_lose_and_the_old_ones_did_not():
    defaults = Params.from_market(MarketParams())
    assert defaults == Params()
    assert honesty_condition(defaults)[0] and capture_condition(defaults)[0]
    assert market_accepts(MarketParams())
    old = replace(defaults, collateral=2.0)  # Finding 6: collateral 2x the price.
    assert not honesty_condition(old)[0]
    # There, with no colluder, garbage expected about 0.65 of the price per job.
    assert abs(cheating_worker(replace(old, collusion=0.0), 1.0, 1, 0.0) - 0.646) < 0.01


def test_the_boundaries_are_the_contracts():
    # tests/contracts/test_job_market_create.py: 140,817 bps passes, 140,816 is refused...
    assert market_accepts(MarketParams(collateral_bps=140_817))
    assert not market_accepts(MarketParams(collateral_bps=140_816))
    assert not market_accepts(MarketParams(collateral_bps=20_000))
    # ...and with every job audited and collateral 0.6 of the price, three seats are capturable,
    # five are not.
    assert not market_accepts(MarketParams(base_audit_bps=10_000, collateral_bps=6_000))
    assert market_accepts(MarketParams(base_audit_bps=10_000, collateral_bps=6_000, panel_size=5))
    tight = replace(Params(), audit_rate=1.0, collateral=0.6)
    assert capture(tight) == 0.15625
    assert not capture_condition(tight)[0]
    assert capture_condition(replace(tight, panel_size=5))[0]


def test_the_docs_tables_are_generated():
    text = DOC.read_text()
    assert text.split(BEGIN, 1)[1].split(END, 1)[0].strip() == economics_tables().strip()
