// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IStaking} from "./IStaking.sol";

/// @title IJobMarket
/// @notice Escrowed inference jobs, in batches. A batch is one requester's jobs for one model
///         at one price; it is escrowed, taken on, committed and finalized as a unit, so storage
///         and transactions are paid once per batch. Audits are drawn, verified, disputed and
///         settled per job. A job's id is `batchId << 16 | index`. Events are the nodes' API.
interface IJobMarket {
    /// @notice A batch's lifecycle.
    /// @dev Open -> Taken -> Committed -> Drawn (no job selected for audit) or Audited (the
    ///      verification game holds some of its jobs) -> Finalized. A challenge moves Drawn to
    ///      Audited. A proven cheat moves Audited to Forfeited. Open -> Cancelled by the
    ///      requester, after a delay. Taken -> Expired (or back to Open) when the worker misses
    ///      its deadline.
    enum BatchStatus {
        None,
        Open,
        Taken,
        Committed,
        Drawn,
        Audited,
        Finalized,
        Expired,
        Cancelled,
        Forfeited
    }

    /// @notice Why an internal balance was credited.
    enum CreditReason {
        WorkerPayment,
        VerifierFee,
        ProtocolFee,
        Refund,
        SlashShare
    }

    /// @notice A batch's record, as `getBatch` returns it. The market stores it in one slot,
    ///         with the requester and the worker as account ids (see `accountId`).
    /// @param requester Who paid, and who is refunded.
    /// @param price The payment per job, in credit base units.
    /// @param size The number of jobs.
    /// @param auditBps The audit probability of each job, in basis points.
    /// @param reopenOnExpiry On a worker timeout: true reopens the batch, false refunds it.
    /// @param worker The worker that took the batch on (zero while open).
    /// @param deadline Open: when a requested cancellation takes effect (0 if none). Taken: the
    ///        commit deadline. Committed and later: the end of the challenge window. Unix seconds.
    /// @param seedBlock The block whose hash decides which jobs are audited.
    /// @param status The lifecycle status.
    /// @param timeout Seconds a worker has from taking the batch on to committing.
    struct Batch {
        address requester;
        uint40 price;
        uint16 size;
        uint16 auditBps;
        bool reopenOnExpiry;
        address worker;
        uint40 deadline;
        uint40 seedBlock;
        BatchStatus status;
        uint24 timeout;
    }

    /// @notice One job's input: inline bytes or a URI, never both.
    /// @param inputHash keccak256 of the input bytes.
    /// @param data The input inline (at most `maxInputBytes`), or empty.
    /// @param uri Where to fetch the input, or empty.
    struct JobInput {
        bytes32 inputHash;
        bytes data;
        string uri;
    }

    /// @notice What a requester submits: a batch of jobs for one model.
    /// @param modelId A registered, active model.
    /// @param price Credits per job for the worker; at least the model's minimum price.
    /// @param timeout Seconds a worker has from taking the batch on to committing.
    /// @param auditBps 0 for the protocol's base audit rate, or a higher rate, paid for with the
    ///        verifier fee as a premium per job.
    /// @param reopenOnExpiry On a worker timeout: true reopens the batch, false refunds it.
    /// @param inputs The jobs' inputs.
    struct BatchRequest {
        bytes32 modelId;
        uint40 price;
        uint24 timeout;
        uint16 auditBps;
        bool reopenOnExpiry;
        JobInput[] inputs;
    }

    /// @notice Protocol parameters, fixed at deployment.
    /// @param treasury Receives protocol fees and the treasury share of slashes.
    /// @param protocolFeeBps Share of each paid job's payment kept by the protocol.
    /// @param verifierFeeBps Share of a job's payment paid to the verifiers of its audit.
    /// @param collateralBps Collateral locked per job from a worker or verifier, relative to
    ///        the price (may exceed 10000).
    /// @param baseAuditBps The audit probability every job gets.
    /// @param slashCheatedBps Share of a slash credited to the cheated party.
    /// @param slashVerifiersBps Share of a slash split among the verifiers who were right.
    /// @param panelSize How many more verifiers a dispute draws.
    /// @param challengeWindow Seconds after a commit during which auditors may challenge.
    /// @param verdictWindow Seconds a verifier or a dispute panel has to vote.
    /// @param maxInputBytes The largest inline input.
    /// @param maxBatchSize The most jobs in one batch. It bounds the gas of a batch's audit draw,
    ///        which must fit in a block even if every job is selected.
    struct Params {
        address treasury;
        uint16 protocolFeeBps;
        uint16 verifierFeeBps;
        uint32 collateralBps;
        uint16 baseAuditBps;
        uint16 slashCheatedBps;
        uint16 slashVerifiersBps;
        uint8 panelSize;
        uint32 challengeWindow;
        uint32 verdictWindow;
        uint32 maxInputBytes;
        uint16 maxBatchSize;
    }

