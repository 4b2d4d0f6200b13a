"""The node's durable task table: due tasks, finishing, and rescheduling a task that came too early."""

from node.store import Store


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
