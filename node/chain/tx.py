"""One transaction sender per key: local nonces, simulation first, safe retries.

Every transaction is simulated before it is signed, so a revert is raised as a decoded
`ContractRevertError` without spending gas. The signed transaction's hash is known before it is
sent, so a retry after a lost response either re-sends the same bytes or finds the receipt: the
same transaction can never be sent twice under two nonces.

The simulation is one `eth_createAccessList`, which runs the call and reports the gas it used.
`eth_estimateGas` searches for the smallest gas limit that succeeds by running the call again
and again: on anvil, 35 ms of the node's CPU for a 256-job `createBatches`, against 3.5 ms. The
reported gas is after refunds, which EIP-3529 caps at a fifth of the gas spent, so the limit
allows for them (and for the 1/64 of gas a call keeps back) on top of the usual margin. A node
without the method, or one that reports a failure inside its result, gets `eth_estimateGas`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from web3 import Web3
from web3.contract.contract import ContractConstructor, ContractFunction
from web3.exceptions import ContractLogicError, TransactionNotFound, Web3RPCError
from web3.types import RPCEndpoint, TxReceipt

from node.chain.calls import encode_call
from node.chain.errors import (
    ChainError,
    ContractRevertError,
    RevertDecoder,
    RpcUnavailableError,
    UnknownRevertError,
    revert_data,
)
from node.chain.transport import raw_rpc

log = logging.getLogger(__name__)

_TRANSIENT = (ConnectionError, TimeoutError, OSError)
# Seconds a transaction may wait for its receipt before the sender checks for a nonce gap.
GAP_CHECK_S = 2.0

RawReceipt = dict[str, Any]
"""A receipt as the JSON-RPC node sent it: hex strings, and logs with hex topics and data."""
R = TypeVar("R")  # What a receipt fetch returns: a formatted or a raw receipt.
# Gas used after refunds to the gas a call needs: refunds are at most a fifth of the gas spent
# (EIP-3529), so spent <= 5/4 of used; and a call forwards at most 63/64 of the gas left.
REFUND_AND_FORWARDING = 5 / 4 * 64 / 63
METHOD_NOT_FOUND = -32601


def gas_from_access_list(response: dict[str, Any]) -> int | bytes | None:
    """Reads an `eth_createAccessList` reply: the gas a call needs (an int), the data it reverted
    with (bytes), or None where the node cannot say (no such method, a failure reported without
    revert data, or inside the result as geth does), for `eth_estimateGas` to answer instead."""
    error = response.get("error")
    if error:
        data = error.get("data") if isinstance(error, dict) else None
        if isinstance(data, str) and data.startswith("0x"):
            return bytes.fromhex(data[2:])
        return None
    result = response.get("result")
    if not isinstance(result, dict) or result.get("error") or "gasUsed" not in result:
        return None
    return int(int(result["gasUsed"], 16) * REFUND_AND_FORWARDING)


class TransactionFailedError(ChainError):
    """A mined transaction reverted (state changed between simulation and inclusion, for example
    another party did the same thing first). `cause` is the decoded revert."""

    def __init__(self, tx_hash: HexBytes, cause: ChainError):
        self.tx_hash = tx_hash
        self.cause = cause
        super().__init__(f"transaction 0x{tx_hash.hex()} reverted: {cause}")


class TxSender:
    """Sends transactions for one account. Thread-safe; one instance per key."""

    def __init__(
        self,
        w3: Web3,
        account: LocalAccount,
        decoder: RevertDecoder,
        *,
        max_retries: int = 4,
        backoff_s: float = 0.25,
        receipt_timeout_s: float = 120.0,
        gas_margin: float = 1.25,
        fee_ttl_s: float = 2.0,
    ):
        self._w3 = w3
        self._account = account
        self._decoder = decoder
        self._max_retries = max_retries
        self._backoff_s = backoff_s
        self._receipt_timeout_s = receipt_timeout_s
        self._gas_margin = gas_margin
        self._lock = threading.Lock()
        self._nonce: int | None = None
        self._chain_id: int | None = None
        self._pending: dict[HexBytes, dict[str, Any]] = {}
        self._fee_ttl_s = fee_ttl_s
        self._fee_cache: tuple[float, dict[str, int]] | None = None
        self._access_lists = True  # Until the node says it has no `eth_createAccessList`.

    def __repr__(self) -> str:  # Never shows the key.
        return f"TxSender({self.address})"

    @property
    def address(self) -> str:
        """The sending account's address."""
        return str(self._account.address)

    def transact(self, fn: ContractFunction, gas_headroom: int = 0) -> TxReceipt:
        """Simulates, signs and sends a contract call, and waits for its receipt."""
        return self._wait_success(self._submit(self._call_of(fn), gas_headroom))

    def send_nowait(self, fn: ContractFunction, gas_headroom: int = 0) -> HexBytes:
        """Simulates, signs and sends a contract call; returns its hash without waiting.

        `gas_headroom` is added to the estimate for a call whose path may grow before it is
        mined: a dispute vote estimated as a plain vote must still have the gas to settle the
        dispute if another panelist's vote lands first. Unused gas is not charged."""
        tx_hash, call = self._submit(self._call_of(fn), gas_headroom)
        self._pending[tx_hash] = call
        return tx_hash

    def wait(self, tx_hash: HexBytes) -> TxReceipt:
        """Waits for a transaction sent by `send_nowait`; raises `TransactionFailedError` if it reverted."""
        return self._wait_success((tx_hash, self._pending.pop(tx_hash)))

    def transact_raw(self, fn: ContractFunction, gas_headroom: int = 0) -> RawReceipt:
        """As `transact`, but returns the receipt unformatted, for the daemons' hot paths: web3's
        formatters (checksummed addresses, attribute dicts for every log) took a quarter of a
        worker's main thread on receipts of a few hundred events. Decode its logs with
        `EventDecoder.decode_raw`."""
        return self._wait_success_raw(self._submit(self._call_of(fn), gas_headroom))

    def wait_raw(self, tx_hash: HexBytes) -> RawReceipt:
        """As `wait`, but returns the receipt unformatted (see `transact_raw`)."""
        return self._wait_success_raw((tx_hash, self._pending.pop(tx_hash)))

    def deploy(self, constructor: ContractConstructor) -> TxReceipt:
        """Deploys a contract; the receipt's `contractAddress` is the new address."""
        return self._wait_success(self._submit({"data": constructor.data_in_transaction}))

    def resync_nonce(self) -> None:
        """Forgets the local nonce; the next send reads the pending count from the node."""
        with self._lock:
            self._nonce = None

    def _call_of(self, fn: ContractFunction) -> dict[str, Any]:
        return {"to": fn.address, "data": encode_call(fn)}

    def _submit(self, call: dict[str, Any], gas_headroom: int = 0) -> tuple[HexBytes, dict[str, Any]]:
        """Simulates and broadcasts; returns the hash and the call (for replaying a revert).

        If the node says the nonce is too low and the transaction is not ours already mined,
        another process used this key: the nonce is re-read and the call simulated and signed
        again."""
        call = {**call, "from": self.address}
        for _ in range(self._max_retries + 1):
            gas = int(self._retrying(self._estimate, call) * self._gas_margin) + gas_headroom
            with self._lock:
                if self._nonce is None:
                    self._nonce = self._retrying(self._w3.eth.get_transaction_count, self.address, "pending")
                if self._chain_id is None:
                    self._chain_id = self._retrying(lambda: self._w3.eth.chain_id)
                tx = {**call, "gas": gas, "nonce": self._nonce, "chainId": self._chain_id, **self._fees()}
                signed = self._account.sign_transaction(tx)
                if self._retrying(self._broadcast, signed.raw_transaction, HexBytes(signed.hash)):
                    self._nonce += 1
                    return HexBytes(signed.hash), call
                log.info("nonce taken by another sender; resyncing", extra={"sender": self.address})
                self._nonce = None
        raise ChainError(f"could not find a free nonce for {self.address}")

    def _wait_success(self, sent: tuple[HexBytes, dict[str, Any]]) -> TxReceipt:
        tx_hash, call = sent
        receipt: TxReceipt = self._wait(tx_hash, self._w3.eth.get_transaction_receipt)
        if receipt["status"] != 1:
            raise TransactionFailedError(tx_hash, self._replay(call, receipt["blockNumber"]))
        return receipt

    def _wait_success_raw(self, sent: tuple[HexBytes, dict[str, Any]]) -> RawReceipt:
        tx_hash, call = sent
        receipt: RawReceipt = self._wait(tx_hash, self._raw_receipt)
        if int(receipt["status"], 16) != 1:
            raise TransactionFailedError(tx_hash, self._replay(call, int(receipt["blockNumber"], 16)))
        return receipt

    def _raw_receipt(self, tx_hash: HexBytes) -> RawReceipt:
        receipt: RawReceipt | None = raw_rpc(self._w3, "eth_getTransactionReceipt", ["0x" + tx_hash.hex()])
        if receipt is None:
            raise TransactionNotFound(f"transaction 0x{tx_hash.hex()} is not mined yet")
        return receipt

    def _estimate(self, call: dict[str, Any]) -> int:
        """The gas `call` needs on the pending state (see the module's docstring); a revert is
        raised decoded."""
        if self._access_lists:
            response: Any = self._w3.provider.make_request(RPCEndpoint("eth_createAccessList"), [call, "pending"])
            found = gas_from_access_list(response)
            if isinstance(found, int):
                return found
            if isinstance(found, bytes):
                raise self._decoder.decode(found)
            error = response.get("error")
            if isinstance(error, dict) and error.get("code") == METHOD_NOT_FOUND:
                log.info("the node has no eth_createAccessList; simulating with eth_estimateGas")
                self._access_lists = False
        try:
            return int(self._w3.eth.estimate_gas(call, "pending"))  # type: ignore[arg-type]
        except ContractLogicError as exc:
            raise self._decode(exc) from None

    def _broadcast(self, raw: bytes, tx_hash: HexBytes) -> bool:
        """Sends raw bytes. True if the transaction is in the pool or mined; False if its nonce
        was used by another transaction."""
        try:
            self._w3.eth.send_raw_transaction(raw)
            return True
        except (Web3RPCError, ValueError) as exc:
            message = str(exc).lower()
            if "already known" in message or "known transaction" in message:
                return True
            if "nonce too low" in message:
                return self._mined(tx_hash)
            raise ChainError(f"node refused the transaction: {exc}") from None

    def _mined(self, tx_hash: HexBytes) -> bool:
        try:
            self._w3.eth.get_transaction_receipt(tx_hash)
            return True
        except TransactionNotFound:
            return False

    def _wait(self, tx_hash: HexBytes, fetch: Callable[[HexBytes], R]) -> R:
        """Polls for the receipt with `fetch`, first every few milliseconds (a local chain mines
        at once), then backing off to a quarter second (a public chain mines every few seconds)."""
        deadline = time.monotonic() + self._receipt_timeout_s
        gap_check = time.monotonic() + GAP_CHECK_S
        delay = 0.002
        while True:
            try:
                result: R = self._retrying(fetch, tx_hash)
                return result
            except TransactionNotFound:
                pass
            if time.monotonic() > gap_check:
                self._retrying(self._fill_gap, tx_hash)
                gap_check = time.monotonic() + GAP_CHECK_S
            if time.monotonic() > deadline:
                raise ChainError(f"no receipt for 0x{tx_hash.hex()} after {self._receipt_timeout_s}s")
            time.sleep(delay)
            delay = min(delay * 2, 0.25)

    def _fill_gap(self, tx_hash: HexBytes) -> None:
        """If our transaction waits behind nonces no transaction of ours holds any more (a reorg
        dropped them), fills each with a transfer to ourselves so that it can be mined. The
        dropped transactions' effects are gone with them: the daemons reconcile from contract
        state, and a caller that still needs one sends it again."""
        try:
            tx = self._w3.eth.get_transaction(tx_hash)
        except TransactionNotFound:
            return
        if tx.get("blockNumber") is not None:
            return
        with self._lock:
            ready = self._retrying(self._w3.eth.get_transaction_count, self.address, "pending")  # Contiguous only.
            for nonce in range(ready, int(tx["nonce"])):
                filler: dict[str, Any] = {"to": self.address, "value": 0, "gas": 21_000, "nonce": nonce}
                filler |= {"chainId": self._chain_id, **self._fees()}
                signed = self._account.sign_transaction(filler)
                self._broadcast(signed.raw_transaction, HexBytes(signed.hash))
                log.warning("filled a nonce gap left by a dropped transaction", extra={"nonce": nonce})

    def _replay(self, call: dict[str, Any], block: int) -> ChainError:
        """Re-runs a reverted call on the state of the block it was mined in, to recover the revert
        reason. A reverted transaction changed nothing, so that state (with the block's number
        and timestamp) is what made it fail: a competitor's transaction, or a deadline passing."""
        try:
            self._w3.eth.call(call, block)  # type: ignore[arg-type]
        except ContractLogicError as exc:
            return self._decode(exc)
        return UnknownRevertError(b"")

    def _decode(self, exc: ContractLogicError) -> ChainError:
        data = revert_data(exc)
        return self._decoder.decode(data) if data is not None else UnknownRevertError(b"")

    def _fees(self) -> dict[str, int]:
        """EIP-1559 fees: twice the latest base fee plus the suggested tip. Read at most once
        per `fee_ttl_s`: the doubled base fee covers several blocks of the largest rise (12.5%
        a block), and two RPC calls per transaction would halve the sending rate."""
        now = time.monotonic()
        if self._fee_cache is None or now - self._fee_cache[0] > self._fee_ttl_s:
            base = int(self._w3.eth.get_block("latest").get("baseFeePerGas", 0))
            tip = int(self._w3.eth.max_priority_fee)
            self._fee_cache = (now, {"maxFeePerGas": 2 * base + tip, "maxPriorityFeePerGas": tip})
        return self._fee_cache[1]

    def _retrying(self, fn: Any, *args: Any) -> Any:
        delay = self._backoff_s
        for attempt in range(self._max_retries + 1):
            try:
                return fn(*args)
            except _TRANSIENT as exc:
                if attempt == self._max_retries:
                    raise RpcUnavailableError(f"RPC unreachable after {attempt + 1} tries: {exc}") from None
                # Logged once an outage: the daemon reports it as a whole if the retries run out.
                say = log.info if attempt == 0 else log.debug
                say("RPC call failed, retrying", extra={"attempt": attempt + 1, "error": str(exc)})
                time.sleep(delay)
                delay *= 2
        raise AssertionError("unreachable")


def revert_of(exc: BaseException) -> ContractRevertError | None:
    """The decoded revert behind a simulation failure or a mined transaction that reverted."""
    if isinstance(exc, TransactionFailedError):
        exc = exc.cause
    return exc if isinstance(exc, ContractRevertError) else None
