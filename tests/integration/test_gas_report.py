"""The gas report drives every lifecycle path on a fresh anvil and amortizes with batch size."""

import pytest

from bench.gas import measure
from bench.gaspath import TX_BASE_GAS, render, render_profile, render_steps
from bench.opcodes import KINDS
from bench.opcodes import render as render_kinds
from bench.throughput import blocks_gas


def by_path_of(rows):
    return {(r["path"], r["batch"]): r for r in rows}


def test_gas_report_covers_every_path_with_floors_and_amortizes_with_batch_size():
    result = measure((1, 8))
    # Last: a batch-1 job paid from the wallet, one taken on first, one drawn in a transaction of
    # its own, batch-1 jobs created alone, 64 per worker transaction, and a stream of batch-1 jobs.
    *rows, from_wallet, take_first, drawn_apart, busy, stream = result["rows"]
    by_path = by_path_of(rows)
    lone = by_path[("unaudited", 1)]
    # Paying the escrow with a transferFrom instead of from a deposit costs the create more.
    assert from_wallet["path"] == "unaudited, paid from the wallet" and from_wallet["txs"] == lone["txs"]
    assert from_wallet["steps"]["create"] > lone["steps"]["create"] + 10_000
    assert from_wallet["steps"]["commit"] == lone["steps"]["commit"]
    # The idle worker's node takes a small batch on in its commit: one transaction less.
    assert lone["steps"].keys() == {"create", "commit", "finalize"}
    assert take_first["path"] == "unaudited, taken on first" and take_first["txs"] == lone["txs"] + 1
    assert take_first["per_job"] > lone["per_job"] + TX_BASE_GAS
    # A draw of its own is a transaction more; the finalize after it skips the selection.
    assert drawn_apart["path"] == "unaudited, drawn in a transaction of its own"
    assert drawn_apart["steps"].keys() == {"create", "commit", "draw", "finalize"}
    assert drawn_apart["per_job"] > lone["per_job"] + TX_BASE_GAS
    assert drawn_apart["steps"]["finalize"] <= lone["steps"]["finalize"]
    assert busy["path"] == "unaudited, 64 lone jobs per worker transaction" and busy["batch"] == 1
    assert busy["txs"] == 64 + 3 and busy["jobs"] == 64
    assert busy["steps_per_job"]["create"] == pytest.approx(lone["steps"]["create"], rel=0.01)
    # The worker's transactions amortize: its share of a job is under half of a lone job's.
    worker_share = busy["per_job"] - busy["steps_per_job"]["create"]
    assert worker_share < (lone["per_job"] - lone["steps"]["create"]) / 2
    # In a stream, each commit also finalizes the job before: most of a transaction base less per
    # job (the `multicall` wrapping costs a little calldata and copying).
    assert stream["path"] == "unaudited, lone jobs in a stream" and stream["txs"] == lone["txs"] - 1
    assert stream["steps"].keys() == {"create", "commit + finalize"}
    assert stream["steps"]["create"] == pytest.approx(lone["steps"]["create"], rel=0.01)
    assert stream["per_job"] < lone["per_job"] - 0.9 * TX_BASE_GAS
    assert {r["path"] for r in rows} == {"unaudited", "audited", "disputed", "expired"}
    for path in ("unaudited", "expired"):
        one, eight = by_path[(path, 1)], by_path[(path, 8)]
        assert one["txs"] == eight["txs"]  # Batches cost the same number of transactions...
        assert eight["per_job"] < one["per_job"] / 3  # ...so gas per job falls.
    for r in rows:
        assert r["floor_base_per_job"] == TX_BASE_GAS * r["txs"] // r["batch"]
        # Each step has floors of its own, and they make up the path's.
        step_floors = r["step_floors_per_job"]
        assert step_floors.keys() == r["steps_per_job"].keys()
        for step, floors in step_floors.items():
            assert floors["base"] + floors["calldata"] + floors["storage"] <= r["steps_per_job"][step]
        rounding = len(step_floors)  # Each per-job figure is rounded down.
        for kind in ("base", "calldata", "storage"):
            total = sum(f[kind] for f in step_floors.values())
            assert total == pytest.approx(r[f"floor_{kind}_per_job"], abs=rounding)
        assert r["floor_calldata_per_job"] > 0 and r["floor_storage_per_job"] > 0
        floors = r["floor_base_per_job"] + r["floor_calldata_per_job"] + r["floor_storage_per_job"]
        assert floors <= r["per_job"]
    # Verifiers are drawn by a keeper, not in the finalize: the finalize of a fully audited batch
    # hands its jobs to the game and draws no verifier (the griefing of finding 9).
    assert by_path[("audited", 1)]["steps"].keys() >= {"draw", "assign", "verdict", "finalize", "release"}
    assert by_path[("disputed", 1)]["steps"].keys() >= {"assign", "reject", "panel draw", "panel votes"}
    # The first job ever creates balances and account ids that later jobs only read or update.
    assert result["cold"]["per_job"] > by_path[("unaudited", 1)]["per_job"]
    assert result["withdraw_gas"] > TX_BASE_GAS
    # Joining takes a seat in the draw pool's tree, which a top-up and an exit then only update.
    joins, tops_up, leaves = result["staking_gas"].values()
    assert joins > tops_up > TX_BASE_GAS and leaves > TX_BASE_GAS
    steps = render_steps(result)
    assert steps.count("\n|") == 1 + 2 * 3  # Header rule, and three steps at batch 1 and 8.
    assert "| 1 | create |" in steps and "| 8 | finalize |" in steps
    table = render(result)
    assert table.count("\n|") == len(result["rows"]) + 2  # Header rule, the rows and the cold row.
    profile = result["profile_batch1_unaudited"]
    assert set(profile) == {"create", "commit", "finalize"}
    assert profile["create"][0]["call"] == "JobMarket.createBatches"
    assert not any(c["call"] == "Credit.transferFrom" for c in profile["create"])  # Paid from the deposit.
    # The commit reads the worker's stake; the market keeps the lock itself, and the finalize
    # releases it without calling Staking at all.
    assert [c["call"] for c in profile["commit"][1:]] == ["Staking.activeStake"]
    assert [c["call"] for c in profile["finalize"]] == ["JobMarket.finalizeBatches"]
    assert "JobMarket.finalizeBatches" in render_profile(result)
    # The opcode trace (of the same job on a traced chain) explains every unit of gas: nothing
    # unattributed, a refund only where the finalize clears the batch's slot, and the totals
    # differ from the untraced job's by calldata alone.
    kinds = result["gas_by_kind_batch1_unaudited"]
    assert set(kinds) == set(profile)
    for step, by_kind in kinds.items():
        refund = step == "finalize"
        assert list(by_kind) == list(KINDS[:-2]) + (["refund"] if refund else [])
        assert by_kind[KINDS[0]] == TX_BASE_GAS
        assert all(v >= 0 for k, v in by_kind.items() if k != "refund")
        assert by_kind.get("refund", 0) == (-4_800 if refund else 0)  # One slot cleared (EIP-3529).
        assert abs(sum(by_kind.values()) - profile[step][0]["gas_used"]) <= 100
    # The batch record is one fresh slot; the rest of the create's writes update warm-able slots.
    assert 20_000 <= kinds["create"]["storage writes (SSTORE)"] < 2 * 20_000
    assert render_kinds(kinds).endswith(f"**{sum(sum(k.values()) for k in kinds.values()):,}** |")


def test_blocks_gas_sums_every_transaction_in_the_block_range(anvil, deployed):
    deployment, senders = deployed
    w3 = anvil.web3()
    credit = deployment.contract(w3, "Credit")
    first = w3.eth.block_number + 1
    receipts = [senders[0].transact(credit.functions.mint(senders[i].address, 10 + i)) for i in (1, 2, 3)]
    last = w3.eth.block_number
    assert blocks_gas(w3, first, last) == sum(r["gasUsed"] for r in receipts) > 3 * TX_BASE_GAS
    assert blocks_gas(w3, first, first - 1) == 0  # An empty range.
