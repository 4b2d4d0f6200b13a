"""The node's durable state in SQLite: the event cursor, seen events, batches, outputs and
tasks, so a restart resumes where it stopped.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Any


class WorkerBatch(StrEnum):
    """A batch as a worker keeps it: where its own work on it stands, which the chain's status
    alone does not say (a batch another worker took is `LOST` to it)."""

    FETCHING = "fetching"  # Its URI inputs are being fetched.
    UNFETCHABLE = "unfetchable"  # An input could not be had, or was not the bytes its hash names.
    UNDERPAID = "underpaid"  # Priced below what its inputs cost (a generation's max_tokens).
    OPEN = "open"
    TAKEN = "taken"
    COMMITTED = "committed"  # Committed, drawn or audited on chain: to be finalized.
    FINALIZED = "finalized"
    FORFEITED = "forfeited"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    LOST = "lost"  # Taken or committed by another worker.
    NONE = "none"  # Unknown to the chain.


class VerifierBatch(StrEnum):
    """A batch as a verifier keeps it: what it knows of the batch's audits."""

    CREATED = "created"
    COMMITTED = "committed"
    DRAWN = "drawn"  # Its audit draw ran: the jobs to audit are known.
    FINALIZED = "finalized"
    FORFEITED = "forfeited"


SCHEMA = """
CREATE TABLE IF NOT EXISTS cursor (id INTEGER PRIMARY KEY CHECK (id = 1), block INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS seen_events (tx_hash TEXT NOT NULL, log_index INTEGER NOT NULL, block INTEGER NOT NULL,
    PRIMARY KEY (tx_hash, log_index));
CREATE TABLE IF NOT EXISTS batches (batch_id INTEGER PRIMARY KEY, model_id TEXT NOT NULL, status TEXT NOT NULL,
    data TEXT NOT NULL, deadline INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS outputs (job_id INTEGER PRIMARY KEY, output_hash TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS blobs (hash TEXT PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS tasks (key TEXT PRIMARY KEY, due INTEGER NOT NULL, done INTEGER NOT NULL DEFAULT 0);
-- For reorgs past the confirmations: the hash of each block the cursor stood at, to find where
-- the chain forked, and which batches the events and receipts of each block touched, to re-read
-- them from the contract. Both keep only the last REORG_HISTORY blocks.
CREATE TABLE IF NOT EXISTS cursor_hashes (block INTEGER PRIMARY KEY, hash TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS batch_blocks (block INTEGER NOT NULL, batch_id INTEGER NOT NULL,
    PRIMARY KEY (block, batch_id));
-- The daemons look batches up by status and tasks by due time several times a second: without
-- these, each lookup scans every batch ever seen (17 ms at 12,000 batches, inputs included).
CREATE INDEX IF NOT EXISTS batches_by_status ON batches (status);
CREATE INDEX IF NOT EXISTS tasks_by_due ON tasks (done, due);
"""


REORG_HISTORY = 1_024  # Blocks a reorg can reach back and still be reconciled batch by batch.


