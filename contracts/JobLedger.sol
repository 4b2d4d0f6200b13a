// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ICollateralKeeper} from "./interfaces/ICollateralKeeper.sol";
import {IJobMarket} from "./interfaces/IJobMarket.sol";
import {IStaking} from "./interfaces/IStaking.sol";

/// @title JobLedger
/// @notice The job market's books: the protocol parameters, the batch records, and each
///         account's compact id, internal balance, locked collateral and fees owed, with the
///         rules that move them (locks against `Staking`, credits, slashes, payouts).
///         `JobAudits` and `JobMarket` build on it.
/// @dev Storage words. A batch is one slot, and an account's id, worker lock, balance and
///      fees owed are another: the hot paths read and write each as a whole word
///      (`_loadBatch`, `_storeBatch`, `_payWorker`), where the compiler's field-by-field code
///      re-reads and re-writes the packed slot once per field.
///      Collateral. The market keeps what it has locked of each stake (`lockedOf`), in the
///      slot that holds the account's id and balance: taking work already reads that slot and
///      paying it already writes it, so a lock or unlock is no extra call and no extra slot.
///      `Staking` holds the stakes, and asks `lockedOf` before a stake leaves.
abstract contract JobLedger is IJobMarket, ICollateralKeeper {
    uint256 internal constant BPS = 10_000;
    /// @dev A job id is `batchId << INDEX_BITS | index`.
    uint256 internal constant INDEX_BITS = 16;

    IStaking internal immutable _staking;
    // The protocol parameters (see `Params`), fixed at deployment: immutables live in the code,
    // so reading one costs 3 gas where a cold storage slot costs 2,100.
    address internal immutable _treasury;
    uint16 internal immutable _protocolFeeBps;
    uint16 internal immutable _verifierFeeBps;
    uint32 internal immutable _collateralBps;
    uint16 internal immutable _baseAuditBps;
    uint16 internal immutable _slashCheatedBps;
    uint16 internal immutable _slashVerifiersBps;
    uint8 internal immutable _panelSize;
    uint32 internal immutable _challengeWindow;
    uint32 internal immutable _verdictWindow;
    uint32 internal immutable _maxInputBytes;
    uint16 internal immutable _maxBatchSize;

    /// @dev A batch as stored: one slot. The parties are account ids (`Account.id`), so that
    ///      creating a batch writes one fresh slot (22,100 gas) instead of two. `Batch` is the
    ///      same record with addresses, for `getBatch`.
    struct BatchSlot {
        uint32 requesterId;
        uint32 workerId;
        uint48 price;
        uint16 size;
        uint16 auditBps;
        BatchStatus status;
        bool reopenOnExpiry;
        uint32 deadline;
        uint32 seedBlock;
        uint24 timeout;
    }

    mapping(uint256 batchId => BatchSlot) internal _batches;
    /// @dev An account's compact id once it has been a requester or a worker (0 before), the
    ///      collateral locked from its worker stake, its internal balance, and the protocol fees
    ///      its batches' payouts owe the treasury, in one slot: a requester's batch reads and
    ///      debits one slot, and so does a worker's take, or its payout with the fee (no write
    ///      to the treasury's slot, 5,000 gas, per batch; `collectFees` moves the fees later).
    ///      A lock never exceeds the stake it is taken from, a uint64 in `Staking`.
    struct Account {
        uint32 id;
        uint64 workerLocked;
        uint96 balance;
        uint64 feesOwed;
    }

    mapping(address account => Account) internal _accounts;
    /// @dev Collateral locked from verifier stakes, plus one once the account has locked any:
    ///      audits are the rarer path, so their locks take a slot of their own and leave the
    ///      account slot room for the fees. The slot never returns to zero, so that each lock
    ///      rewrites it (5,000 gas) rather than creating it anew (22,100), as OpenZeppelin's
    ///      reentrancy guard keeps 1 and 2 rather than 0 and 1.
    mapping(address account => uint256 lockedPlusOne) private _verifierLocked;
    mapping(uint32 id => address account) internal _accountAt;
    uint32 private _accountCount;

    constructor(IStaking staking_, Params memory params_) {
        if (
            params_.treasury == address(0) || params_.protocolFeeBps + params_.verifierFeeBps > BPS
                || params_.slashCheatedBps + params_.slashVerifiersBps > BPS || params_.baseAuditBps > BPS
                || params_.challengeWindow == 0 || params_.verdictWindow == 0 || params_.maxBatchSize == 0
        ) revert JobMarketInvalidParams();
        address stakingMarket = staking_.jobMarket();
        if (stakingMarket != address(this)) revert JobMarketStakingMismatch(address(staking_), stakingMarket);
        _staking = staking_;
        _treasury = params_.treasury;
        _protocolFeeBps = params_.protocolFeeBps;
        _verifierFeeBps = params_.verifierFeeBps;
        _collateralBps = params_.collateralBps;
        _baseAuditBps = params_.baseAuditBps;
        _slashCheatedBps = params_.slashCheatedBps;
        _slashVerifiersBps = params_.slashVerifiersBps;
        _panelSize = params_.panelSize;
        _challengeWindow = params_.challengeWindow;
        _verdictWindow = params_.verdictWindow;
        _maxInputBytes = params_.maxInputBytes;
        _maxBatchSize = params_.maxBatchSize;
    }

    // ---------------------------------------------------------------- getters

    /// @notice A batch's record; all fields are zero for an unknown id. A batch finalized with
    ///         no job audited has left storage (its events keep its record): only its status,
    ///         Finalized, is reported.
    function getBatch(uint256 batchId) external view returns (Batch memory) {
        BatchSlot storage batch = _batches[batchId];
        if (batch.status == BatchStatus.None && _wasCreated(batchId)) {
            Batch memory finalized;
            finalized.status = BatchStatus.Finalized;
            return finalized;
        }
        return Batch({
            requester: _accountAt[batch.requesterId],
            price: batch.price,
            size: batch.size,
            auditBps: batch.auditBps,
            reopenOnExpiry: batch.reopenOnExpiry,
            worker: _accountAt[batch.workerId],
            deadline: batch.deadline,
            seedBlock: batch.seedBlock,
            status: batch.status,
            timeout: batch.timeout
        });
    }

    /// @notice An account's compact id, given on its first batch as requester or worker; 0 if
    ///         it has none yet.
    function accountId(address account) external view returns (uint256) {
        return _accounts[account].id;
    }

    /// @notice The account with a compact id (zero address for an unused id).
    function accountOf(uint256 id) external view returns (address) {
        return id > type(uint32).max ? address(0) : _accountAt[uint32(id)];
    }

    /// @inheritdoc ICollateralKeeper
    function lockedOf(address account, IStaking.Role role) external view returns (uint256) {
        return role == IStaking.Role.Worker ? _accounts[account].workerLocked : _verifierLockOf(account);
    }

    /// @notice Credits `account` can withdraw.
    function balanceOf(address account) external view returns (uint256) {
        return _accounts[account].balance;
    }

    /// @notice Protocol fees `account`'s batch payouts owe the treasury, until `collectFees`.
    function feesOwed(address account) external view returns (uint256) {
        return _accounts[account].feesOwed;
    }

    /// @notice The protocol parameters.
    function params() external view returns (Params memory) {
        return Params({
            treasury: _treasury,
            protocolFeeBps: _protocolFeeBps,
            verifierFeeBps: _verifierFeeBps,
            collateralBps: _collateralBps,
            baseAuditBps: _baseAuditBps,
            slashCheatedBps: _slashCheatedBps,
            slashVerifiersBps: _slashVerifiersBps,
            panelSize: _panelSize,
            challengeWindow: _challengeWindow,
            verdictWindow: _verdictWindow,
            maxInputBytes: _maxInputBytes,
            maxBatchSize: _maxBatchSize
        });
    }

    /// @notice The staking contract.
    function staking() external view returns (IStaking) {
        return _staking;
    }

    /// @notice Collateral a worker or verifier locks per job of this price.
    function collateralFor(uint48 price) external view returns (uint256) {
        return _collateral(price);
    }

    /// @notice The audit premium per job escrowed on top of the price for a raised audit rate.
    function premiumFor(uint48 price, uint16 auditBps) external view returns (uint256) {
        return _premium(price, auditBps);
    }

    /// @notice The id of job `index` of batch `batchId`.
    function jobIdOf(uint256 batchId, uint256 index) external pure returns (uint256) {
        return (batchId << INDEX_BITS) | index;
    }

    // -------------------------------------------------------------- internals

    /// @dev The split of `jobs` unaudited jobs of a batch: the worker gets the price minus the
    ///      protocol fee, and an unused audit premium goes back to the requester.
    function _unauditedPayout(uint48 price, uint16 auditBps, uint256 jobs)
        internal
        view
        returns (uint256 workerPayment, uint256 protocolFee, uint256 premium)
    {
        protocolFee = jobs * (uint256(price) * _protocolFeeBps / BPS);
        workerPayment = jobs * price - protocolFee;
        premium = jobs * _premium(price, auditBps);
    }

    /// @dev `account`'s compact id, given now if it has none.
    function _idOf(address account) internal returns (uint32 id) {
        Account storage record = _accounts[account];
        id = record.id;
        if (id == 0) {
            id = ++_accountCount; // Checked: reverts past 2^32 - 1 accounts.
            record.id = id;
            _accountAt[id] = account;
            emit AccountRegistered(account, id);
        }
    }

    function _workerOf(BatchSlot storage batch) internal view returns (address) {
        return _accountAt[batch.workerId];
    }

    function _requesterOf(BatchSlot storage batch) internal view returns (address) {
        return _accountAt[batch.requesterId];
    }

    /// @dev Locks `amount` of `account`'s stake in `role`, which must be active and have that
    ///      much free.
    function _lock(address account, IStaking.Role role, uint256 amount) internal {
        (bool done, uint256 staked, uint256 free) = _tryLock(account, role, amount);
        if (staked == 0) revert JobMarketNotRegistered(account, role);
        if (!done) revert JobMarketInsufficientFreeStake(account, role, amount, free);
    }

    /// @dev Locks `amount` of `account`'s stake in `role` if it is active (`staked` not 0) and has
    ///      that much free; returns whether it did, the stake, and what was free.
    function _tryLock(address account, IStaking.Role role, uint256 amount)
        internal
        returns (bool done, uint256 staked, uint256 free)
    {
        staked = _staking.activeStake(account, role);
        if (staked == 0) return (false, 0, 0);
        bool worker = role == IStaking.Role.Worker;
        Account storage record = _accounts[account];
        uint256 locked = worker ? record.workerLocked : _verifierLockOf(account);
        // Cannot underflow: a lock never exceeds the stake, and a slash lowers both alike.
        unchecked {
            free = staked - locked;
        }
        if (amount > free) return (false, staked, free);
        // Fits: locked + amount <= staked, a uint64.
        if (worker) record.workerLocked = uint64(locked + amount);
        else _verifierLocked[account] = locked + amount + 1;
        return (true, staked, free);
    }

    /// @dev Releases `amount` of `account`'s locked collateral in `role` (checked: a release of
    ///      more than is locked would be a bug, and reverts).
    function _unlock(address account, IStaking.Role role, uint256 amount) internal {
        if (role == IStaking.Role.Worker) _accounts[account].workerLocked -= SafeCast.toUint64(amount);
        else _verifierLocked[account] = _verifierLockOf(account) - amount + 1; // Checked: a bug if negative.
    }

    function _verifierLockOf(address account) private view returns (uint256) {
        uint256 lockedPlusOne = _verifierLocked[account];
        return lockedPlusOne == 0 ? 0 : lockedPlusOne - 1;
    }

    /// @dev Settles a worker's batch payout in its account slot: releases `collateral`, credits
    ///      `payment`, and adds `fee` to what it owes the treasury. Fees the counter cannot
    ///      hold are credited to the treasury at once, the counter's with them.
    ///      The slot is read and written whole (see `_loadBatch`): `Account`'s fields from the
    ///      low-order bits are id (32), workerLocked (64), balance (96) and feesOwed (64).
    function _payWorker(address worker, uint256 collateral, uint256 payment, uint256 fee) internal {
        Account storage record = _accounts[worker];
        uint256 w;
        assembly ("memory-safe") {
            w := sload(record.slot)
        }
        uint256 locked = uint64(w >> 32) - collateral; // Checked: a release never exceeds the lock.
        uint256 balance = SafeCast.toUint96(uint96(w >> 96) + payment);
        uint256 owed = uint64(w >> 192) + fee;
        if (owed > type(uint64).max) {
            _addBalance(_treasury, owed);
            emit FeesCollected(worker, owed);
            owed = 0;
        }
        w = uint32(w) | locked << 32 | balance << 96 | owed << 192;
        assembly ("memory-safe") {
            sstore(record.slot, w)
        }
    }

    /// @dev Moves the fees `account` owes into the treasury's balance; returns the amount.
    function _collectFees(address account) internal returns (uint256 owed) {
        Account storage record = _accounts[account];
        owed = record.feesOwed;
        if (owed != 0) {
            record.feesOwed = 0;
            emit FeesCollected(account, owed);
        }
    }

    /// @dev Slashes locked collateral and records it; returns the amount.
    function _slash(uint256 batchId, address account, IStaking.Role role, uint256 amount) internal returns (uint256) {
        _unlock(account, role, amount);
        _staking.slash(account, role, amount);
        emit PartySlashed(batchId, account, role, amount);
        return amount;
    }

    function _creditBalance(address account, uint256 batchId, uint256 amount, CreditReason reason) internal {
        if (amount == 0) return;
        _addBalance(account, amount);
        emit Credited(account, batchId, amount, reason);
    }

    /// @dev Adds to an internal balance without a `Credited` event: for credits another event
    ///      records.
    function _addBalance(address account, uint256 amount) internal {
        if (amount != 0) _accounts[account].balance += SafeCast.toUint96(amount);
    }

    function _requireBatch(uint256 batchId, BatchStatus expected) internal view returns (BatchSlot storage batch) {
        batch = _batches[batchId];
        if (batch.status != expected) revert JobMarketInvalidBatchStatus(batchId, _statusOf(batchId, batch.status));
    }

    /// @dev A batch's status as reported: a stored None is Finalized for a batch that left
    ///      storage on finalization.
    function _statusOf(uint256 batchId, BatchStatus stored) internal view returns (BatchStatus) {
        return stored == BatchStatus.None && _wasCreated(batchId) ? BatchStatus.Finalized : stored;
    }

    /// @dev Whether batch `batchId` was ever created.
    function _wasCreated(uint256 batchId) internal view virtual returns (bool);

    /// @dev Removes a batch's record from storage: 4,800 gas back to the caller.
    function _clearBatch(BatchSlot storage slot) internal {
        assembly ("memory-safe") {
            sstore(slot.slot, 0)
        }
    }

    /// @dev A batch's storage word, read whole: one SLOAD where reading field by field, the
    ///      compiler re-reads the word for each. Solc packs a struct's fields from the word's
    ///      low-order bits, in declaration order; `_storeBatch` is the inverse.
    function _loadBatch(BatchSlot storage slot) internal view returns (BatchSlot memory b) {
        uint256 w;
        assembly ("memory-safe") {
            w := sload(slot.slot)
        }
        b.requesterId = uint32(w);
        b.workerId = uint32(w >> 32);
        b.price = uint48(w >> 64);
        b.size = uint16(w >> 112);
        b.auditBps = uint16(w >> 128);
        b.status = BatchStatus(uint8(w >> 144));
        b.reopenOnExpiry = uint8(w >> 152) != 0;
        b.deadline = uint32(w >> 160);
        b.seedBlock = uint32(w >> 192);
        b.timeout = uint24(w >> 224);
    }

    /// @dev Writes a batch's storage word whole: one SSTORE where assigning field by field, the
    ///      compiler reads and writes the word once per field (200 gas each when warm).
    function _storeBatch(BatchSlot storage slot, BatchSlot memory b) internal {
        uint256 w = uint256(b.requesterId) | uint256(b.workerId) << 32 | uint256(b.price) << 64
            | uint256(b.size) << 112 | uint256(b.auditBps) << 128 | uint256(uint8(b.status)) << 144
            | (b.reopenOnExpiry ? uint256(1) << 152 : 0) | uint256(b.deadline) << 160 | uint256(b.seedBlock) << 192
            | uint256(b.timeout) << 224;
        assembly ("memory-safe") {
            sstore(slot.slot, w)
        }
    }

    function _collateral(uint48 price) internal view returns (uint256) {
        return uint256(price) * _collateralBps / BPS;
    }

    /// @dev The premium per job a requester pays for an audit rate above the base: the verifier fee.
    function _premium(uint48 price, uint16 auditBps) internal view returns (uint256) {
        return auditBps > _baseAuditBps ? uint256(price) * _verifierFeeBps / BPS : 0;
    }
}
