"""The chain listener: polls contract logs from a persisted cursor.

- Resumes after a restart from the cursor stored in the node's database.
- Waits `confirmations` blocks before delivering an event.
- Dedupes by (transaction hash, log index): an event already handled is never delivered again.
- Delivers at least once: an event is marked seen only after its handler returned, so a crash
  in between re-delivers it, and handlers are idempotent (the contracts reject duplicates).
- Notices a reorg deeper than the confirmations: it keeps the hash of each block its cursor
  stood at, and when the chain's hash of the cursor's block is no longer the one it kept, it
  finds the last block both chains share, moves the cursor back to it, and tells the node which
  batches the replaced blocks had touched (`on_reorg`), to be re-read from the contract. The
  replaced blocks' events on the new chain are then delivered like any others.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from web3.contract import Contract

from node.chain.client import ChainClient
from node.chain.events import EventDecoder
from node.chain.protocol import batch_of
from node.store import Store

log = logging.getLogger(__name__)

MAX_RANGE = 2_000  # Blocks per eth_getLogs call.


def batches_named(args: dict[str, Any]) -> set[int]:
    """The batches an event's arguments name: its batch id, or its job id's batch."""
    named = set()
    if "batchId" in args:
        named.add(int(args["batchId"]))
    if "jobId" in args:
        named.add(batch_of(int(args["jobId"])))
    return named


@dataclass(frozen=True)
class ChainEvent:
    """A decoded contract event."""

    name: str
    args: dict[str, Any]
    block: int
    tx_hash: str
    log_index: int


class EventListener:
    """Polls logs of the given contracts and hands each new event to `handler`."""

    def __init__(
        self,
        client: ChainClient,
        store: Store,
        contracts: list[Contract],
        confirmations: int = 0,
        events: Collection[str] | None = None,
        on_reorg: Callable[[int, set[int] | None], None] | None = None,
    ):
        """`events`: the names of the events to deliver (None: all). The node asks for those only,
        so it neither transfers nor decodes the rest (half of a market's logs are `Credited`).
        `on_reorg(fork, batches)`: called after a reorg past the confirmations, with the last
        block both chains share and the batches touched after it (None: any may have been)."""
        self._client = client
        self._on_reorg = on_reorg
        self._head_hash: str | None = None
        self._store = store
        self._confirmations = confirmations
        self._addresses = [c.address for c in contracts]
        self._decoders = {c.address.lower(): EventDecoder(c.abi) for c in contracts}
        self._filter: dict[str, Any] = {"address": self._addresses}
        self._topics: set[str] | None = None
        if events is not None:
            found = {name: topic for d in self._decoders.values() for name, topic in d.topics(events).items()}
            unknown = set(events) - set(found)
            if unknown:
                raise ValueError(f"events not declared by the contracts: {', '.join(sorted(unknown))}")
            self._topics = set(found.values())
            self._filter["topics"] = [sorted(self._topics)]
        self.latest_block = -1  # The chain's head at the last poll, confirmed or not.

    def poll(self, handler: Callable[[ChainEvent], None]) -> int:
        """Delivers new confirmed events; returns how many were delivered."""
        latest = self._client.rpc("eth_getBlockByNumber", ["latest", False])
        self.latest_block = int(latest["number"], 16)
        if latest["hash"] != self._head_hash:  # The chain moved (or was replaced): check the cursor.
            self._check_reorg()
            self._head_hash = latest["hash"]
        head = self.latest_block - self._confirmations
        cursor = self._store.cursor()
        start = self._client.deployment.block_number if cursor is None else cursor + 1
        delivered = 0
        while start <= head:
            end = min(head, start + MAX_RANGE - 1)
            # The hash is read before the logs: if the chain reorganises in between, the next
            # poll sees the hash changed and reads the blocks again.
            end_hash = latest["hash"] if end == self.latest_block else self._block_hash(end)
            logs = self._client.rpc("eth_getLogs", [self._filter | {"fromBlock": hex(start), "toBlock": hex(end)}])
            for entry in sorted(logs, key=lambda e: (int(e["blockNumber"], 16), int(e["logIndex"], 16))):
                event = self._decode(entry)
                if event is None or self._seen(event):
                    continue
                handler(event)
                with self._store.transaction() as db:
                    self._store.mark_seen(event.tx_hash, event.log_index, event.block, db)
                    self._store.touch(event.block, batches_named(event.args), db)
                delivered += 1
            with self._store.transaction() as db:
                self._store.set_cursor(end, db, end_hash)
            start = end + 1
        return delivered

    def _block_hash(self, number: int) -> str | None:
        block = self._client.rpc("eth_getBlockByNumber", [hex(number), False])
        return None if block is None else str(block["hash"])

    def _check_reorg(self) -> None:
        """Rewinds to the last block both chains share if the cursor's block was replaced."""
        kept = self._store.cursor_hashes()
        if not kept or self._block_hash(kept[0][0]) == kept[0][1]:
            return
        fork = self._client.deployment.block_number - 1  # No kept block survived: read everything again.
        for block, block_hash in kept[1:]:
            if self._block_hash(block) == block_hash:
                fork = block
                break
        touched = self._store.rewind(fork)
        log.warning(
            "chain reorganised past the confirmations; re-reading from the fork",
            extra={"fork": fork, "cursor_was": kept[0][0], "batches": None if touched is None else len(touched)},
        )
        if self._on_reorg is not None:
            self._on_reorg(fork, touched)

    def record_receipt(self, receipt: dict[str, Any]) -> list[ChainEvent]:
        """Remembers which batches a transaction of this node's changed, and in which block, so
        that a reorg that drops it has them re-read, whether or not their events were delivered.
        Returns the receipt's events, decoded once for the caller too."""
        events = [event for event in map(self._decode, receipt["logs"]) if event is not None]
        touched: set[int] = set()
        for event in events:
            touched |= batches_named(event.args)
        if touched:
            self._store.touch(int(receipt["blockNumber"], 16), touched)
        return events

    def _seen(self, event: ChainEvent) -> bool:
        if self._store.seen(event.tx_hash, event.log_index):
            log.info("duplicate event skipped", extra={"event": event.name, "tx": event.tx_hash[:12]})
            return True
        return False

    def _decode(self, entry: dict[str, Any]) -> ChainEvent | None:
        """A raw JSON-RPC log as an event, or None for a log of an unknown event."""
        decoder = self._decoders.get(entry["address"].lower())
        decoded = None if decoder is None else decoder.decode_raw(entry)
        if decoded is None:
            return None
        name, args = decoded
        return ChainEvent(
            name=name,
            args=args,
            block=int(entry["blockNumber"], 16),
            tx_hash=entry["transactionHash"],
            log_index=int(entry["logIndex"], 16),
        )
