"""The gas report drives every lifecycle path on a fresh anvil and amortizes with batch size."""

from bench.gas import measure, render


def test_gas_report_covers_every_path_and_amortizes_with_batch_size():
    rows = measure((1, 8))
    by_path = {(r.path, r.batch): r for r in rows}
    assert {r.path for r in rows} == {"unaudited", "audited", "disputed", "expired"}
    for path in ("unaudited", "expired"):
        one, eight = by_path[(path, 1)], by_path[(path, 8)]
        assert one.txs == eight.txs  # Batches cost the same number of transactions...
        assert eight.per_job < one.per_job / 3  # ...so gas per job falls.
    assert by_path[("disputed", 1)].steps.keys() >= {"reject", "panel votes"}
    table = render(rows)
    assert table.count("\n") == len(rows) + 1
