"""The text of generations in progress, for the worker's stream API.

The compute thread publishes each job's text as it grows (`update`) and its finish reason when
done (`close`); API requests follow a job (`follow`), each getting the new text as it comes. A
job is streamed only once its batch is taken on chain by this worker (the API checks), so a
requester cannot read it and cancel. Closed jobs are kept for a while, for a client that
connects late, then forgotten: the committed output is the record.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass

KEEP_CLOSED = 1024  # Finished jobs kept for late followers.


@dataclass
class _Job:
    text: str = ""
    finish: str | None = None


class TokenStreams:
    def __init__(self) -> None:
        self._jobs: OrderedDict[int, _Job] = OrderedDict()
        self._changed = threading.Condition()

    def update(self, job_id: int, text: str) -> None:
        with self._changed:
            self._jobs.setdefault(job_id, _Job()).text = text
            self._changed.notify_all()

    def close(self, job_id: int, text: str, finish: str) -> None:
        with self._changed:
            job = self._jobs.setdefault(job_id, _Job())
            job.text, job.finish = text, finish
            self._jobs.move_to_end(job_id)
            closed = [j for j, s in self._jobs.items() if s.finish is not None]
            for old in closed[: max(0, len(closed) - KEEP_CLOSED)]:
                del self._jobs[old]
            self._changed.notify_all()

    def follow(self, job_id: int, deadline_s: float) -> Iterator[tuple[str, str | None]]:
        """(new text, None) as the job's text grows, then ("", finish reason) when it is done.
        Waits for a job not yet started; stops without a finish at the deadline."""
        sent = seen = ""
        end = time.monotonic() + deadline_s
        while True:
            with self._changed:
                job = self._jobs.get(job_id)
                while job is None or (job.text == seen and job.finish is None):
                    left = end - time.monotonic()
                    if left <= 0:
                        return
                    self._changed.wait(left)
                    job = self._jobs.get(job_id)
                text, finish = job.text, job.finish
                seen = text
            if text != sent and text.startswith(sent):  # The plug-in publishes only text that stays.
                yield text[len(sent) :], None
                sent = text
            if finish is not None:
                yield "", finish
                return
