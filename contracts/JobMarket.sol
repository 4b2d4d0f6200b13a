// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Multicall} from "@openzeppelin/contracts/utils/Multicall.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IModelRegistry} from "./interfaces/IModelRegistry.sol";
import {IModelTerms} from "./interfaces/IModelTerms.sol";
import {IStaking} from "./interfaces/IStaking.sol";
import {JobAudits} from "./JobAudits.sol";
import {JobLedger} from "./JobLedger.sol";

/// @title JobMarket
/// @notice Escrow for inference jobs, in batches. A requester escrows a batch of jobs for one
///         model at one price per job; a staked worker takes the batch on and commits one output
///         hash per job; a random draw after the commit picks jobs for audit; after the
///         challenge window anyone finalizes the batch, crediting internal balances that
///         `withdraw` pays out. Audits, disputes and per-job payouts live in `JobAudits`.
///         OpenZeppelin's `multicall` runs several of these functions in one transaction, each
///         with the caller as `msg.sender`: a worker commits new results and finalizes batches
///         whose window has ended at once, one transaction base (21,000 gas) less.
contract JobMarket is JobAudits, IModelTerms, Multicall {
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
    /// @param params_ The protocol parameters.
    constructor(IERC20 creditToken, IModelRegistry modelRegistry, IStaking staking_, Params memory params_)
        JobLedger(staking_, params_)
    {
        _creditToken = creditToken;
        _registry = modelRegistry;
    }

    // ------------------------------------------------------------ requesters

    /// @notice Creates batches of jobs and escrows their payments (plus any audit premium). The
    ///         escrow is paid from the caller's internal balance first (deposits, refunds,
    ///         earnings), batch by batch, then with one `transferFrom` for the rest; each
    ///         `BatchCreated` says how much of its batch's escrow the balance paid. Batch ids
    ///         are consecutive; job `i` of batch `b` has id `b << 16 | i`.
    /// @param requests The batches.
    /// @return firstBatchId The id of the first batch; the rest follow in order.
    function createBatches(BatchRequest[] calldata requests) external nonReentrant returns (uint256 firstBatchId) {
        uint256 count = requests.length;
        if (count == 0) revert JobMarketInvalidBatchSize(0, 0);
        firstBatchId = _nextBatchId;
        uint32 requesterId = _idOf(msg.sender);
        // The requester's id (above) and balance share a slot: warm here. The balance pays the
        // batches' escrows first, in order; the wallet pays what is left of them.
        uint256 balance = _accounts[msg.sender].balance;
        uint256 left = balance;
        uint256 total;
        for (uint256 i; i < count; ++i) {
            BatchRequest calldata r = requests[i];
            uint16 auditBps = _checkRequest(i, r);
            uint256 batchId = firstBatchId + i;
            uint16 size = uint16(r.inputs.length); // At most maxBatchSize, a uint16: checked above.
            _storeBatch(
                _batches[batchId],
                BatchSlot({
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
                })
            );
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

    /// @notice Deposits credits into the caller's internal balance, from which `createBatches`
    ///         pays first: a requester that deposits once creates each batch without a token
    ///         transfer (about 11,000 gas less per `createBatches`). `withdraw` pays it back out.
    /// @param amount Credits, in base units; needs an allowance.
    function deposit(uint256 amount) external nonReentrant {
        if (amount == 0) revert JobMarketZeroDeposit(msg.sender);
        _accounts[msg.sender].balance += SafeCast.toUint96(amount);
        emit Deposited(msg.sender, amount);

        _creditToken.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @notice Cancels open batches (not yet taken on) and refunds them to the caller's balance.
    /// @param batchIds The batches; the caller must be their requester.
    function cancelBatches(uint256[] calldata batchIds) external {
        _requireNonEmpty(batchIds.length);
        uint32 callerId = _accounts[msg.sender].id; // 0, no one's, if it never had a batch.
        for (uint256 i; i < batchIds.length; ++i) {
            uint256 batchId = batchIds[i];
            BatchSlot storage batch = _requireBatch(batchId, BatchStatus.Open);
            if (batch.requesterId != callerId) revert JobMarketNotRequester(batchId, msg.sender);
            batch.status = BatchStatus.Cancelled;
            emit BatchCancelled(batchId, msg.sender);
            _creditBalance(msg.sender, batchId, _escrowOf(batch), CreditReason.Refund);
        }
    }

    // ---------------------------------------------------------------- workers

    /// @notice Takes open batches on. Collateral for all their jobs is locked from the caller's
    ///         worker stake at once.
    /// @param batchIds The batches.
    function takeBatches(uint256[] calldata batchIds) external {
        _requireNonEmpty(batchIds.length);
        uint32 workerId = _idOf(msg.sender);
        uint256 totalCollateral;
        for (uint256 i; i < batchIds.length; ++i) {
            uint256 batchId = batchIds[i];
            BatchSlot storage batch = _requireBatch(batchId, BatchStatus.Open);
            uint32 deadline = uint32(block.timestamp) + batch.timeout;
            uint256 collateral = batch.size * _collateral(batch.price);
            batch.workerId = workerId;
            batch.deadline = deadline;
            batch.status = BatchStatus.Taken;
            emit BatchTaken(batchId, msg.sender, deadline, collateral);
            totalCollateral += collateral;
        }
        _lock(msg.sender, IStaking.Role.Worker, totalCollateral);
    }

    /// @notice Commits one output hash per job for batches the caller took on, before their
    ///         deadlines, or for open batches, which it takes on in the same transaction (one
    ///         transaction instead of two for a worker that computes an open batch while idle).
    ///         A batch taken on here emits `ResultsCommitted` alone: a take deadline that the
    ///         commit ends at once would be no one's business. The audit draw uses the hash of
    ///         the next block, unknown to the caller.
    /// @param batchIds The batches.
    /// @param outputHashes For each batch, keccak256 of each job's canonical output, in order.
    function commitResults(uint256[] calldata batchIds, bytes32[][] calldata outputHashes) external {
        _requireNonEmpty(batchIds.length);
        if (outputHashes.length != batchIds.length) {
            revert JobMarketLengthMismatch(0, batchIds.length, outputHashes.length);
        }
        uint32 seedBlock = uint32(block.number + 1);
        uint32 challengeDeadline = uint32(block.timestamp) + _challengeWindow;
        uint256 takenCollateral;
        bool took;
        // An id is given to a caller that has none only for a commit that then succeeds.
        uint32 workerId = _idOf(msg.sender);
        for (uint256 i; i < batchIds.length; ++i) {
            uint256 batchId = batchIds[i];
            BatchSlot storage batch = _batches[batchId];
            if (batch.status == BatchStatus.Open) {
                took = true;
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
        if (took) _lock(msg.sender, IStaking.Role.Worker, takenCollateral);
    }

    // ------------------------------------------------------- anyone, by time

    /// @notice Expires taken batches whose worker missed the commit deadline. The worker's
    ///         collateral is slashed; each batch is refunded or reopened, as its requester chose.
    /// @param batchIds The batches.
    function expireBatches(uint256[] calldata batchIds) external nonReentrant {
        _requireNonEmpty(batchIds.length);
        for (uint256 i; i < batchIds.length; ++i) {
            uint256 batchId = batchIds[i];
            BatchSlot storage batch = _requireBatch(batchId, BatchStatus.Taken);
            if (block.timestamp <= batch.deadline) revert JobMarketDeadlineNotReached(batchId, batch.deadline);
            address worker = _workerOf(batch);
            address requester = _requesterOf(batch);
            bool reopen = batch.reopenOnExpiry;
            if (reopen) {
                batch.workerId = 0;
                batch.deadline = 0;
                batch.status = BatchStatus.Open;
            } else {
                batch.status = BatchStatus.Expired;
            }
            emit BatchTimedOut(batchId, worker, reopen);

            uint256 slashed = _slash(batchId, worker, IStaking.Role.Worker, batch.size * _collateral(batch.price));
            _distributeSlash(batchId, slashed, requester, new address[](0));
            if (!reopen) _creditBalance(requester, batchId, _escrowOf(batch), CreditReason.Refund);
        }
    }

    /// @notice Runs the audit draw for committed batches whose seed block has been mined: each
    ///         job is audited with its batch's probability and assigned a random verifier. A
    ///         seed out of `blockhash` reach is re-armed, never skipped.
    /// @param batchIds The batches.
    function drawAudits(uint256[] calldata batchIds) external {
        _requireNonEmpty(batchIds.length);
        for (uint256 i; i < batchIds.length; ++i) {
            uint256 batchId = batchIds[i];
            BatchSlot storage slot = _requireBatch(batchId, BatchStatus.Committed);
            BatchSlot memory batch = _loadBatch(slot);
            if (block.number <= batch.seedBlock) revert JobMarketSeedPending(batchId, batch.seedBlock);
            _drawAudits(batchId, batch, false);
            _storeBatch(slot, batch);
        }
    }

    /// @notice Finalizes batches whose challenge window has ended: the worker is paid for every
    ///         job not under audit, minus the protocol fee. A batch with no job under audit
    ///         leaves storage (see `getBatch`). A batch whose audit draw is still
    ///         pending is drawn first (and left alone if its seed had to be re-armed); that draw
    ///         emits `AuditsDrawn` only if it audits a job.
    /// @param batchIds The batches.
    function finalizeBatches(uint256[] calldata batchIds) external {
        _requireNonEmpty(batchIds.length);
        // The worker of the batch before, starting with the caller: a worker finalizing its own
        // batches, the common case, needs no lookup of its address by id (a cold slot, 2,100 gas).
        uint32 workerId = _accounts[msg.sender].id;
        address worker = msg.sender;
        for (uint256 i; i < batchIds.length; ++i) {
            uint256 batchId = batchIds[i];
            BatchSlot storage slot = _batches[batchId];
            BatchSlot memory batch = _loadBatch(slot);
            BatchStatus status = batch.status;
            if (status != BatchStatus.Committed && status != BatchStatus.Drawn) {
                revert JobMarketInvalidBatchStatus(batchId, _statusOf(batchId, status));
            }
            if (block.timestamp <= batch.deadline) revert JobMarketDeadlineNotReached(batchId, batch.deadline);
            uint256 auditedJobs;
            if (status == BatchStatus.Committed) {
                if (block.number <= batch.seedBlock) revert JobMarketSeedPending(batchId, batch.seedBlock);
                bool drawn;
                // Drawn just now, so no job was challenged yet: the draw's count is the batch's.
                (drawn, auditedJobs) = _drawAudits(batchId, batch, true);
                if (!drawn) {
                    _storeBatch(slot, batch); // The re-armed seed.
                    continue;
                }
            } else {
                auditedJobs = _auditedJobs[batchId];
            }
            if (batch.workerId != workerId) {
                workerId = batch.workerId;
                worker = _accountAt[workerId];
            }
            if (auditedJobs == 0) {
                // Every job is paid now and none settles later: the record leaves storage
                // (4,800 gas back), its events keep it, and the views report it finalized.
                _clearBatch(slot);
            } else {
                batch.status = BatchStatus.Finalized;
                _storeBatch(slot, batch);
            }
            _payBatch(batchId, batch, batch.size - auditedJobs, worker);
        }
    }

    // --------------------------------------------------------------- registry

    /// @inheritdoc IModelTerms
    function setModelTerms(bytes32 modelId, uint64 minPrice, bool active) external {
        if (msg.sender != address(_registry)) revert JobMarketNotRegistry(msg.sender);
        _modelTerms[modelId] = ModelTerms({minPrice: minPrice, active: active, known: true});
        emit ModelTermsSet(modelId, minPrice, active);
    }

    // ---------------------------------------------------------------- payouts

    /// @notice Pays out the caller's whole internal balance.
    function withdraw() external nonReentrant {
        uint256 amount = _accounts[msg.sender].balance;
        if (amount == 0) revert JobMarketNothingToWithdraw(msg.sender);
        _accounts[msg.sender].balance = 0;
        emit Withdrawn(msg.sender, amount);

        _creditToken.safeTransfer(msg.sender, amount);
    }

    /// @notice Credits the protocol fees that accounts' batch payouts owe to the treasury's
    ///         balance. Anyone may call it; the treasury then withdraws as usual.
    /// @param accounts The workers (from `BatchFinalized`); those owing nothing are skipped.
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

    /// @dev Pays a batch's `paidJobs` unaudited jobs to `worker`, its worker, releases their
    ///      collateral and adds their protocol fee to what the worker owes the treasury.
    ///      `BatchFinalized` records the payment and the fee.
    function _payBatch(uint256 batchId, BatchSlot memory batch, uint256 paidJobs, address worker) private {
        (uint256 workerPayment, uint256 protocolFee, uint256 premium) =
            _unauditedPayout(batch.price, batch.auditBps, paidJobs);
        emit BatchFinalized(batchId, worker, paidJobs, workerPayment, protocolFee);
        // The release, the payment and the fee owed write the same slot of the worker's.
        _payWorker(worker, paidJobs * _collateral(batch.price), workerPayment, protocolFee);
        if (premium != 0) _creditBalance(_accountAt[batch.requesterId], batchId, premium, CreditReason.Refund);
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
        if (length == 0) revert JobMarketInvalidBatchSize(0, 0);
    }
}
