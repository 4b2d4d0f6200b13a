// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IStaking} from "./IStaking.sol";

/// @title ICollateralKeeper
/// @notice What `Staking` asks the job market: how much of a stake it holds locked behind open
///         work. Such stake cannot leave.
interface ICollateralKeeper {
    /// @notice Credits of `account`'s stake in `role` locked behind open jobs, audits or disputes.
    function lockedOf(address account, IStaking.Role role) external view returns (uint256);
}
