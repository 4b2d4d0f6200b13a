"""The chain listener: polls contract logs from a persisted cursor.

- Resumes after a restart from the cursor stored in the node's database.
- Waits `confirmations` blocks before delivering an event.
- Dedupes by (transaction hash, log index): an event already handled is never delivered again.
- Delivers at least once: an event is marked seen only after its handler returned, so a crash
  in between re-delivers it, and handlers are idempotent (the contracts reject duplicates).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from web3.contract import Contract

from node.chain.client import ChainClient
from node.chain.events import EventDecoder
from node.store import Store

log = logging.getLogger(__name__)

MAX_RANGE = 2_000  # Blocks per eth_getLogs call.


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
    ):
        """`events`: the names of the events to deliver (None: all). The node asks for those only,
        so it neither transfers nor decodes the rest (half of a market's logs are `Credited`)."""
        self._client = client
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
        self.latest_block = int(self._client.rpc("eth_blockNumber", []), 16)
        head = self.latest_block - self._confirmations
        cursor = self._store.cursor()
        start = self._client.deployment.block_number if cursor is None else cursor + 1
        delivered = 0
        while start <= head:
            end = min(head, start + MAX_RANGE - 1)
            logs = self._client.rpc("eth_getLogs", [self._filter | {"fromBlock": hex(start), "toBlock": hex(end)}])
            for entry in sorted(logs, key=lambda e: (int(e["blockNumber"], 16), int(e["logIndex"], 16))):
                event = self._decode(entry)
                if event is None or self._seen(event):
                    continue
                handler(event)
                with self._store.transaction() as db:
                    self._store.mark_seen(event.tx_hash, event.log_index, event.block, db)
                delivered += 1
            with self._store.transaction() as db:
                self._store.set_cursor(end, db)
            start = end + 1
        return delivered

    def decode_logs(self, entries: list[dict[str, Any]]) -> list[ChainEvent]:
        """Raw JSON-RPC logs (a raw receipt's, say) as events, in order. Logs of other contracts
        or of events this listener does not deliver are left out, undecoded."""
        if self._topics is not None:
            entries = [e for e in entries if e["topics"] and e["topics"][0] in self._topics]
        return [event for event in map(self._decode, entries) if event is not None]

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