class Store:
    """A small thread-safe wrapper over one SQLite file. Outputs are stored in it too, content
    addressed: a round of outputs is one transaction rather than a file each."""

    def __init__(self, data_dir: Path):
        data_dir.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(data_dir / "node.db", check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        # In WAL mode, NORMAL stays consistent after a crash and skips an fsync per commit; a power
        # loss can drop the last commits, which the listener then reads again from the chain.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)
        self._lock = threading.Lock()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def _one(self, sql: str, *args: Any) -> Any:
        with self._lock:
            return self._db.execute(sql, args).fetchone()

    def _all(self, sql: str, *args: Any) -> list[Any]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    # -- cursor and events
    def cursor(self) -> int | None:
        row = self._one("SELECT block FROM cursor WHERE id = 1")
        return None if row is None else int(row[0])

    def set_cursor(self, block: int, db: sqlite3.Connection, block_hash: str | None = None) -> None:
        """Moves the cursor; with the block's hash, remembered to detect a reorg below it later.
        History older than `REORG_HISTORY` blocks is dropped."""
        db.execute(
            "INSERT INTO cursor (id, block) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET block = ?", (block, block)
        )
        if block_hash is not None:
            db.execute("INSERT OR REPLACE INTO cursor_hashes VALUES (?, ?)", (block, block_hash))
        horizon = block - REORG_HISTORY
        for table in ("cursor_hashes", "batch_blocks", "seen_events"):
            db.execute(f"DELETE FROM {table} WHERE block < ?", (horizon,))  # Only table names are formatted in.

    def cursor_hashes(self) -> list[tuple[int, str]]:
        """(block, hash) of the cursor's past positions, newest first."""
        return [(int(b), h) for b, h in self._all("SELECT block, hash FROM cursor_hashes ORDER BY block DESC")]

    def touch(self, block: int, batch_ids: Iterable[int], db: sqlite3.Connection | None = None) -> None:
        """Records that something in `block` (an event, a receipt of ours) changed these batches."""
        rows = [(block, b) for b in set(batch_ids)]
        if db is not None:
            db.executemany("INSERT OR IGNORE INTO batch_blocks VALUES (?, ?)", rows)
            return
        with self._lock:
            self._db.executemany("INSERT OR IGNORE INTO batch_blocks VALUES (?, ?)", rows)

    def rewind(self, fork: int) -> set[int] | None:
        """After a reorg that replaced the blocks after `fork`: moves the cursor back to it and
        forgets those blocks' events; returns the batches they touched, or None if the fork is
        older than the history kept (then any batch may have changed)."""
        with self.transaction() as db:
            oldest = db.execute("SELECT MIN(block) FROM cursor_hashes").fetchone()[0]
            rows = db.execute("SELECT DISTINCT batch_id FROM batch_blocks WHERE block > ?", (fork,)).fetchall()
            for table in ("cursor_hashes", "batch_blocks", "seen_events"):
                db.execute(f"DELETE FROM {table} WHERE block > ?", (fork,))  # Only table names are formatted in.
            self.set_cursor(fork, db)
        if oldest is None or fork < int(oldest):
            return None
        return {int(r[0]) for r in rows}

    def seen(self, tx_hash: str, log_index: int) -> bool:
        """Whether this event was already handled."""
        return (
            self._one("SELECT 1 FROM seen_events WHERE tx_hash = ? AND log_index = ?", tx_hash, log_index) is not None
        )

    def mark_seen(self, tx_hash: str, log_index: int, block: int, db: sqlite3.Connection) -> bool:
        """Records an event; False if it was already seen (a duplicate delivery)."""
        cur = db.execute("INSERT OR IGNORE INTO seen_events VALUES (?, ?, ?)", (tx_hash, log_index, block))
        return cur.rowcount == 1

    # -- batches
    def put_batch(self, batch_id: int, model_id: str, status: str, data: dict[str, Any], deadline: int = 0) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO batches VALUES (?, ?, ?, ?, ?) ON CONFLICT(batch_id) DO NOTHING",
                (batch_id, model_id, status, json.dumps(data), deadline),
            )

    def set_batch_status(self, batch_id: int, status: str, deadline: int | None = None) -> None:
        with self._lock:
            if deadline is None:
                self._db.execute("UPDATE batches SET status = ? WHERE batch_id = ?", (status, batch_id))
            else:
                self._db.execute(
                    "UPDATE batches SET status = ?, deadline = ? WHERE batch_id = ?", (status, deadline, batch_id)
                )

    def set_batch_status_if(self, batch_id: int, expected: str, status: str) -> bool:
        """Moves a batch from status `expected` to `status`; False if it was in another."""
        with self._lock:
            done = self._db.execute(
                "UPDATE batches SET status = ? WHERE batch_id = ? AND status = ?", (status, batch_id, expected)
            )
            return done.rowcount == 1

    def delete_batch(self, batch_id: int, job_ids: list[int]) -> None:
        """Forgets a batch and the outputs of its jobs (a reorg took its creation away)."""
        with self.transaction() as db:
            db.execute("DELETE FROM batches WHERE batch_id = ?", (batch_id,))
            db.executemany("DELETE FROM outputs WHERE job_id = ?", [(j,) for j in job_ids])

    def batch_ids(self) -> list[int]:
        return [int(r[0]) for r in self._all("SELECT batch_id FROM batches ORDER BY batch_id")]

    def batch(self, batch_id: int) -> tuple[str, str, dict[str, Any], int] | None:
        row = self._one("SELECT model_id, status, data, deadline FROM batches WHERE batch_id = ?", batch_id)
        return None if row is None else (row[0], row[1], json.loads(row[2]), int(row[3]))

    def batches_with_status(self, status: str, limit: int = -1) -> list[tuple[int, str, dict[str, Any], int]]:
        """(batch id, model id, data, deadline) of the batches in a status, oldest first; at
        most `limit` of them (-1: all)."""
        rows = self._all(
            "SELECT batch_id, model_id, data, deadline FROM batches WHERE status = ? ORDER BY batch_id LIMIT ?",
            status,
            limit,
        )
        return [(int(r[0]), r[1], json.loads(r[2]), int(r[3])) for r in rows]

    def jobs_with_status(self, status: str) -> int:
        """How many jobs the batches in a status hold, without decoding their data."""
        sql = "SELECT COALESCE(SUM(json_extract(data, '$.size')), 0) FROM batches WHERE status = ?"
        return int(self._one(sql, status)[0])

    def status_of(self, batch_id: int) -> tuple[str, int] | None:
        """A batch's status and deadline, without reading its data; None if unknown."""
        row = self._one("SELECT status, deadline FROM batches WHERE batch_id = ?", batch_id)
        return None if row is None else (str(row[0]), int(row[1]))

    def batch_deadlines(self, status: str) -> dict[int, int]:
        """Batch id -> deadline of the batches in a status, without reading their data."""
        rows = self._all("SELECT batch_id, deadline FROM batches WHERE status = ? ORDER BY batch_id", status)
        return {int(r[0]): int(r[1]) for r in rows}

    # -- outputs, content-addressed
    def save_outputs(self, items: list[tuple[int, bytes, bytes]]) -> None:
        """Stores (job id, output hash, output bytes) triples in one transaction."""
        with self.transaction() as db:
            db.executemany("INSERT OR IGNORE INTO blobs VALUES (?, ?)", [(h.hex(), out) for _, h, out in items])
            db.executemany("INSERT OR REPLACE INTO outputs VALUES (?, ?)", [(job, h.hex()) for job, h, _ in items])

    def output(self, job_id: int) -> tuple[bytes, bytes] | None:
        """(output bytes, output hash) for a job, if this node computed it."""
        row = self._one(
            "SELECT o.output_hash, b.data FROM outputs o LEFT JOIN blobs b ON b.hash = o.output_hash"
            " WHERE o.job_id = ?",
            job_id,
        )
        if row is None or row[1] is None:
            return None
        return bytes(row[1]), bytes.fromhex(row[0])

    def outputs(self, job_ids: list[int]) -> dict[int, tuple[bytes, bytes]]:
        """(output bytes, output hash) of those of the jobs this node computed, in one query."""
        if not job_ids:
            return {}
        marks = ",".join("?" * len(job_ids))
        rows = self._all(
            "SELECT o.job_id, o.output_hash, b.data FROM outputs o LEFT JOIN blobs b ON b.hash = o.output_hash"
            f" WHERE o.job_id IN ({marks})",  # Only placeholders are formatted in.
            *job_ids,
        )
        return {int(job): (bytes(data), bytes.fromhex(digest)) for job, digest, data in rows if data is not None}

    # -- tasks: work due at a time (verify, challenge, settle), durable across restarts
    def add_task(self, key: str, due: int = 0) -> None:
        with self._lock:
            self._db.execute("INSERT OR IGNORE INTO tasks (key, due) VALUES (?, ?)", (key, due))

    def due_tasks(self, now: int) -> list[str]:
        return [r[0] for r in self._all("SELECT key FROM tasks WHERE done = 0 AND due <= ? ORDER BY due, key", now)]

    def reschedule_task(self, key: str, due: int) -> None:
        """Makes a task due again at `due` (finished or not)."""
        with self._lock:
            self._db.execute(
                "INSERT INTO tasks (key, due) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET due = ?, done = 0",
                (key, due, due),
            )

    def task_keys(self) -> list[str]:
        return [r[0] for r in self._all("SELECT key FROM tasks ORDER BY key")]

    def finish_task(self, key: str) -> None:
        with self._lock:
            self._db.execute("UPDATE tasks SET done = 1 WHERE key = ?", (key,))

    def update_batch_data(self, batch_id: int, **fields: Any) -> None:
        found = self.batch(batch_id)
        if found is None:
            return
        data = {**found[2], **fields}
        with self._lock:
            self._db.execute("UPDATE batches SET data = ? WHERE batch_id = ?", (json.dumps(data), batch_id))

    def close(self) -> None:
        with self._lock:
            self._db.close()
