// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ICollateralKeeper} from "./interfaces/ICollateralKeeper.sol";
import {IJobMarket} from "./interfaces/IJobMarket.sol";
import {IStaking} from "./interfaces/IStaking.sol";
import {IVerificationGame} from "./interfaces/IVerificationGame.sol";

/// @title JobLedger
/// @notice The job market's books: the protocol parameters, the batch records, and each
///         account's compact id, internal balance, locked worker collateral and fees owed, with
///         the rules that move them: locks against `Staking`, credits, slashes, and the one
///         payout routine that settles a batch. `JobMarket` builds on it.
/// @dev Storage. A batch is one slot and an account another; the compiler packs both, in the
///      field order below (`tests/contracts/test_storage_layout.py` pins it). Verifier bonds are
///      the verification game's record: `lockedOf` asks it.
abstract contract JobLedger is IJobMarket, ICollateralKeeper {
    uint256 internal constant BPS = 10_000;
    uint256 private constant WAD = 1e18;
    /// @dev A job id is `batchId << INDEX_BITS | index`.
    uint256 internal constant INDEX_BITS = 16;
    /// @notice The share of verifier stake the parameters must withstand colluding against
    ///         honesty (see docs/economics.md): the constructor checks the parameters with it.
    uint256 public constant COLLUSION_BPS = 2_500;
    /// @notice The most seats a dispute panel may have.
    uint256 public constant MAX_PANEL = 15;

    IStaking internal immutable _staking;
    IVerificationGame internal immutable _game;
    /// @dev The most collateral one batch may carry: half the minimum verifier stake, so that
    ///      any verifier with half its stake free can bond a dispute over any batch.
    uint256 internal immutable _maxBatchCollateral;
    // The protocol parameters (see `Params`), fixed at deployment.
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
    ///      creating a batch writes one fresh slot instead of two. `Batch` is the same record
    ///      with addresses, for `getBatch`.
    struct BatchSlot {
        uint32 requesterId;
        uint32 workerId;
        uint40 price;
        uint16 size;
        uint16 auditBps;
        BatchStatus status;
        bool reopenOnExpiry;
        uint40 deadline;
        uint40 seedBlock;
        uint24 timeout;
    }

    /// @dev An account's compact id once it has been a requester or a worker (0 before), the
    ///      collateral locked from its worker stake, its internal balance, and the protocol fees
    ///      its batches' payouts owe the treasury, in one slot: a worker's take and its payout
    ///      touch this slot only (`collectFees` moves the fees to the treasury later).
    struct Account {
        uint32 id;
        uint64 workerLocked;
        uint96 balance;
        uint64 feesOwed;
    }

    mapping(uint256 batchId => BatchSlot) internal _batches;
    mapping(address account => Account) internal _accounts;
    mapping(uint32 id => address account) internal _accountAt;
    /// @dev Verifier fees paid so far for a batch's audited jobs, out of its escrow.
    mapping(uint256 batchId => uint256 amount) internal _auditFeesPaid;
    uint32 private _accountCount;

    modifier onlyGame() {
        if (msg.sender != address(_game)) revert JobMarketNotGame(msg.sender);
        _;
    }

    constructor(IStaking staking_, IVerificationGame game_, Params memory params_) {
        _checkParams(params_);
        address stakingMarket = staking_.jobMarket();
        if (stakingMarket != address(this)) revert JobMarketStakingMismatch(address(staking_), stakingMarket);
        _staking = staking_;
        _game = game_;
        _maxBatchCollateral = staking_.minStake(IStaking.Role.Verifier) / 2;
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

    /// @inheritdoc IJobMarket
    function getBatch(uint256 batchId) external view returns (Batch memory) {
        BatchSlot memory batch = _batches[batchId];
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
        return role == IStaking.Role.Worker ? _accounts[account].workerLocked : _game.bondedOf(account);
    }

    /// @notice Credits `account` can withdraw.
    function balanceOf(address account) external view returns (uint256) {
        return _accounts[account].balance;
    }

    /// @notice Protocol fees `account`'s batch payouts owe the treasury, until `collectFees`.
    function feesOwed(address account) external view returns (uint256) {
        return _accounts[account].feesOwed;
    }

    /// @notice Verifier fees paid so far for a batch's audited jobs.
    function auditFeesPaid(uint256 batchId) external view returns (uint256) {
        return _auditFeesPaid[batchId];
    }

    /// @inheritdoc IJobMarket
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

    /// @inheritdoc IJobMarket
    function staking() external view returns (IStaking) {
        return _staking;
    }

    /// @inheritdoc IJobMarket
    function game() external view returns (address) {
        return address(_game);
    }

    /// @inheritdoc IJobMarket
    function collateralFor(uint40 price) external view returns (uint256) {
        return _collateral(price);
    }

    /// @notice The most collateral one batch may carry (size times the collateral per job).
    function maxBatchCollateral() external view returns (uint256) {
        return _maxBatchCollateral;
    }

    /// @notice The audit premium per job escrowed on top of the price for a raised audit rate.
    function premiumFor(uint40 price, uint16 auditBps) external view returns (uint256) {
        return _premium(price, auditBps);
    }

    /// @notice The id of job `index` of batch `batchId`.
    function jobIdOf(uint256 batchId, uint256 index) external pure returns (uint256) {
        return (batchId << INDEX_BITS) | index;
    }

    // ------------------------------------------------------------ the game

    /// @inheritdoc IJobMarket
    function slashVerifier(uint256 batchId, address verifier, uint256 amount) external onlyGame {
        if (amount == 0) return;
        _staking.slash(verifier, IStaking.Role.Verifier, amount);
        emit PartySlashed(batchId, verifier, IStaking.Role.Verifier, amount);
    }

    /// @inheritdoc IJobMarket
    function distributeSlash(uint256 batchId, uint256 pool, address cheated, address[] calldata winners)
        external
        onlyGame
    {
        _distributeSlash(batchId, pool, cheated, winners);
    }

    /// @inheritdoc IJobMarket
    function payAuditFee(uint256 batchId, address[] calldata verifiers) external onlyGame {
        uint256 fee = uint256(_batches[batchId].price) * _verifierFeeBps / BPS;
        _auditFeesPaid[batchId] += fee;
        uint256 paid = _splitCredit(batchId, fee, verifiers, CreditReason.VerifierFee);
        _creditBalance(_treasury, batchId, fee - paid, CreditReason.ProtocolFee); // The rounding remainder.
    }

    // -------------------------------------------------------------- internals

    /// @dev The one payout routine: settles a batch whose verification is over. An honest batch
    ///      pays its worker the price of every job less the protocol fee (added to what the
    ///      worker owes the treasury) and less the verifier fees paid from the price, releases
    ///      its collateral, and returns the unused audit premium to the requester. A forfeited
    ///      batch pays its worker nothing, slashes all its collateral, and refunds the
    ///      requester its escrow less the verifier fees already paid; it returns the slashed
    ///      amount, for the caller to distribute.
    ///      `audited` says whether the game held any of its jobs (else no verifier fee was paid).
    function _settleBatch(uint256 batchId, BatchSlot memory batch, address worker, bool audited, bool forfeited)
        internal
        returns (uint256 slashed)
    {
        uint256 size = batch.size;
        uint256 collateral = size * _collateral(batch.price);
        uint256 premium = size * _premium(batch.price, batch.auditBps);
        uint256 feesPaid = audited ? _auditFeesPaid[batchId] : 0;
        Account storage record = _accounts[worker];
        record.workerLocked -= SafeCast.toUint64(collateral); // Checked: a release never exceeds the lock.
        if (forfeited) {
            address requester = _accountAt[batch.requesterId];
            _staking.slash(worker, IStaking.Role.Worker, collateral);
            emit PartySlashed(batchId, worker, IStaking.Role.Worker, collateral);
            emit BatchForfeited(batchId, worker, requester, collateral);
            _creditBalance(requester, batchId, size * batch.price + premium - feesPaid, CreditReason.Refund);
            return collateral;
        }
        uint256 protocolFee = size * (uint256(batch.price) * _protocolFeeBps / BPS);
        // Verifier fees come out of the premium when the requester paid one, else out of the price.
        uint256 fromPrice = premium == 0 ? feesPaid : 0;
        uint256 workerPayment = size * batch.price - protocolFee - fromPrice;
        emit BatchFinalized(batchId, worker, size, workerPayment, protocolFee);
        record.balance += SafeCast.toUint96(workerPayment);
        uint256 owed = record.feesOwed + protocolFee;
        if (owed > type(uint64).max) {
            // The counter is full: the fees go to the treasury now, the counter's with them.
            _addBalance(_treasury, owed);
            emit FeesCollected(worker, owed);
            owed = 0;
        }
        record.feesOwed = uint64(owed);
        if (premium != 0) _creditBalance(_accountAt[batch.requesterId], batchId, premium - feesPaid, CreditReason.Refund);
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

    /// @dev Locks `amount` of `worker`'s stake, which must be active and have that much free.
    function _lockWorker(address worker, uint256 amount) internal {
        uint256 staked = _staking.activeStake(worker, IStaking.Role.Worker);
        if (staked == 0) revert JobMarketNotRegistered(worker, IStaking.Role.Worker);
        Account storage record = _accounts[worker];
        uint256 locked = record.workerLocked;
        // A lock never exceeds the stake, and a slash lowers both alike: no underflow.
        uint256 free = staked - locked;
        if (amount > free) revert JobMarketInsufficientFreeStake(worker, IStaking.Role.Worker, amount, free);
        record.workerLocked = uint64(locked + amount); // At most the stake, a uint64.
    }

    /// @dev Slashes `amount` of a worker's locked collateral and records it; returns the amount.
    function _slashWorker(uint256 batchId, address worker, uint256 amount) internal returns (uint256) {
        _accounts[worker].workerLocked -= SafeCast.toUint64(amount);
        _staking.slash(worker, IStaking.Role.Worker, amount);
        emit PartySlashed(batchId, worker, IStaking.Role.Worker, amount);
        return amount;
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

    /// @dev Splits a slash: `slashCheatedBps` to the cheated party, `slashVerifiersBps` among
    ///      the verifiers who were right (the treasury's if there are none), the rest to the
    ///      treasury.
    function _distributeSlash(uint256 batchId, uint256 pool, address cheated, address[] memory winners) internal {
        if (pool == 0) return;
        uint256 cheatedShare = pool * _slashCheatedBps / BPS;
        uint256 verifierShare = winners.length == 0 ? 0 : pool * _slashVerifiersBps / BPS;
        _creditBalance(cheated, batchId, cheatedShare, CreditReason.SlashShare);
        uint256 paid = _splitCredit(batchId, verifierShare, winners, CreditReason.SlashShare);
        _creditBalance(_treasury, batchId, pool - cheatedShare - paid, CreditReason.SlashShare);
    }

    /// @dev Credits an equal share of `amount` to each account; returns the total credited
    ///      (the rounding remainder is the caller's).
    function _splitCredit(uint256 batchId, uint256 amount, address[] memory accounts, CreditReason reason)
        private
        returns (uint256 paid)
    {
        uint256 count = accounts.length;
        if (count == 0 || amount == 0) return 0;
        uint256 each = amount / count;
        for (uint256 i; i < count; ++i) {
            _creditBalance(accounts[i], batchId, each, reason);
        }
        return each * count;
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

    function _collateral(uint40 price) internal view returns (uint256) {
        return uint256(price) * _collateralBps / BPS;
    }

    /// @dev The premium per job a requester pays for an audit rate above the base: the verifier fee.
    function _premium(uint40 price, uint16 auditBps) internal view returns (uint256) {
        return auditBps > _baseAuditBps ? uint256(price) * _verifierFeeBps / BPS : 0;
    }

    /// @dev Refuses inconsistent parameters, and parameters under which cheating or a false
    ///      accusation could pay (docs/economics.md derives both conditions). A garbage job is
    ///      caught with probability at least p (1 - f) (1 - C), p the base audit rate, f the
    ///      colluding stake share `COLLUSION_BPS` (a colluding auditor accepts) and C the chance
    ///      that colluders fill a quorum of the panel (and acquit). A caught cheat forfeits the
    ///      batch's pay and collateral, so cheating loses whenever that chance times
    ///      (share + collateral) exceeds the share, the worker's part of the price being the most
    ///      it could save by not computing.
    function _checkParams(Params memory p) private pure {
        if (
            p.treasury == address(0) || p.protocolFeeBps + p.verifierFeeBps > BPS
                || p.slashCheatedBps + p.slashVerifiersBps > BPS || p.baseAuditBps > BPS || p.challengeWindow == 0
                || p.verdictWindow == 0 || p.maxBatchSize == 0 || p.panelSize < 3 || p.panelSize > MAX_PANEL
        ) revert JobMarketInvalidParams();
        uint256 capture = _captureProbability(p.panelSize);
        uint256 detectionBps = uint256(p.baseAuditBps) * (BPS - COLLUSION_BPS) / BPS * (WAD - capture) / WAD;
        uint256 share = BPS - p.protocolFeeBps;
        if (detectionBps * (share + p.collateralBps) <= BPS * share) {
            revert JobMarketUnsafeParams(detectionBps, share, p.collateralBps);
        }
        // A false accusation wins only if colluders fill a quorum of the panel. What it can win,
        // for a one-job batch (the worst case): the refund, the slash shares of the worker's
        // collateral, and every honest panelist's bond; what it risks: the accusation bond,
        // the batch's collateral. The bet must lose.
        uint256 prize = BPS + uint256(p.collateralBps) * (p.slashCheatedBps + p.slashVerifiersBps) / BPS
            + uint256(p.panelSize) * p.collateralBps;
        if (capture * prize >= (WAD - capture) * p.collateralBps) revert JobMarketCapturablePanel(p.panelSize, capture);
    }

    /// @dev The probability, in WAD, that verifiers holding `COLLUSION_BPS` of the stake fill a
    ///      quorum (a majority) of `seats` seats drawn by stake: a binomial tail.
    function _captureProbability(uint256 seats) private pure returns (uint256 probability) {
        uint256 colluding = COLLUSION_BPS * (WAD / BPS);
        uint256 quorum = seats / 2 + 1;
        uint256 ways = 1; // C(seats, j), built up from C(seats, 0).
        for (uint256 j = 1; j <= seats; ++j) {
            ways = ways * (seats - j + 1) / j;
            if (j < quorum) continue;
            uint256 term = ways * WAD;
            for (uint256 k; k < j; ++k) {
                term = term * colluding / WAD;
            }
            for (uint256 k; k < seats - j; ++k) {
                term = term * (WAD - colluding) / WAD;
            }
            probability += term;
        }
    }
}