    // ---------------------------------------------------------------- errors

    /// @notice The parameters are inconsistent (fee or slash shares above 100%, zero windows,
    ///        a panel of fewer than 3 or more than `MAX_PANEL` seats).
    error JobMarketInvalidParams();
    /// @notice The parameters do not make honest work strictly more profitable than cheating:
    ///         `detectionBps * (workerShareBps + collateralBps)` must exceed
    ///         `10000 * workerShareBps`, where `detectionBps` is the base audit rate times the
    ///         honest stake share `1 - COLLUSION_BPS` times the chance colluders do not capture
    ///         the panel (see docs/economics.md).
    error JobMarketUnsafeParams(uint256 detectionBps, uint256 workerShareBps, uint256 collateralBps);
    /// @notice A panel of `panelSize` seats is too easy to capture for the stakes: colluders
    ///         holding `COLLUSION_BPS` of verifier stake would fill its quorum with probability
    ///         `captureWad` (1e18 = certain), often enough for a false accusation to pay.
    error JobMarketCapturablePanel(uint256 panelSize, uint256 captureWad);
    /// @notice The staking contract names another job market than the one being deployed.
    error JobMarketStakingMismatch(address staking, address stakingJobMarket);
    /// @notice A call with no batches, accounts or jobs.
    error JobMarketEmptyInput();
    /// @notice A batch with no jobs or more than `maxBatchSize`.
    error JobMarketInvalidBatchSize(uint256 index, uint256 size);
    /// @notice A batch whose collateral exceeds what one verifier can bond: it could not be
    ///         disputed by every verifier, so it is refused.
    error JobMarketBatchTooValuable(uint256 index, uint256 collateral, uint256 maxCollateral);
    /// @notice Parallel arrays of different lengths.
    error JobMarketLengthMismatch(uint256 batchId, uint256 expected, uint256 actual);
    /// @notice The batch is not in a status that allows the call.
    error JobMarketInvalidBatchStatus(uint256 batchId, BatchStatus status);
    /// @notice Only the batch's requester may do this.
    error JobMarketNotRequester(uint256 batchId, address caller);
    /// @notice Only the batch's worker may do this.
    error JobMarketNotWorker(uint256 batchId, address caller);
    /// @notice The caller is not an active staker in the role.
    error JobMarketNotRegistered(address account, IStaking.Role role);
    /// @notice Not enough of the account's stake in `role` is free to lock `required`.
    error JobMarketInsufficientFreeStake(address account, IStaking.Role role, uint256 required, uint256 available);
    /// @notice The deadline has passed.
    error JobMarketDeadlinePassed(uint256 id, uint256 deadline);
    /// @notice The deadline has not passed yet.
    error JobMarketDeadlineNotReached(uint256 id, uint256 deadline);
    /// @notice The audit seed block has not been mined yet.
    error JobMarketSeedPending(uint256 batchId, uint256 seedBlock);
    /// @notice The batch's audits or disputes are still open, or its jobs still challengeable.
    error JobMarketAuditsOpen(uint256 batchId, uint256 open, uint256 challengeableUntil);
    /// @notice A cancellation was already requested for the batch.
    error JobMarketCancelPending(uint256 batchId, uint256 cancelAt);
    /// @notice No cancellation was requested for the batch.
    error JobMarketCancelNotRequested(uint256 batchId);
    /// @notice An output hash of zero.
    error JobMarketZeroOutputHash(uint256 batchId, uint256 index);
    /// @notice The price is below the model's minimum price.
    error JobMarketPriceTooLow(uint256 index, bytes32 modelId, uint256 price, uint256 minPrice);
    /// @notice An inline input is larger than `maxInputBytes`.
    error JobMarketInputTooLarge(uint256 index, uint256 job, uint256 length, uint256 maxLength);
    /// @notice An input must carry exactly one of inline bytes and a URI.
    error JobMarketInvalidInput(uint256 index, uint256 job);
    /// @notice An inline input does not hash to its input hash.
    error JobMarketInputHashMismatch(uint256 index, uint256 job, bytes32 inputHash, bytes32 actual);
    /// @notice A request with a timeout of zero.
    error JobMarketInvalidTimeout(uint256 index);
    /// @notice An audit rate below the base rate (and not 0) or above 10000.
    error JobMarketInvalidAuditRate(uint256 index, uint256 auditBps, uint256 baseAuditBps);
    /// @notice The caller's internal balance is zero.
    error JobMarketNothingToWithdraw(address account);
    /// @notice A deposit of zero credits.
    error JobMarketZeroDeposit(address account);
    /// @notice Only the market's model registry sets model terms.
    error JobMarketNotRegistry(address caller);
    /// @notice Only the verification game may call this.
    error JobMarketNotGame(address caller);
    /// @notice Batch request `index` names a model the registry never sent this market.
    error JobMarketUnknownModel(uint256 index, bytes32 modelId);
    /// @notice Batch request `index` names a model that takes no new jobs.
    error JobMarketInactiveModel(uint256 index, bytes32 modelId);

