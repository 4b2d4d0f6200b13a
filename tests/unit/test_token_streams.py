"""The worker's streams of generations in progress (`node.server.streams`)."""

from __future__ import annotations

import threading
import time

from node.server import streams
from node.server.streams import TokenStreams


def test_a_follower_gets_each_new_piece_in_order_then_the_finish():
    hub = TokenStreams()
    pieces = ["Return", "Return the", "Return the sum."]

    def generate() -> None:
        for text in pieces:
            time.sleep(0.02)
            hub.update(7, text)
        hub.close(7, pieces[-1], "stop")

    producer = threading.Thread(target=generate)
    producer.start()
    got = list(hub.follow(7, deadline_s=5))
    producer.join()
    assert got[-1] == ("", "stop")
    assert "".join(text for text, _ in got) == "Return the sum."
    assert all(finish is None for _, finish in got[:-1])


def test_a_late_follower_of_a_closed_job_gets_the_whole_text_at_once():
    hub = TokenStreams()
    hub.update(1, "a")
    hub.close(1, "a b", "length")
    assert list(hub.follow(1, deadline_s=1)) == [("a b", None), ("", "length")]


def test_following_a_job_that_never_starts_ends_at_the_deadline_without_a_finish():
    started = time.monotonic()
    assert list(TokenStreams().follow(3, deadline_s=0.2)) == []
    assert time.monotonic() - started >= 0.2


def test_closed_jobs_past_the_kept_number_are_forgotten_oldest_first_and_open_ones_kept(monkeypatch):
    monkeypatch.setattr(streams, "KEEP_CLOSED", 2)
    hub = TokenStreams()
    hub.update(0, "still generating")
    for job in (1, 2, 3):
        hub.close(job, f"text {job}", "stop")
    assert list(hub.follow(1, deadline_s=0.05)) == []  # Forgotten: the committed output is the record.
    assert list(hub.follow(3, deadline_s=0.05)) == [("text 3", None), ("", "stop")]
    hub.close(0, "still generating.", "stop")
    assert list(hub.follow(0, deadline_s=0.05)) == [("still generating.", None), ("", "stop")]
