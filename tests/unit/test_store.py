"""The node's durable state: the task table (due tasks, finishing, rescheduling a task that came
too early), the content-addressed outputs, and the history a reorg is reconciled from."""

from eth_utils import keccak

from node.store import REORG_HISTORY, Store


def test_rescheduled_task_is_due_again_only_after_its_new_time(tmp_path):
    store = Store(tmp_path)
    store.add_task("settle:7", 100)
    store.add_task("vote:8")
    assert store.due_tasks(50) == ["vote:8"]
    assert store.due_tasks(100) == ["vote:8", "settle:7"]
    store.finish_task("settle:7")
    store.add_task("settle:7", 0)  # Adding a known task again changes nothing...
    assert store.due_tasks(1000) == ["vote:8"]
    store.reschedule_task("settle:7", 200)  # ...rescheduling makes it due again, later.
    assert store.due_tasks(199) == ["vote:8"]
    assert store.due_tasks(200) == ["vote:8", "settle:7"]


def test_store_survives_reopening_with_its_tasks(tmp_path):
    Store(tmp_path).add_task("expire:3", 5)
    assert Store(tmp_path).due_tasks(5) == ["expire:3"]


def test_saved_outputs_are_served_after_reopening_and_shared_by_hash(tmp_path):
    store = Store(tmp_path)
    same, other = b"output-a", b"output-b"
    store.save_outputs([(1, keccak(same), same), (2, keccak(same), same), (3, keccak(other), other)])
    reopened = Store(tmp_path)
    assert reopened.output(1) == (same, keccak(same))
    assert reopened.output(2) == (same, keccak(same))
    assert reopened.output(3) == (other, keccak(other))
    assert reopened.output(4) is None


def test_many_outputs_are_read_in_one_query_leaving_out_unknown_jobs(tmp_path):
    store = Store(tmp_path)
    first, second = b"output-1", b"output-2"
    store.save_outputs([(1, keccak(first), first), (2, keccak(second), second)])
    assert store.outputs([3, 1, 99, 2]) == {1: (first, keccak(first)), 2: (second, keccak(second))}
    assert store.outputs([]) == {}


def test_jobs_with_status_sums_the_sizes_of_the_batches_in_that_status(tmp_path):
    store = Store(tmp_path)
    assert store.jobs_with_status("open") == 0
    store.put_batch(1, "0x01", "open", {"size": 16, "inputs": []})
    store.put_batch(2, "0x01", "open", {"size": 64, "inputs": []})
    store.put_batch(3, "0x01", "taken", {"size": 256, "inputs": []})
    assert store.jobs_with_status("open") == 80
    assert store.jobs_with_status("taken") == 256


def test_a_conditional_status_change_leaves_a_batch_that_moved_on_alone(tmp_path):
    """A fetch that finishes after another worker took its batch must not reopen it."""
    store = Store(tmp_path)
    store.put_batch(1, "0xab", "fetching", {"size": 1})
    assert store.set_batch_status_if(1, "fetching", "open")
    store.set_batch_status(1, "lost")
    assert not store.set_batch_status_if(1, "fetching", "open")
    assert store.batch(1)[1] == "lost"


def test_rewind_returns_the_batches_touched_after_the_fork_and_forgets_their_blocks(tmp_path):
    store = Store(tmp_path)
    for block in (10, 11, 12):
        with store.transaction() as db:
            store.touch(block, {block * 100}, db)
            store.mark_seen(f"0x{block}", 0, block, db)
            store.set_cursor(block, db, f"0xhash{block}")
    assert store.rewind(10) == {1100, 1200}
    assert store.cursor() == 10 and store.cursor_hashes() == [(10, "0xhash10")]
    assert store.seen("0x10", 0) and not store.seen("0x11", 0)  # The replaced blocks' events come again.


def test_rewind_past_the_kept_history_says_any_batch_may_have_changed(tmp_path):
    store = Store(tmp_path)
    with store.transaction() as db:
        store.set_cursor(5_000, db, "0xhash")
    assert store.rewind(100) is None and store.cursor() == 100


def test_history_older_than_the_reorg_horizon_is_dropped(tmp_path):
    store = Store(tmp_path)
    with store.transaction() as db:
        store.touch(1, {7}, db)
        store.set_cursor(1, db, "0xold")
        store.set_cursor(2 + REORG_HISTORY, db, "0xnew")
    assert store.cursor_hashes() == [(2 + REORG_HISTORY, "0xnew")]
    assert store.rewind(1) is None  # Older than what is kept: the caller re-reads every batch.