    // ---------------------------------------------------------------- events

    /// @notice A batch was created and its payments escrowed, `paidFromBalance` of them from the
    ///         requester's internal balance (the rest from its wallet). Job `i` has id
    ///         `batchId << 16 | i`.
    event BatchCreated(
        uint256 indexed batchId,
        address indexed requester,
        bytes32 indexed modelId,
        uint40 price,
        uint24 timeout,
        uint16 auditBps,
        bool reopenOnExpiry,
        uint256 paidFromBalance,
        JobInput[] inputs
    );
    /// @notice The requester asked to cancel an open batch; unless a worker commits it first,
    ///         `cancelBatches` cancels it from `cancelAt` on.
    event BatchCancelRequested(uint256 indexed batchId, address indexed requester, uint40 cancelAt);
    /// @notice The requester cancelled an open batch and was refunded.
    event BatchCancelled(uint256 indexed batchId, address indexed requester);
    /// @notice A worker took a batch on ahead of its commit (`takeBatches`) and locked
    ///         collateral for all its jobs. A batch taken on in its commit has no such event.
    event BatchTaken(uint256 indexed batchId, address indexed worker, uint40 deadline, uint256 collateral);
    /// @notice A worker missed its commit deadline; the batch was refunded or reopened.
    event BatchTimedOut(uint256 indexed batchId, address indexed worker, bool reopened);
    /// @notice A worker committed one result commitment per job, in order (see `commitResults`).
    ///         If the batch was open, the worker took it on in this commit, locking its collateral.
    event ResultsCommitted(
        uint256 indexed batchId,
        address indexed worker,
        bytes32[] outputHashes,
        uint40 seedBlock,
        uint40 challengeDeadline
    );
    /// @notice A batch's audit draw ran and selected none of its jobs. (A draw that selects jobs
    ///         emits the game's `AuditsDrawn`; one run inside `finalizeBatches` emits neither,
    ///         its `BatchFinalized` pays every job.)
    event BatchDrawn(uint256 indexed batchId);
    /// @notice A worker lost a dispute over one of the batch's jobs: its collateral for the whole
    ///         batch was slashed, it is paid for none of it, and the requester was refunded.
    event BatchForfeited(uint256 indexed batchId, address indexed worker, address indexed requester, uint256 slashed);
    /// @notice Locked collateral of a losing party was slashed.
    event PartySlashed(uint256 indexed batchId, address indexed account, IStaking.Role role, uint256 amount);
    /// @notice A batch was paid: `workerPayment` was credited to the worker, and `protocolFee`
    ///         was added to the fees the worker's account owes the treasury (see
    ///         `FeesCollected`). This event is the record of both (no `Credited` is emitted for
    ///         them). `paidJobs` is the batch's size less the jobs whose audit lapsed unpaid.
    event BatchFinalized(
        uint256 indexed batchId, address indexed worker, uint256 paidJobs, uint256 workerPayment, uint256 protocolFee
    );
    /// @notice An internal balance was credited (a batch's finalization payout is recorded by
    ///         `BatchFinalized` instead).
    event Credited(address indexed account, uint256 indexed batchId, uint256 amount, CreditReason reason);
    /// @notice Credits were deposited into an internal balance, to pay for batches from there.
    event Deposited(address indexed account, uint256 amount);
    /// @notice An internal balance was paid out.
    event Withdrawn(address indexed account, uint256 amount);
    /// @notice Protocol fees an account owed from its batches' payouts were credited to the
    ///         treasury's balance.
    event FeesCollected(address indexed account, uint256 amount);
    /// @notice The registry sent a model's terms for new jobs.
    event ModelTermsSet(bytes32 indexed modelId, uint64 minPrice, bool active);
    /// @notice An account got its compact id, on its first batch as requester or worker.
    event AccountRegistered(address indexed account, uint256 id);

