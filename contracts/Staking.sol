// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {ICollateralKeeper} from "./interfaces/ICollateralKeeper.sol";
import {IStaking} from "./interfaces/IStaking.sol";
import {StakeTree} from "./libraries/StakeTree.sol";

/// @title Staking
/// @notice Workers and verifiers stake credits to register. The job market locks per-job
///         collateral against these stakes and slashes it when a party loses. Leaving takes two
///         steps, `requestExit` then `withdrawStake` after the unbonding period, and stake
///         that backs open work cannot leave.
/// @dev The job market is fixed at deployment, as an immutable: the deployer passes the
///      address the market will have (its CREATE address, from the deployer's next nonce but
///      one), and the market's constructor checks it. So Staking has no owner and no wiring
///      step, and a slash reads the market's address from the code, not from storage.
///      The locked collateral is the market's record, not Staking's: the market keeps it in
///      the slot that holds the account's balance, which it writes anyway when work is taken
///      or paid, so locking and unlocking cost no call here (about 13,000 gas less per job).
///      Staking asks the market (`ICollateralKeeper.lockedOf`) before a stake leaves.
contract Staking is IStaking, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;
    using StakeTree for StakeTree.Tree;

    IERC20 private immutable _creditToken;
    uint64 private immutable _minWorkerStake;
    uint64 private immutable _minVerifierStake;
    uint40 private immutable _unbondingPeriod;
    address private immutable _jobMarket;
    /// @dev A stake as stored; `Stake` adds the collateral the market has locked.
    ///      `seat` and `seatedAt` (verifiers only): the verifier's seat in the draw pool, held
    ///      from its first stake until it withdraws, and the block it took the seat in.
    struct StakeSlot {
        uint64 amount;
        uint40 unbondsAt;
        bool active;
        uint32 seat;
        uint48 seatedAt;
    }

    mapping(address account => mapping(Role role => StakeSlot)) private _stakes;
    mapping(address worker => string url) private _workerUrls;
    /// @dev The verifier draw pool: each seat weighs its holder's stake while the holder is
    ///      active, with the history a draw at a past block needs. A draw over the pool of a
    ///      past block cannot be steered by stake added after its randomness was fixed, and
    ///      since a seat weighs nothing once its holder leaves, every sample lands on stake
    ///      that was live at that block.
    StakeTree.Tree private _pool;
    mapping(uint256 seat => address verifier) private _seatHolders;
    /// @dev Seats given up by verifiers that withdrew, taken again before new ones are added,
    ///      so the pool grows with the verifiers staked at once, not with all that ever were.
    uint32[] private _freeSeats;
    uint32 private _seatCount;

    modifier onlyJobMarket() {
        if (msg.sender != _jobMarket) revert StakingOnlyJobMarket(msg.sender);
        _;
    }

    /// @param creditToken The credit token.
    /// @param jobMarket_ The job market, the only contract allowed to slash, which keeps the locks:
    ///        the address it will be deployed at.
    /// @param minWorkerStake The minimum stake to register as a worker.
    /// @param minVerifierStake The minimum stake to register as a verifier.
    /// @param unbondingPeriod Seconds between `requestExit` and `withdrawStake`.
    constructor(
        IERC20 creditToken,
        address jobMarket_,
        uint64 minWorkerStake,
        uint64 minVerifierStake,
        uint40 unbondingPeriod
    ) {
        if (jobMarket_ == address(0)) revert StakingZeroAddress();
        _creditToken = creditToken;
        _jobMarket = jobMarket_;
        _minWorkerStake = minWorkerStake;
        _minVerifierStake = minVerifierStake;
        _unbondingPeriod = unbondingPeriod;
    }

    /// @notice Stakes `amount` credits in `role` and (re)registers the caller. A worker gives
    ///         the URL of its result API; verifiers pass an empty string. Needs an allowance.
    /// @param role Worker or Verifier.
    /// @param amount Credits to add, in base units.
    /// @param url The worker's result API URL (kept if empty and already set).
    function stake(Role role, uint256 amount, string calldata url) external nonReentrant {
        if (amount == 0) revert StakingZeroAmount();
        StakeSlot storage s = _stakes[msg.sender][role];
        if (s.unbondsAt != 0) revert StakingExitPending(msg.sender, role, s.unbondsAt);
        uint256 total = s.amount + amount;
        uint256 minimum = _minimum(role);
        if (total < minimum) revert StakingBelowMinimum(msg.sender, role, total, minimum);
        if (role == Role.Worker) {
            if (bytes(url).length != 0) {
                _workerUrls[msg.sender] = url;
                emit WorkerUrlSet(msg.sender, url);
            } else if (bytes(_workerUrls[msg.sender]).length == 0) {
                revert StakingEmptyUrl(msg.sender);
            }
        }

        uint256 weight = _weight(s);
        s.amount = total.toUint64();
        s.active = true;
        emit Staked(msg.sender, role, amount, total);
        if (role == Role.Verifier) {
            if (s.seat == 0) _takeSeat(msg.sender, s);
            _setWeight(msg.sender, s, weight);
        }

        _creditToken.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @notice Changes the caller's registered result URL.
    /// @param url The new URL.
    function setWorkerUrl(string calldata url) external {
        if (bytes(url).length == 0) revert StakingEmptyUrl(msg.sender);
        if (_stakes[msg.sender][Role.Worker].amount == 0) revert StakingNotStaked(msg.sender, Role.Worker);
        _workerUrls[msg.sender] = url;
        emit WorkerUrlSet(msg.sender, url);
    }

    /// @notice Starts leaving `role`: the caller takes no new work from now on and can
    ///         withdraw after the unbonding period, once no collateral is locked.
    /// @param role Worker or Verifier.
    function requestExit(Role role) external {
        StakeSlot storage s = _stakes[msg.sender][role];
        if (s.amount == 0) revert StakingNotStaked(msg.sender, role);
        if (s.unbondsAt != 0) revert StakingExitPending(msg.sender, role, s.unbondsAt);
        uint40 unbondsAt = uint40(block.timestamp) + _unbondingPeriod;
        uint256 weight = _weight(s);
        s.unbondsAt = unbondsAt;
        s.active = false;
        if (role == Role.Verifier) _setWeight(msg.sender, s, weight);
        emit ExitRequested(msg.sender, role, unbondsAt);
    }

    /// @notice Withdraws the caller's whole stake in `role` after unbonding, if none is locked.
    /// @param role Worker or Verifier.
    function withdrawStake(Role role) external nonReentrant {
        StakeSlot storage s = _stakes[msg.sender][role];
        if (s.unbondsAt == 0) revert StakingExitNotRequested(msg.sender, role);
        if (block.timestamp < s.unbondsAt) revert StakingStillUnbonding(msg.sender, role, s.unbondsAt);
        uint256 locked = ICollateralKeeper(_jobMarket).lockedOf(msg.sender, role);
        if (locked != 0) revert StakingStakeLocked(msg.sender, role, locked);
        uint256 amount = s.amount;
        // Its weight is zero since the exit; the seat goes to the next verifier to join.
        if (role == Role.Verifier) _freeSeats.push(s.seat);
        delete _stakes[msg.sender][role];
        emit StakeWithdrawn(msg.sender, role, amount);

        _creditToken.safeTransfer(msg.sender, amount);
    }

    /// @inheritdoc IStaking
    function slash(address account, Role role, uint256 amount) external onlyJobMarket nonReentrant {
        StakeSlot storage s = _stakes[account][role];
        if (amount > s.amount) revert StakingExceedsStake(account, role, amount, s.amount);
        uint256 weight = _weight(s);
        // Cannot underflow: checked against s.amount just above.
        unchecked {
            s.amount -= uint64(amount);
        }
        emit StakeSlashed(account, role, amount);
        bool stays = s.amount >= _minimum(role);
        if (s.active && !stays) {
            s.active = false;
            emit Deregistered(account, role);
        }
        if (role == Role.Verifier) _setWeight(account, s, weight);

        _creditToken.safeTransfer(msg.sender, amount);
    }

    /// @notice The credit token.
    function credit() external view returns (IERC20) {
        return _creditToken;
    }

    /// @inheritdoc IStaking
    function jobMarket() external view returns (address) {
        return _jobMarket;
    }

    /// @inheritdoc IStaking
    function minStake(Role role) external view returns (uint256) {
        return _minimum(role);
    }

    /// @notice Seconds between requesting an exit and withdrawing.
    function unbondingPeriod() external view returns (uint256) {
        return _unbondingPeriod;
    }

    /// @notice `account`'s stake record in `role`, with the collateral the market has locked.
    function getStake(address account, Role role) external view returns (Stake memory) {
        StakeSlot storage s = _stakes[account][role];
        uint256 locked = ICollateralKeeper(_jobMarket).lockedOf(account, role);
        // At most the amount staked, a uint64: the market locks no more than that.
        return Stake({amount: s.amount, locked: uint64(locked), unbondsAt: s.unbondsAt, active: s.active});
    }

    /// @notice The result API URL a worker registered.
    function workerUrl(address worker) external view returns (string memory) {
        return _workerUrls[worker];
    }

    /// @inheritdoc IStaking
    function isActive(address account, Role role) external view returns (bool) {
        return _stakes[account][role].active;
    }

    /// @inheritdoc IStaking
    function activeStake(address account, Role role) external view returns (uint256) {
        StakeSlot storage s = _stakes[account][role];
        return s.active ? s.amount : 0;
    }

    /// @inheritdoc IStaking
    function sampleVerifier(uint256 snapshotBlock, uint256 randomness) external view returns (address) {
        uint256 total = _pool.totalAt(snapshotBlock);
        if (total == 0) return address(0);
        uint256 seat = _pool.find(snapshotBlock, randomness % total);
        address verifier = _seatHolders[seat];
        StakeSlot storage s = _stakes[verifier][Role.Verifier];
        // The seat's weight at the snapshot was its holder's then: a holder that has left
        // since, or took the seat after the snapshot, is not drawn.
        return s.active && s.seat == seat && s.seatedAt <= snapshotBlock ? verifier : address(0);
    }

    /// @inheritdoc IStaking
    function poolWeightAt(uint256 blockNumber) external view returns (uint256) {
        return _pool.totalAt(blockNumber);
    }

    /// @inheritdoc IStaking
    function seatOf(address verifier) external view returns (uint256) {
        return _stakes[verifier][Role.Verifier].seat;
    }

    function _minimum(Role role) private view returns (uint256) {
        return role == Role.Worker ? _minWorkerStake : _minVerifierStake;
    }

    /// @dev What a stake weighs in the verifier draw: all of it while active, else nothing.
    function _weight(StakeSlot storage s) private view returns (uint256) {
        return s.active ? s.amount : 0;
    }

    /// @dev Gives `verifier` a seat in the draw pool: one given up before, else a new one.
    function _takeSeat(address verifier, StakeSlot storage s) private {
        uint256 seat;
        if (_freeSeats.length != 0) {
            seat = _freeSeats[_freeSeats.length - 1];
            _freeSeats.pop();
        } else {
            seat = ++_seatCount;
        }
        s.seat = uint32(seat);
        s.seatedAt = block.number.toUint48();
        _seatHolders[seat] = verifier;
    }

    /// @dev Moves `verifier`'s seat from weight `before` to what its stake weighs now.
    function _setWeight(address verifier, StakeSlot storage s, uint256 before) private {
        uint256 weight = _weight(s);
        if (weight == before) return;
        _pool.set(s.seat, before, weight);
        emit PoolWeightSet(verifier, s.seat, weight);
    }
}
