// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IStaking} from "./IStaking.sol";

/// @title IJobMarket
/// @notice Escrowed inference jobs: create, take on, commit, audit by random spot-check,
///         dispute, finalize, and pull payments. Events are the nodes' API.
interface IJobMarket {
    /// @notice A job's lifecycle.
    /// @dev Open -> Taken -> Committed -> (audit draw) -> Unaudited | Audited.
    ///      Unaudited -> Finalized after the challenge window, or Disputed by a challenge.
    ///      Audited -> Finalized on accept, Disputed on reject. Disputed -> Finalized | Rejected.
    ///      Taken -> Expired (or back to Open) when the worker misses its deadline.
    ///      Open -> Cancelled by the requester.
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

    /// @notice A job as stored: four slots.
    /// @param requester Who paid, and who is refunded.
    /// @param payment Credits escrowed for the worker (the audit premium is derived, not stored).
    /// @param timeout Seconds a worker has from taking the job on to committing.
    /// @param worker The worker that took the job on (zero while open).
    /// @param deadline Taken: the commit deadline. Committed/Unaudited: the end of the challenge
    ///        window. Audited/Disputed: the verdict deadline. Unix seconds.
    /// @param seedBlock The block whose hash decides whether the job is audited.
    /// @param status The lifecycle status.
    /// @param reopenOnExpiry Whether a worker timeout reopens the job instead of refunding it.
    /// @param auditBps The audit probability in basis points.
    /// @param modelId The registered model.
    /// @param outputHash keccak256 of the worker's canonical output encoding.
    struct Job {
        address requester;
        uint64 payment;
        uint32 timeout;
        address worker;
        uint32 deadline;
        uint32 seedBlock;
        JobStatus status;
        bool reopenOnExpiry;
        uint16 auditBps;
        bytes32 modelId;
        bytes32 outputHash;
    }

    /// @notice What a requester submits.
    /// @param modelId A registered, active model.
    /// @param inputHash keccak256 of the input bytes.
    /// @param input The input inline (at most `maxInputBytes`), or empty when `inputUri` is set.
    /// @param inputUri Where to fetch the input, or empty when `input` is set.
    /// @param payment Credits for the worker; at least the model's minimum price.
    /// @param timeout Seconds a worker has from taking the job on to committing.
    /// @param auditBps 0 for the protocol's base audit rate, or a higher rate, paid for with the
    ///        verifier fee as a premium.
    /// @param reopenOnExpiry On a worker timeout: true reopens the job, false refunds it.
    struct JobRequest {
        bytes32 modelId;
        bytes32 inputHash;
        bytes input;
        string inputUri;
        uint64 payment;
        uint32 timeout;
        uint16 auditBps;
        bool reopenOnExpiry;
    }

