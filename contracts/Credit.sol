// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @title Credit
/// @notice The unit of payment, stake and reward in Nightshift. It has 6 decimals, like a
///         stablecoin, so per-job amounts fit in a `uint64` and job records pack tightly.
/// @dev On a devnet the owner (the deployer) mints as a faucet. On a production chain the
///      owner would be a bridge or a sale contract; nothing else in the protocol mints.
contract Credit is ERC20, Ownable {
    /// @param initialOwner The account allowed to mint.
    constructor(address initialOwner) ERC20("Nightshift Credit", "NSC") Ownable(initialOwner) {}

    /// @notice Credits use 6 decimals: 1 credit = 1_000_000 base units.
    function decimals() public pure override returns (uint8) {
        return 6;
    }

    /// @notice Mints `amount` base units to `to`. Only the owner (the devnet faucet) can mint.
    /// @param to The receiver.
    /// @param amount The amount in base units.
    function mint(address to, uint256 amount) external onlyOwner {
        _mint(to, amount);
    }
}
