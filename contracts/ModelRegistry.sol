// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IModelRegistry} from "./interfaces/IModelRegistry.sol";
import {IModelTerms} from "./interfaces/IModelTerms.sol";

/// @title ModelRegistry
/// @notice The models jobs can name. A model's id is keccak256 of its canonical weight bytes,
///         so a node can check that it serves exactly the registered model. Each model carries
///         its verification policy and a minimum price per job. The owner curates the list.
///         The job market linked here (`linkJobMarket`) is sent each model's terms (minimum
///         price, active) whenever they change, and checks new batches against its copy.
contract ModelRegistry is IModelRegistry, Ownable {
    mapping(bytes32 modelId => Model) private _models;
    mapping(string name => bytes32 modelId) private _idsByName;
    bytes32[] private _modelIds;
    IModelTerms private _jobMarket;

    /// @param initialOwner The curator.
    constructor(address initialOwner) Ownable(initialOwner) {}

    /// @notice Registers a model.
    /// @param modelId keccak256 of the model's canonical weight bytes.
    /// @param name A unique human-readable name, as used by the CLI and the gateway.
    /// @param mode `Exact` or `Tolerant`.
    /// @param toleranceHash keccak256 of the tolerance parameters; zero for `Exact`.
    /// @param minPrice The minimum payment per job, in credit base units.
    function registerModel(
        bytes32 modelId,
        string calldata name,
        VerificationMode mode,
        bytes32 toleranceHash,
        uint64 minPrice
    ) external onlyOwner {
        if (modelId == bytes32(0) || bytes(name).length == 0) revert ModelRegistryEmptyField(modelId);
        if (_models[modelId].mode != VerificationMode.None) revert ModelRegistryAlreadyRegistered(modelId);
        bytes32 existing = _idsByName[name];
        if (existing != bytes32(0)) revert ModelRegistryNameTaken(name, existing);
        bool tolerant = mode == VerificationMode.Tolerant;
        if (mode == VerificationMode.None || tolerant != (toleranceHash != bytes32(0))) {
            revert ModelRegistryInvalidPolicy(modelId, mode, toleranceHash);
        }

        _models[modelId] =
            Model({name: name, mode: mode, minPrice: minPrice, active: true, toleranceHash: toleranceHash});
        _idsByName[name] = modelId;
        _modelIds.push(modelId);
        emit ModelRegistered(modelId, name, mode, toleranceHash, minPrice);
        _sendTerms(modelId);
    }

    /// @notice Changes a model's minimum price per job.
    /// @param modelId The model.
    /// @param minPrice The new minimum, in credit base units.
    function setMinPrice(bytes32 modelId, uint64 minPrice) external onlyOwner {
        _requireRegistered(modelId).minPrice = minPrice;
        emit ModelPriceUpdated(modelId, minPrice);
        _sendTerms(modelId);
    }

    /// @notice Allows or stops new jobs for a model. Jobs already created are unaffected.
    /// @param modelId The model.
    /// @param active Whether new jobs may name it.
    function setActive(bytes32 modelId, bool active) external onlyOwner {
        _requireRegistered(modelId).active = active;
        emit ModelActivationChanged(modelId, active);
        _sendTerms(modelId);
    }

    /// @notice Links the job market that mirrors the models' terms, and sends it every
    ///         registered model's; later changes are sent as they happen. Linking another market
    ///         (a migration) stops the sending to the one before.
    /// @param jobMarket The market; it accepts terms from this registry only.
    function linkJobMarket(IModelTerms jobMarket) external onlyOwner {
        _jobMarket = jobMarket;
        emit JobMarketLinked(address(jobMarket));
        for (uint256 i; i < _modelIds.length; ++i) {
            _sendTerms(_modelIds[i]);
        }
    }

    /// @notice The job market that is sent the models' terms (zero before `linkJobMarket`).
    function jobMarket() external view returns (IModelTerms) {
        return _jobMarket;
    }

    /// @inheritdoc IModelRegistry
    function getModel(bytes32 modelId) external view returns (Model memory) {
        return _requireRegistered(modelId);
    }

    /// @inheritdoc IModelRegistry
    function activeMinPrice(bytes32 modelId) external view returns (uint64) {
        Model storage model = _requireRegistered(modelId);
        if (!model.active) revert ModelRegistryInactiveModel(modelId);
        return model.minPrice;
    }

    /// @notice The id registered under `name`, or zero.
    function modelIdByName(string calldata name) external view returns (bytes32) {
        return _idsByName[name];
    }

    /// @notice All registered model ids, in registration order.
    function modelIds() external view returns (bytes32[] memory) {
        return _modelIds;
    }

    /// @dev Sends a model's terms to the linked market, if any: the last step of each change.
    function _sendTerms(bytes32 modelId) private {
        IModelTerms market = _jobMarket;
        if (address(market) == address(0)) return;
        Model storage model = _models[modelId];
        market.setModelTerms(modelId, model.minPrice, model.active);
    }

    function _requireRegistered(bytes32 modelId) private view returns (Model storage model) {
        model = _models[modelId];
        if (model.mode == VerificationMode.None) revert ModelRegistryUnknownModel(modelId);
    }
}