    /// @notice Protocol parameters, fixed at deployment.
    /// @param treasury Receives protocol fees and the treasury share of slashes.
    /// @param protocolFeeBps Share of each paid job's payment kept by the protocol.
    /// @param verifierFeeBps Share of a job's payment paid to the verifiers of an audit.
    /// @param collateralBps Collateral locked per job from a worker or verifier, relative to
    ///        the payment (may exceed 10000).
    /// @param baseAuditBps The audit probability every job gets.
    /// @param slashCheatedBps Share of a slash credited to the cheated party.
    /// @param slashVerifiersBps Share of a slash split among the verifiers who were right.
    /// @param panelSize How many more verifiers a dispute draws.
    /// @param challengeWindow Seconds after a commit during which auditors may challenge.
    /// @param verdictWindow Seconds a verifier or a dispute panel has to vote.
    /// @param maxInputBytes The largest inline input.
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
    }

    // ---------------------------------------------------------------- errors

    /// @notice The parameters are inconsistent (fee or slash shares above 100%, zero windows).
    error JobMarketInvalidParams();
    /// @notice A batch call with no items.
    error JobMarketEmptyBatch();
    /// @notice Parallel arrays of different lengths.
    error JobMarketLengthMismatch(uint256 expected, uint256 actual);
    /// @notice The job is not in a status that allows the call.
    error JobMarketInvalidStatus(uint256 jobId, JobStatus status);
    /// @notice Only the job's requester may do this.
    error JobMarketNotRequester(uint256 jobId, address caller);
    /// @notice Only the job's worker may do this.
    error JobMarketNotWorker(uint256 jobId, address caller);
    /// @notice The caller is not a verifier assigned to the job.
    error JobMarketNotAssigned(uint256 jobId, address caller);
    /// @notice The caller is not an active staker in the role.
    error JobMarketNotRegistered(address account, IStaking.Role role);
    /// @notice The job's worker cannot audit or challenge its own job.
    error JobMarketSelfVerification(uint256 jobId, address account);
    /// @notice The verifier already voted on the job.
    error JobMarketAlreadyVoted(uint256 jobId, address verifier);
    /// @notice The deadline has passed.
    error JobMarketDeadlinePassed(uint256 jobId, uint256 deadline);
    /// @notice The deadline has not passed yet.
    error JobMarketDeadlineNotReached(uint256 jobId, uint256 deadline);
    /// @notice The audit seed block has not been mined yet.
    error JobMarketSeedPending(uint256 jobId, uint256 seedBlock);
    /// @notice An output hash of zero.
    error JobMarketZeroOutputHash(uint256 jobId);
    /// @notice The payment is below the model's minimum price.
    error JobMarketPriceTooLow(uint256 index, bytes32 modelId, uint256 payment, uint256 minPrice);
    /// @notice The inline input is larger than `maxInputBytes`.
    error JobMarketInputTooLarge(uint256 index, uint256 length, uint256 maxLength);
    /// @notice A request must carry exactly one of an inline input and an input URI.
    error JobMarketInvalidInput(uint256 index);
    /// @notice The inline input does not hash to the request's input hash.
    error JobMarketInputHashMismatch(uint256 index, bytes32 inputHash, bytes32 actual);
    /// @notice A request with a timeout of zero.
    error JobMarketInvalidTimeout(uint256 index, uint256 timeout);
    /// @notice An audit rate below the base rate (and not 0) or above 10000.
    error JobMarketInvalidAuditRate(uint256 index, uint256 auditBps, uint256 baseAuditBps);
    /// @notice The caller's internal balance is zero.
    error JobMarketNothingToWithdraw(address account);

    // ---------------------------------------------------------------- events

    /// @notice A job was created and its payment escrowed.
    event JobCreated(
        uint256 indexed jobId,
        address indexed requester,
        bytes32 indexed modelId,
        bytes32 inputHash,
        bytes input,
        string inputUri,
        uint64 payment,
        uint32 timeout,
        uint16 auditBps,
        bool reopenOnExpiry
    );
    /// @notice The requester cancelled an open job and was refunded.
    event JobCancelled(uint256 indexed jobId, address indexed requester);
    /// @notice A worker took a job on and locked collateral.
    event JobTaken(uint256 indexed jobId, address indexed worker, uint32 deadline, uint64 collateral);
    /// @notice A worker missed its commit deadline; the job was refunded or reopened.
    event JobTimedOut(uint256 indexed jobId, address indexed worker, bool reopened);
    /// @notice A worker committed the hash of its output.
    event ResultCommitted(
        uint256 indexed jobId, address indexed worker, bytes32 outputHash, uint32 seedBlock, uint32 challengeDeadline
    );
    /// @notice The seed block fell out of `blockhash` reach, so a new one was set.
    event AuditSeedRearmed(uint256 indexed jobId, uint32 seedBlock);
    /// @notice The draw did not select the job for an audit.
    event AuditNotSelected(uint256 indexed jobId);
    /// @notice The job was selected but no eligible verifier was available.
    event AuditUnavailable(uint256 indexed jobId);
    /// @notice A verifier was assigned to audit the job.
    event AuditAssigned(uint256 indexed jobId, address indexed verifier, uint32 deadline);
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
    event PartySlashed(uint256 indexed jobId, address indexed account, IStaking.Role role, uint256 amount);
    /// @notice The job is settled and the worker was paid.
    event JobFinalized(uint256 indexed jobId, address indexed worker, uint256 workerPayment);
    /// @notice The worker lost the job's dispute; the requester was refunded.
    event JobRejected(uint256 indexed jobId, address indexed worker, address indexed requester);
    /// @notice An internal balance was credited.
    event Credited(address indexed account, uint256 indexed jobId, uint256 amount, CreditReason reason);
    /// @notice An internal balance was paid out.
    event Withdrawn(address indexed account, uint256 amount);
}
