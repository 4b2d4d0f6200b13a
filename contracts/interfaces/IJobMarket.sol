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
    /// @dev Open -> Taken -> Committed -> Drawn -> Finalized. Open -> Cancelled by the
    ///      requester. Taken -> Expired (or back to Open) when the worker misses its deadline.
    enum BatchStatus {
        None,
        Open,
        Taken,
        Committed,
        Drawn,
        Finalized,
        Expired,
        Cancelled
    }

    /// @notice An audited or challenged job's verification.
    /// @dev Assigned -> Accepted on accept, Disputed on reject. Disputed -> Accepted | Rejected.
    ///      Assigned -> Lapsed when its verifier timed out and no other is left: it is paid like
    ///      an unaudited job.
    enum AuditStatus {
        None,
        Assigned,
        Disputed,
        Accepted,
        Rejected,
        Lapsed
    }

    /// @notice A job's status as seen from outside, combining its batch and its audit.
    enum JobStatus {
        None,
        Open,
        Taken,
        Committed,
        Unaudited,
        Audited,
        Disputed,
        Finalized,
        Rejected,
        Expired,
        Cancelled
    }

    /// @notice Why an internal balance was credited.
    enum CreditReason {
        WorkerPayment,
        VerifierFee,
        ProtocolFee,
        Refund,
        SlashShare
    }

    /// @notice A verifier's vote.
    enum Vote {
        None,
        Accept,
        Reject
    }

    /// @notice A batch's record, as `getBatch` returns it. The market stores it in one slot,
    ///         with the requester and the worker as account ids (see `accountId`).
    /// @param requester Who paid, and who is refunded.
    /// @param price The payment per job, in credit base units.
    /// @param size The number of jobs.
    /// @param auditBps The audit probability of each job, in basis points.
    /// @param reopenOnExpiry On a worker timeout: true reopens the batch, false refunds it.
    /// @param worker The worker that took the batch on (zero while open).
    /// @param deadline Taken: the commit deadline. Committed/Drawn: the end of the challenge
    ///        window. Unix seconds.
    /// @param seedBlock The block whose hash decides which jobs are audited.
    /// @param status The lifecycle status.
    /// @param timeout Seconds a worker has from taking the batch on to committing.
    struct Batch {
        address requester;
        uint48 price;
        uint16 size;
        uint16 auditBps;
        bool reopenOnExpiry;
        address worker;
        uint32 deadline;
        uint32 seedBlock;
        BatchStatus status;
        uint24 timeout;
    }

    /// @notice One audited or challenged job.
    /// @param status The verification status.
    /// @param deadline The verdict or dispute deadline (unix seconds).
    struct Audit {
        AuditStatus status;
        uint32 deadline;
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
        uint48 price;
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

    /// @notice The parameters are inconsistent (fee or slash shares above 100%, zero windows).
    error JobMarketInvalidParams();
    /// @notice The staking contract names another job market than the one being deployed.
    error JobMarketStakingMismatch(address staking, address stakingJobMarket);
    /// @notice A call with no batches, or a batch with no jobs or more than `maxBatchSize`.
    error JobMarketInvalidBatchSize(uint256 index, uint256 size);
    /// @notice Parallel arrays of different lengths.
    error JobMarketLengthMismatch(uint256 batchId, uint256 expected, uint256 actual);
    /// @notice The batch is not in a status that allows the call.
    error JobMarketInvalidBatchStatus(uint256 batchId, BatchStatus status);
    /// @notice The job is not in a status that allows the call.
    error JobMarketInvalidJobStatus(uint256 jobId, JobStatus status);
    /// @notice Only the batch's requester may do this.
    error JobMarketNotRequester(uint256 batchId, address caller);
    /// @notice Only the batch's worker may do this.
    error JobMarketNotWorker(uint256 batchId, address caller);
    /// @notice The caller is not a verifier assigned to the job.
    error JobMarketNotAssigned(uint256 jobId, address caller);
    /// @notice The caller is not an active staker in the role.
    error JobMarketNotRegistered(address account, IStaking.Role role);
    /// @notice Not enough of the account's stake in `role` is free to lock `required`.
    error JobMarketInsufficientFreeStake(address account, IStaking.Role role, uint256 required, uint256 available);
    /// @notice The job's worker cannot audit or challenge its own job.
    error JobMarketSelfVerification(uint256 jobId, address account);
    /// @notice The verifier already voted on the job.
    error JobMarketAlreadyVoted(uint256 jobId, address verifier);
    /// @notice The deadline has passed.
    error JobMarketDeadlinePassed(uint256 id, uint256 deadline);
    /// @notice The deadline has not passed yet.
    error JobMarketDeadlineNotReached(uint256 id, uint256 deadline);
    /// @notice The audit seed block has not been mined yet.
    error JobMarketSeedPending(uint256 batchId, uint256 seedBlock);
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
        uint48 price,
        uint24 timeout,
        uint16 auditBps,
        bool reopenOnExpiry,
        uint256 paidFromBalance,
        JobInput[] inputs
    );
    /// @notice The requester cancelled an open batch and was refunded.
    event BatchCancelled(uint256 indexed batchId, address indexed requester);
    /// @notice A worker took a batch on ahead of its commit (`takeBatches`) and locked
    ///         collateral for all its jobs. A batch taken on in its commit has no such event.
    event BatchTaken(uint256 indexed batchId, address indexed worker, uint32 deadline, uint256 collateral);
    /// @notice A worker missed its commit deadline; the batch was refunded or reopened.
    event BatchTimedOut(uint256 indexed batchId, address indexed worker, bool reopened);
    /// @notice A worker committed the hashes of its outputs, one per job in order. If the batch
    ///         was open, the worker took it on in this commit, locking its collateral.
    event ResultsCommitted(
        uint256 indexed batchId,
        address indexed worker,
        bytes32[] outputHashes,
        uint32 seedBlock,
        uint32 challengeDeadline
    );
    /// @notice The seed block fell out of `blockhash` reach, so a new one was set.
    event AuditSeedRearmed(uint256 indexed batchId, uint32 seedBlock);
    /// @notice The audit draw ran for a batch; `audited` jobs were selected. A draw run by
    ///         `finalizeBatches` that selects none has no such event: its `BatchFinalized` pays
    ///         every job.
    event AuditsDrawn(uint256 indexed batchId, uint256 audited);
    /// @notice A verifier was assigned to audit a job.
    event AuditAssigned(uint256 indexed jobId, address indexed verifier, uint32 deadline);
    /// @notice A job was selected but no eligible verifier was available; it stays in its batch.
    event AuditUnavailable(uint256 indexed jobId);
    /// @notice A job's verifier timed out and none other was left; it is paid as unaudited.
    event AuditLapsed(uint256 indexed jobId);
    /// @notice A verifier missed its deadline, lost its fee and was replaced.
    event VerifierReplaced(uint256 indexed jobId, address indexed previous, address indexed replacement);
    /// @notice A verifier voted on a job.
    event VerdictSubmitted(uint256 indexed jobId, address indexed verifier, bool accepted, bytes32 outputHash);
    /// @notice A reject or a challenge opened a dispute, and a panel was drawn.
    event DisputeOpened(
        uint256 indexed jobId, address indexed accuser, bool challenge, address[] panel, uint32 deadline
    );
    /// @notice A dispute was decided by majority (a tie goes to the worker).
    event DisputeSettled(uint256 indexed jobId, bool workerWon, uint256 acceptVotes, uint256 rejectVotes);
    /// @notice Locked collateral of a losing party was slashed.
    event PartySlashed(uint256 indexed batchId, address indexed account, IStaking.Role role, uint256 amount);
    /// @notice A batch's unaudited jobs were paid: `workerPayment` was credited to the worker, and
    ///         `protocolFee` was added to the fees the worker's account owes the treasury (see
    ///         `FeesCollected`). This event is the record of both (no `Credited` is emitted for
    ///         them), one event instead of three per batch.
    event BatchFinalized(
        uint256 indexed batchId, address indexed worker, uint256 paidJobs, uint256 workerPayment, uint256 protocolFee
    );
    /// @notice An audited job was settled in the worker's favour and paid.
    event JobFinalized(uint256 indexed jobId, address indexed worker, uint256 workerPayment);
    /// @notice The worker lost a job's dispute; the requester was refunded.
    event JobRejected(uint256 indexed jobId, address indexed worker, address indexed requester);
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
}