    // ------------------------------------------------------------ requesters

    /// @notice Creates batches of jobs and escrows their payments (plus any audit premium).
    function createBatches(BatchRequest[] calldata requests) external returns (uint256 firstBatchId);

    /// @notice Deposits credits into the caller's internal balance, from which batches are paid.
    function deposit(uint256 amount) external;

    /// @notice Asks to cancel open batches; each can be cancelled after its timeout unless a
    ///         worker committed it meanwhile.
    function requestCancel(uint256[] calldata batchIds) external;

    /// @notice Cancels open batches whose requested cancellation is due, refunding them.
    function cancelBatches(uint256[] calldata batchIds) external;

    // ---------------------------------------------------------------- workers

    /// @notice Takes open batches on, locking collateral for all their jobs.
    function takeBatches(uint256[] calldata batchIds) external;

    /// @notice Commits one result commitment per job for batches taken on (or open ones,
    ///         taken on here).
    function commitResults(uint256[] calldata batchIds, bytes32[][] calldata outputHashes) external;

    // ------------------------------------------------------- anyone, by time

    /// @notice Expires taken batches whose worker missed the commit deadline.
    function expireBatches(uint256[] calldata batchIds) external;

    /// @notice Runs the audit draw of committed batches whose seed block was mined.
    function drawAudits(uint256[] calldata batchIds) external;

    /// @notice Pays batches whose challenge window ended and whose audits are all settled.
    function finalizeBatches(uint256[] calldata batchIds) external;

    /// @notice Pays out the caller's whole internal balance.
    function withdraw() external;

    /// @notice Credits the protocol fees accounts owe to the treasury's balance.
    function collectFees(address[] calldata accounts) external;

    // ------------------------------------------------------------ the game

    /// @notice A challenge opened a dispute on a drawn batch: it now waits for the game.
    function markAudited(uint256 batchId) external;

    /// @notice Slashes a verifier's bond (the game released it first) into the market.
    function slashVerifier(uint256 batchId, address verifier, uint256 amount) external;

    /// @notice Splits slashed credits: a share to the cheated party, a share among the verifiers
    ///         who were right, the rest to the treasury.
    function distributeSlash(uint256 batchId, uint256 pool, address cheated, address[] calldata winners) external;

    /// @notice Pays one audited job's verifier fee, split among `verifiers`.
    function payAuditFee(uint256 batchId, address[] calldata verifiers) external;

    /// @notice The worker lost a dispute: forfeits the batch (see `BatchForfeited`).
    /// @return slashed The worker collateral slashed, for the game to distribute.
    function forfeitBatch(uint256 batchId) external returns (uint256 slashed);

    // ---------------------------------------------------------------- getters

    /// @notice A batch's record (see `Batch`).
    function getBatch(uint256 batchId) external view returns (Batch memory);

    /// @notice The protocol parameters.
    function params() external view returns (Params memory);

    /// @notice Collateral a worker locks per job of this price.
    function collateralFor(uint40 price) external view returns (uint256);

    /// @notice The verification game.
    function game() external view returns (address);

    /// @notice The staking contract.
    function staking() external view returns (IStaking);
}
