// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title IStaking
/// @notice Stakes of workers and verifiers, their exits and slashing. The collateral locked
///         from a stake behind open work is kept by the job market, beside the account's
///         balance, so that taking and settling work touch one slot in one contract.
interface IStaking {
    /// @notice The two staked roles. Each has its own minimum stake.
    enum Role {
        Worker,
        Verifier
    }

    /// @notice One account's stake in one role.
    /// @param amount Credits staked, locked part included.
    /// @param locked Credits that back open jobs, audits or disputes (kept by the job market).
    /// @param unbondsAt When an exit was requested: the time the stake can be withdrawn; else 0.
    /// @param active Whether the account is registered and can take new work.
    struct Stake {
        uint64 amount;
        uint64 locked;
        uint40 unbondsAt;
        bool active;
    }

    /// @notice Only the job market may slash.
    error StakingOnlyJobMarket(address caller);
    /// @notice The job market address given at deployment is zero.
    error StakingZeroAddress();
    /// @notice A stake of zero credits.
    error StakingZeroAmount();
    /// @notice The stake after this deposit would be below the role's minimum.
    error StakingBelowMinimum(address account, Role role, uint256 amount, uint256 minimum);
    /// @notice A worker registered without a result URL.
    error StakingEmptyUrl(address account);
    /// @notice The account has no stake in the role.
    error StakingNotStaked(address account, Role role);
    /// @notice The account is already leaving the role; it must withdraw before staking again.
    error StakingExitPending(address account, Role role, uint256 unbondsAt);
    /// @notice The account has not requested an exit from the role.
    error StakingExitNotRequested(address account, Role role);
    /// @notice The unbonding period has not passed.
    error StakingStillUnbonding(address account, Role role, uint256 unbondsAt);
    /// @notice Collateral is locked behind open jobs or disputes, so the stake cannot leave.
    error StakingStakeLocked(address account, Role role, uint256 locked);
    /// @notice Slashing more than is staked.
    error StakingExceedsStake(address account, Role role, uint256 amount, uint256 staked);

    /// @notice Credits were staked.
    event Staked(address indexed account, Role indexed role, uint256 amount, uint256 total);
    /// @notice A worker's result URL was set.
    event WorkerUrlSet(address indexed worker, string url);
    /// @notice An account asked to leave a role.
    event ExitRequested(address indexed account, Role indexed role, uint256 unbondsAt);
    /// @notice A stake left after unbonding.
    event StakeWithdrawn(address indexed account, Role indexed role, uint256 amount);
    /// @notice Stake was slashed and sent to the job market for distribution.
    event StakeSlashed(address indexed account, Role indexed role, uint256 amount);
    /// @notice A slash left the stake below the role's minimum, so the account takes no new work.
    event Deregistered(address indexed account, Role indexed role);
    /// @notice A verifier's seat in the draw pool weighs `weight` from this block on: its stake
    ///         while it is active, zero once it has left or fallen below the minimum.
    event PoolWeightSet(address indexed verifier, uint256 indexed seat, uint256 weight);

    /// @notice The job market, the only contract that may slash, and the keeper of locked collateral.
    function jobMarket() external view returns (address);

    /// @notice Whether `account` is registered and not leaving `role`.
    function isActive(address account, Role role) external view returns (bool);

    /// @notice The amount `account` has staked in `role` if it is active there, else 0: what the
    ///         job market locks collateral against.
    function activeStake(address account, Role role) external view returns (uint256);

    /// @notice Draws a verifier by stake from the pool as it stood at the end of block
    ///         `snapshotBlock`: the weights are the active verifiers' stakes then. Returns zero
    ///         if the verifier drawn has left since, or for an empty pool; the caller draws
    ///         again with other randomness.
    /// @param snapshotBlock The block at whose end the weights are read.
    /// @param randomness Uniform randomness, from a block after `snapshotBlock`.
    function sampleVerifier(uint256 snapshotBlock, uint256 randomness) external view returns (address);

    /// @notice The verifier draw pool's total weight at the end of block `blockNumber`: the
    ///         stake of the verifiers active then.
    function poolWeightAt(uint256 blockNumber) external view returns (uint256);

    /// @notice `verifier`'s seat in the draw pool, held from its first stake until it
    ///         withdraws; zero if it has none.
    function seatOf(address verifier) external view returns (uint256);

    /// @notice The minimum stake of `role`.
    function minStake(Role role) external view returns (uint256);

    /// @notice Takes `amount` of `account`'s stake and sends it to the job market, which has
    ///         released as much of its locked collateral. Only the job market.
    function slash(address account, Role role, uint256 amount) external;
}
