// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title IModelRegistry
/// @notice Models that jobs can name, with their verification policy and minimum price.
interface IModelRegistry {
    /// @notice How a verifier compares its re-execution with the worker's output.
    /// @dev `Exact`: the output bytes must be identical. `Tolerant`: element-wise and cosine
    ///      bounds, whose parameters hash to `toleranceHash`.
    enum VerificationMode {
        None,
        Exact,
        Tolerant
    }

    /// @notice A registered model. `mode`, `minPrice` and `active` share one slot, so the
    ///         market's check of each new batch (`activeMinPrice`) reads one slot.
    /// @param name A human-readable name, unique in the registry.
    /// @param mode The verification policy.
    /// @param minPrice The minimum payment per job, in credit base units.
    /// @param active Whether new jobs may name the model.
    /// @param toleranceHash keccak256 of the tolerance parameters (zero for `Exact`).
    struct Model {
        string name;
        VerificationMode mode;
        uint64 minPrice;
        bool active;
        bytes32 toleranceHash;
    }

    /// @notice A model id is already registered.
    error ModelRegistryAlreadyRegistered(bytes32 modelId);
    /// @notice A model name is already taken by another id.
    error ModelRegistryNameTaken(string name, bytes32 existingModelId);
    /// @notice The model id is not registered.
    error ModelRegistryUnknownModel(bytes32 modelId);
    /// @notice The model is registered but does not accept new jobs.
    error ModelRegistryInactiveModel(bytes32 modelId);
    /// @notice The policy is malformed: no mode, a tolerant model without parameters, or an
    ///         exact model with them.
    error ModelRegistryInvalidPolicy(bytes32 modelId, VerificationMode mode, bytes32 toleranceHash);
    /// @notice A model id or name is empty.
    error ModelRegistryEmptyField(bytes32 modelId);

    /// @notice A model was registered.
    event ModelRegistered(
        bytes32 indexed modelId, string name, VerificationMode mode, bytes32 toleranceHash, uint64 minPrice
    );
    /// @notice A model's minimum price changed.
    event ModelPriceUpdated(bytes32 indexed modelId, uint64 minPrice);
    /// @notice A model was activated or deactivated.
    event ModelActivationChanged(bytes32 indexed modelId, bool active);
    /// @notice The job market that mirrors the models' terms was set; it was sent every model's.
    event JobMarketLinked(address indexed jobMarket);

    /// @notice Returns a registered model; reverts with `ModelRegistryUnknownModel` otherwise.
    function getModel(bytes32 modelId) external view returns (Model memory);

    /// @notice Returns the minimum price of an active model; reverts if unknown or inactive.
    function activeMinPrice(bytes32 modelId) external view returns (uint64);
}
