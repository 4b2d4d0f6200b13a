// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Multicall} from "@openzeppelin/contracts/utils/Multicall.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IJobMarket} from "./interfaces/IJobMarket.sol";
import {IModelRegistry} from "./interfaces/IModelRegistry.sol";
import {IModelTerms} from "./interfaces/IModelTerms.sol";
import {IStaking} from "./interfaces/IStaking.sol";
import {IVerificationGame} from "./interfaces/IVerificationGame.sol";
import {AuditDraw} from "./libraries/AuditDraw.sol";
import {JobLedger} from "./JobLedger.sol";

/// @title JobMarket
/// @notice Escrow for inference jobs, in batches. A requester escrows a batch of jobs for one
///         model at one price per job; a staked worker takes the batch on and commits one result
///         commitment per job; a draw from a block after the commit picks jobs for audit, which
///         `VerificationGame` verifies; after the challenge window and the last audit anyone
///         finalizes the batch, crediting internal balances that `withdraw` pays out.
///         OpenZeppelin's `multicall` runs several of these functions in one transaction, each
///         with the caller as `msg.sender`: a worker commits new results and finalizes batches
///         whose window has ended at once.
contract JobMarket is JobLedger, IModelTerms, Multicall, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @dev A model's terms for new jobs, as the registry last sent them.
    struct ModelTerms {
        uint64 minPrice;
        bool active;
        bool known;
    }

    IERC20 private immutable _creditToken;
    IModelRegistry private immutable _registry;

    uint256 private _nextBatchId = 1;
    mapping(bytes32 modelId => ModelTerms) private _modelTerms;

    /// @param creditToken The credit token.
    /// @param modelRegistry The model registry.
    /// @param staking_ The staking contract, deployed first with this market's address.
    /// @param game_ The verification game, deployed next with this market's address.
    /// @param params_ The protocol parameters.
    constructor(
        IERC20 creditToken,
        IModelRegistry modelRegistry,
        IStaking staking_,
        IVerificationGame game_,
        Params memory params_
    ) JobLedger(staking_, game_, params_) {
        _creditToken = creditToken;
        _registry = modelRegistry;
    }

    // ------------------------------------------------------------ requesters

    /// @inheritdoc IJobMarket
    /// @dev The escrow is paid from the caller's internal balance first (deposits, refunds,
    ///      earnings), batch by batch, then with one `transferFrom` for the rest; each
    ///      `BatchCreated` says how much of its batch's escrow the balance paid. Batch ids are
    ///      consecutive; job `i` of batch `b` has id `b << 16 | i`.
    function createBatches(BatchRequest[] calldata requests) external nonReentrant returns (uint256 firstBatchId) {
        uint256 count = requests.length;
        _requireNonEmpty(count);
        firstBatchId = _nextBatchId;
        uint32 requesterId = _idOf(msg.sender);
        uint256 balance = _accounts[msg.sender].balance;
        uint256 left = balance;
        uint256 total;
        for (uint256 i; i < count; ++i) {
            BatchRequest calldata r = requests[i];
            uint16 auditBps = _checkRequest(i, r);
            uint256 batchId = firstBatchId + i;
            uint16 size = uint16(r.inputs.length); // At most maxBatchSize, a uint16: checked above.
            _batches[batchId] = BatchSlot({
                requesterId: requesterId,
                workerId: 0,
                price: r.price,
                size: size,
                auditBps: auditBps,
                status: BatchStatus.Open,
                reopenOnExpiry: r.reopenOnExpiry,
                deadline: 0,
                seedBlock: 0,
                timeout: r.timeout
            });
            uint256 escrow = size * (uint256(r.price) + _premium(r.price, auditBps));
            uint256 fromBalance = left < escrow ? left : escrow;
            // At most `left`: cannot underflow.
            unchecked {
                left -= fromBalance;
            }
            total += escrow;
            emit BatchCreated(
                batchId, msg.sender, r.modelId, r.price, r.timeout, auditBps, r.reopenOnExpiry, fromBalance, r.inputs
            );
        }
        _nextBatchId = firstBatchId + count;

        if (left != balance) _accounts[msg.sender].balance = uint96(left); // At most `balance`: fits.
        uint256 fromWallet = total - (balance - left);
        if (fromWallet != 0) _creditToken.safeTransferFrom(msg.sender, address(this), fromWallet);
    }

    /// @inheritdoc IJobMarket
    /// @dev A requester that deposits once creates each batch without a token transfer.
    function deposit(uint256 amount) external nonReentrant {
        if (amount == 0) revert JobMarketZeroDeposit(msg.sender);
        _accounts[msg.sender].balance += SafeCast.toUint96(amount);
        emit Deposited(msg.sender, amount);

        _creditToken.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @inheritdoc IJobMarket
    /// @dev The delay is the batch's own timeout: a worker that started computing an open batch
    ///      before the request commits it in time, so a requester cannot read results and cancel.
    function requestCancel(uint256[] calldata batchIds) external {
        _requireNonEmpty(batchIds.length);
        uint32 callerId = _accounts[msg.sender].id; // 0, no one's, if it never had a batch.
        for (uint256 i; i < batchIds.length; ++i) {
            uint256 batchId = batchIds[i];
            BatchSlot storage batch = _requireBatch(batchId, BatchStatus.Open);
            if (batch.requesterId != callerId) revert JobMarketNotRequester(batchId, msg.sender);
            if (batch.deadline != 0) revert JobMarketCancelPending(batchId, batch.deadline);
            uint40 cancelAt = uint40(block.timestamp) + batch.timeout;
            batch.deadline = cancelAt;
            emit BatchCancelRequested(batchId, msg.sender, cancelAt);
        }
    }

    /// @inheritdoc IJobMarket
    function cancelBatches(uint256[] calldata batchIds) external {
        _requireNonEmpty(batchIds.length);
        uint32 callerId = _accounts[msg.sender].id;
        for (uint256 i; i < batchIds.length; ++i) {
            uint256 batchId = batchIds[i];
            BatchSlot storage batch = _requireBatch(batchId, BatchStatus.Open);
            if (batch.requesterId != callerId) revert JobMarketNotRequester(batchId, msg.sender);
            uint256 cancelAt = batch.deadline;
            if (cancelAt == 0) revert JobMarketCancelNotRequested(batchId);
            if (block.timestamp < cancelAt) revert JobMarketDeadlineNotReached(batchId, cancelAt);
            batch.status = BatchStatus.Cancelled;
            emit BatchCancelled(batchId, msg.sender);
            _creditBalance(msg.sender, batchId, _escrowOf(batch), CreditReason.Refund);
        }
    }

    // ---------------------------------------------------------------- workers

    /// @inheritdoc IJobMarket
    /// @dev A taken batch can no longer be cancelled.
    function takeBatches(uint256[] calldata batchIds) external {
        _requireNonEmpty(batchIds.length);
        uint32 workerId = _idOf(msg.sender);
        uint256 totalCollateral;
        for (uint256 i; i < batchIds.length; ++i) {
            uint256 batchId = batchIds[i];
            BatchSlot storage batch = _requireBatch(batchId, BatchStatus.Open);
            uint40 deadline = uint40(block.timestamp) + batch.timeout;
            uint256 collateral = batch.size * _collateral(batch.price);
            batch.workerId = workerId;
            batch.deadline = deadline;
            batch.status = BatchStatus.Taken;
            emit BatchTaken(batchId, msg.sender, deadline, collateral);
            totalCollateral += collateral;
        }
        _lockWorker(msg.sender, totalCollateral);
    }

    /// @inheritdoc IJobMarket
    /// @dev Each commitment is `keccak256(abi.encode(worker, jobId, keccak256(output)))`: bound
    ///      to the worker, so that another worker cannot commit the same results first, and
    ///      hiding the output's own hash. A batch taken on here emits `ResultsCommitted` alone.
    ///      The audit draw uses the hash of the next block, unknown to the caller.
    function commitResults(uint256[] calldata batchIds, bytes32[][] calldata outputHashes) external {
        _requireNonEmpty(batchIds.length);
        if (outputHashes.length != batchIds.length) {
            revert JobMarketLengthMismatch(0, batchIds.length, outputHashes.length);
        }
        uint40 seedBlock = uint40(block.number + 1);
        uint40 challengeDeadline = uint40(block.timestamp) + _challengeWindow;
        uint256 takenCollateral;
        // An id is given to a caller that has none only for a commit that then succeeds.
        uint32 workerId = _idOf(msg.sender);
        for (uint256 i; i < batchIds.length; ++i) {
            uint256 batchId = batchIds[i];
            BatchSlot storage batch = _batches[batchId];
            if (batch.status == BatchStatus.Open) {
                takenCollateral += batch.size * _collateral(batch.price);
                batch.workerId = workerId;
            } else {
                _requireBatch(batchId, BatchStatus.Taken);
                if (batch.workerId != workerId) revert JobMarketNotWorker(batchId, msg.sender);
                if (block.timestamp > batch.deadline) revert JobMarketDeadlinePassed(batchId, batch.deadline);
            }
            bytes32[] calldata hashes = outputHashes[i];
            if (hashes.length != batch.size) revert JobMarketLengthMismatch(batchId, batch.size, hashes.length);
            for (uint256 j; j < hashes.length; ++j) {
                if (hashes[j] == bytes32(0)) revert JobMarketZeroOutputHash(batchId, j);
            }
            batch.seedBlock = seedBlock;
            batch.deadline = challengeDeadline;
            batch.status = BatchStatus.Committed;
            emit ResultsCommitted(batchId, msg.sender, hashes, seedBlock, challengeDeadline);
        }
        // Locking checks that the caller is an active worker: a revert undoes the takes above.
        if (takenCollateral != 0) _lockWorker(msg.sender, takenCollateral);
    }

    // ------------------------------------------------------- anyone, by time

    /// @inheritdoc IJobMarket
    /// @dev The worker's collateral is slashed; each batch is refunded or reopened, as its
    ///      requester chose.
    function expireBatches(uint256[] calldata batchIds) external nonReentrant {
        _requireNonEmpty(batchIds.length);
        for (uint256 i; i < batchIds.length; ++i) {
            uint256 batchId = batchIds[i];
            BatchSlot storage batch = _requireBatch(batchId, BatchStatus.Taken);
            if (block.timestamp <= batch.deadline) revert JobMarketDeadlineNotReached(batchId, batch.deadline);
            address worker = _accountAt[batch.workerId];
            address requester = _accountAt[batch.requesterId];
            bool reopen = batch.reopenOnExpiry;
            if (reopen) {
                batch.workerId = 0;
                batch.deadline = 0;
                batch.status = BatchStatus.Open;
            } else {
                batch.status = BatchStatus.Expired;
            }
            emit BatchTimedOut(batchId, worker, reopen);

            uint256 slashed = _slashWorker(batchId, worker, batch.size * _collateral(batch.price));
            _distributeSlash(batchId, slashed, requester, new address[](0));
            if (!reopen) _creditBalance(requester, batchId, _escrowOf(batch), CreditReason.Refund);
        }
    }

    /// @inheritdoc IJobMarket
    /// @dev Each job is selected with its batch's probability from the seed block's hash; the
    ///      selected go to the game, which draws their auditors. A seed that fell out of
    ///      `blockhash` reach is never drawn afresh: every job of the batch is audited.
    function drawAudits(uint256[] calldata batchIds) external {
        _requireNonEmpty(batchIds.length);
        for (uint256 i; i < batchIds.length; ++i) {
            uint256 batchId = batchIds[i];
            BatchSlot storage slot = _requireBatch(batchId, BatchStatus.Committed);
            BatchSlot memory batch = slot;
            if (block.number <= batch.seedBlock) revert JobMarketSeedPending(batchId, batch.seedBlock);
            slot.status = _drawAudits(batchId, batch);
            if (slot.status == BatchStatus.Drawn) emit BatchDrawn(batchId);
        }
    }

    /// @inheritdoc IJobMarket
    /// @dev A committed batch is drawn first; if that selects jobs, the batch now waits for
    ///      their audits and is left alone. A batch with no job audited leaves storage (see
    ///      `getBatch`). A batch whose audits are still open, or whose jobs the game still lets
    ///      be challenged, reverts with `JobMarketAuditsOpen`.
    function finalizeBatches(uint256[] calldata batchIds) external {
        _requireNonEmpty(batchIds.length);
        // The worker of the batch before, starting with the caller: a worker finalizing its own
        // batches, the common case, needs no lookup of its address by id.
        uint32 workerId = _accounts[msg.sender].id;
        address worker = msg.sender;
        for (uint256 i; i < batchIds.length; ++i) {
            uint256 batchId = batchIds[i];
            BatchSlot storage slot = _batches[batchId];
            BatchSlot memory batch = slot;
            BatchStatus status = batch.status;
            if (status != BatchStatus.Committed && status != BatchStatus.Drawn && status != BatchStatus.Audited) {
                revert JobMarketInvalidBatchStatus(batchId, _statusOf(batchId, status));
            }
            if (block.timestamp <= batch.deadline) revert JobMarketDeadlineNotReached(batchId, batch.deadline);
            if (status == BatchStatus.Committed) {
                if (block.number <= batch.seedBlock) revert JobMarketSeedPending(batchId, batch.seedBlock);
                status = _drawAudits(batchId, batch);
                if (status == BatchStatus.Audited) {
                    slot.status = status;
                    continue;
                }
            } else if (status == BatchStatus.Audited) {
                (uint256 open, uint40 until) = _game.batchAudits(batchId);
                if (open != 0 || block.timestamp <= until) revert JobMarketAuditsOpen(batchId, open, until);
            }
            bool audited = status == BatchStatus.Audited;
            if (audited) {
                slot.status = BatchStatus.Finalized;
            } else {
                // Every job is paid now and none settles later: the record leaves storage,
                // its events keep it, and the views report it finalized.
                delete _batches[batchId];
            }
            if (batch.workerId != workerId) {
                workerId = batch.workerId;
                worker = _accountAt[workerId];
            }
            _settleBatch(batchId, batch, worker, audited, false);
        }
    }

    // ------------------------------------------------------------ the game

    /// @inheritdoc IJobMarket
    function markAudited(uint256 batchId) external onlyGame {
        _requireBatch(batchId, BatchStatus.Drawn).status = BatchStatus.Audited;
    }

    /// @inheritdoc IJobMarket
    function forfeitBatch(uint256 batchId) external onlyGame returns (uint256 slashed) {
        BatchSlot storage slot = _requireBatch(batchId, BatchStatus.Audited);
        slot.status = BatchStatus.Forfeited;
        BatchSlot memory batch = slot;
        return _settleBatch(batchId, batch, _accountAt[batch.workerId], true, true);
    }

    // --------------------------------------------------------------- registry

    /// @inheritdoc IModelTerms
    function setModelTerms(bytes32 modelId, uint64 minPrice, bool active) external {
        if (msg.sender != address(_registry)) revert JobMarketNotRegistry(msg.sender);
        _modelTerms[modelId] = ModelTerms({minPrice: minPrice, active: active, known: true});
        emit ModelTermsSet(modelId, minPrice, active);
    }

    // ---------------------------------------------------------------- payouts

    /// @inheritdoc IJobMarket
    function withdraw() external nonReentrant {
        uint256 amount = _accounts[msg.sender].balance;
        if (amount == 0) revert JobMarketNothingToWithdraw(msg.sender);
        _accounts[msg.sender].balance = 0;
        emit Withdrawn(msg.sender, amount);

        _creditToken.safeTransfer(msg.sender, amount);
    }

    /// @inheritdoc IJobMarket
    /// @dev Anyone may call it; the treasury then withdraws as usual. Accounts owing nothing are
    ///      skipped.
    function collectFees(address[] calldata accounts) external {
        _requireNonEmpty(accounts.length);
        uint256 total;
        for (uint256 i; i < accounts.length; ++i) {
            total += _collectFees(accounts[i]);
        }
        _addBalance(_treasury, total);
    }

    // ---------------------------------------------------------------- getters

    /// @notice The credit token.
    function credit() external view returns (IERC20) {
        return _creditToken;
    }

    /// @notice The model registry.
    function registry() external view returns (IModelRegistry) {
        return _registry;
    }

    /// @notice A model's terms for new jobs, as the registry last sent them.
    /// @return minPrice The minimum price per job.
    /// @return active Whether new jobs may name it.
    /// @return known Whether the registry sent any (false: batches naming it revert).
    function modelTerms(bytes32 modelId) external view returns (uint64 minPrice, bool active, bool known) {
        ModelTerms memory terms = _modelTerms[modelId];
        return (terms.minPrice, terms.active, terms.known);
    }

    /// @notice The id the next created batch will get.
    function nextBatchId() external view returns (uint256) {
        return _nextBatchId;
    }

    // ---------------------------------------------------------------- internals

    /// @dev Runs a committed batch's audit draw and returns its new status: Drawn if no job was
    ///      selected, Audited once the selected jobs are handed to the game.
    function _drawAudits(uint256 batchId, BatchSlot memory batch) private returns (BatchStatus) {
        (bytes32 seed, uint256 auditBps) = AuditDraw.batchSeed(batchId, batch.seedBlock, batch.auditBps);
        if (auditBps == 0) return BatchStatus.Drawn;
        uint256[] memory jobIds = AuditDraw.selected(seed, batchId, batch.size, auditBps);
        if (jobIds.length == 0) return BatchStatus.Drawn;
        _game.openAudits(batchId, jobIds, seed);
        return BatchStatus.Audited;
    }

    /// @dev Validates one batch request and returns its effective audit rate.
    function _checkRequest(uint256 index, BatchRequest calldata r) private view returns (uint16 auditBps) {
        uint256 size = r.inputs.length;
        if (size == 0 || size > _maxBatchSize) revert JobMarketInvalidBatchSize(index, size);
        ModelTerms memory terms = _modelTerms[r.modelId];
        if (!terms.known) revert JobMarketUnknownModel(index, r.modelId);
        if (!terms.active) revert JobMarketInactiveModel(index, r.modelId);
        uint64 minPrice = terms.minPrice;
        if (r.price < minPrice || r.price == 0) revert JobMarketPriceTooLow(index, r.modelId, r.price, minPrice);
        uint256 collateral = size * _collateral(r.price);
        if (collateral > _maxBatchCollateral) revert JobMarketBatchTooValuable(index, collateral, _maxBatchCollateral);
        if (r.timeout == 0) revert JobMarketInvalidTimeout(index);
        auditBps = r.auditBps == 0 ? _baseAuditBps : r.auditBps;
        if (auditBps < _baseAuditBps || auditBps > BPS) {
            revert JobMarketInvalidAuditRate(index, r.auditBps, _baseAuditBps);
        }
        uint256 maxInputBytes = _maxInputBytes;
        for (uint256 j; j < size; ++j) {
            JobInput calldata input = r.inputs[j];
            uint256 length = input.data.length;
            if ((length == 0) == (bytes(input.uri).length == 0)) revert JobMarketInvalidInput(index, j);
            if (length > maxInputBytes) revert JobMarketInputTooLarge(index, j, length, maxInputBytes);
            if (length != 0) {
                bytes32 actual = keccak256(input.data);
                if (actual != input.inputHash) revert JobMarketInputHashMismatch(index, j, input.inputHash, actual);
            }
        }
    }

    /// @dev Batch ids are consecutive from 1, so an id below the next one was created.
    function _wasCreated(uint256 batchId) internal view override returns (bool) {
        return batchId != 0 && batchId < _nextBatchId;
    }

    /// @dev What a batch escrowed: its price and any premium, for every job.
    function _escrowOf(BatchSlot storage batch) private view returns (uint256) {
        return batch.size * (uint256(batch.price) + _premium(batch.price, batch.auditBps));
    }

    function _requireNonEmpty(uint256 length) private pure {
        if (length == 0) revert JobMarketEmptyInput();
    }
}
