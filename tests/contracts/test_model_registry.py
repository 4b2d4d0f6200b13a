import ape
from eth_utils import keccak

from .helpers import CREDIT, DIGITS_ID, EMBED_ID, EXACT, MIN_PRICE, TOLERANCE_HASH, TOLERANT

NEW_ID = keccak(b"new model weights")
ZERO = b"\x00" * 32


def test_register_model_stores_policy_and_emits_event(registry, owner):
    tx = registry.registerModel(NEW_ID, "new-model", TOLERANT, TOLERANCE_HASH, 3 * CREDIT, sender=owner)
    assert tx.events.filter(registry.ModelRegistered) == [
        registry.ModelRegistered(
            modelId=NEW_ID, name="new-model", mode=TOLERANT, toleranceHash=TOLERANCE_HASH, minPrice=3 * CREDIT
        )
    ]
    model = registry.getModel(NEW_ID)
    assert (model.name, model.mode, model.toleranceHash, model.minPrice, model.active) == (
        "new-model",
        TOLERANT,
        TOLERANCE_HASH,
        3 * CREDIT,
        True,
    )
    assert registry.modelIdByName("new-model") == NEW_ID
    assert list(registry.modelIds()) == [EMBED_ID, DIGITS_ID, NEW_ID]


def test_register_model_reverts_if_id_already_registered(registry, owner):
    with ape.reverts(registry.ModelRegistryAlreadyRegistered, modelId=EMBED_ID):
        registry.registerModel(EMBED_ID, "other-name", EXACT, ZERO, MIN_PRICE, sender=owner)


def test_register_model_reverts_if_name_taken(registry, owner):
    with ape.reverts(registry.ModelRegistryNameTaken, name="digits-mlp", existingModelId=DIGITS_ID):
        registry.registerModel(NEW_ID, "digits-mlp", EXACT, ZERO, MIN_PRICE, sender=owner)


def test_register_model_reverts_if_exact_policy_has_tolerance(registry, owner):
    with ape.reverts(registry.ModelRegistryInvalidPolicy, modelId=NEW_ID, mode=EXACT, toleranceHash=TOLERANCE_HASH):
        registry.registerModel(NEW_ID, "new-model", EXACT, TOLERANCE_HASH, MIN_PRICE, sender=owner)


def test_register_model_reverts_if_tolerant_policy_lacks_tolerance(registry, owner):
    with ape.reverts(registry.ModelRegistryInvalidPolicy, modelId=NEW_ID, mode=TOLERANT, toleranceHash=ZERO):
        registry.registerModel(NEW_ID, "new-model", TOLERANT, ZERO, MIN_PRICE, sender=owner)


def test_register_model_reverts_if_mode_is_none(registry, owner):
    with ape.reverts(registry.ModelRegistryInvalidPolicy, modelId=NEW_ID, mode=0, toleranceHash=ZERO):
        registry.registerModel(NEW_ID, "new-model", 0, ZERO, MIN_PRICE, sender=owner)


def test_register_model_reverts_if_id_or_name_empty(registry, owner):
    with ape.reverts(registry.ModelRegistryEmptyField, modelId=ZERO):
        registry.registerModel(ZERO, "new-model", EXACT, ZERO, MIN_PRICE, sender=owner)
    with ape.reverts(registry.ModelRegistryEmptyField, modelId=NEW_ID):
        registry.registerModel(NEW_ID, "", EXACT, ZERO, MIN_PRICE, sender=owner)


def test_register_model_reverts_if_not_owner(registry, requester):
    with ape.reverts(registry.OwnableUnauthorizedAccount, account=requester):
        registry.registerModel(NEW_ID, "new-model", EXACT, ZERO, MIN_PRICE, sender=requester)


def test_set_min_price_updates_price_and_emits_event(registry, owner):
    tx = registry.setMinPrice(EMBED_ID, 7 * CREDIT, sender=owner)
    assert tx.events.filter(registry.ModelPriceUpdated) == [
        registry.ModelPriceUpdated(modelId=EMBED_ID, minPrice=7 * CREDIT)
    ]
    assert registry.activeMinPrice(EMBED_ID) == 7 * CREDIT


def test_set_min_price_reverts_if_unknown_model(registry, owner):
    with ape.reverts(registry.ModelRegistryUnknownModel, modelId=NEW_ID):
        registry.setMinPrice(NEW_ID, 1, sender=owner)


def test_set_min_price_reverts_if_not_owner(registry, requester):
    with ape.reverts(registry.OwnableUnauthorizedAccount, account=requester):
        registry.setMinPrice(EMBED_ID, 1, sender=requester)


def test_set_active_false_makes_active_min_price_revert(registry, owner):
    tx = registry.setActive(DIGITS_ID, False, sender=owner)
    assert tx.events.filter(registry.ModelActivationChanged) == [
        registry.ModelActivationChanged(modelId=DIGITS_ID, active=False)
    ]
    with ape.reverts(registry.ModelRegistryInactiveModel, modelId=DIGITS_ID):
        registry.activeMinPrice(DIGITS_ID)
    assert registry.getModel(DIGITS_ID).active is False


def test_set_active_reverts_if_not_owner(registry, requester):
    with ape.reverts(registry.OwnableUnauthorizedAccount, account=requester):
        registry.setActive(DIGITS_ID, False, sender=requester)


def test_get_model_reverts_if_unknown(registry):
    with ape.reverts(registry.ModelRegistryUnknownModel, modelId=NEW_ID):
        registry.getModel(NEW_ID)


# ------------------------------------------------------ terms sent to the market


def test_link_job_market_sends_every_registered_models_terms(registry, deploy_market, owner):
    registry.setMinPrice(DIGITS_ID, 2 * MIN_PRICE, sender=owner)
    _, mkt, _ = deploy_market()  # Links it.
    assert registry.jobMarket() == mkt.address
    assert mkt.modelTerms(EMBED_ID) == (MIN_PRICE, True, True)
    assert mkt.modelTerms(DIGITS_ID) == (2 * MIN_PRICE, True, True)
    assert mkt.modelTerms(NEW_ID) == (0, False, False)


def test_link_job_market_emits_event_and_reverts_if_not_owner(registry, market, owner, requester):
    tx = registry.linkJobMarket(market, sender=owner)
    assert tx.events.filter(registry.JobMarketLinked) == [registry.JobMarketLinked(jobMarket=market)]
    with ape.reverts(registry.OwnableUnauthorizedAccount, account=requester):
        registry.linkJobMarket(market, sender=requester)


def test_register_and_set_terms_send_them_to_the_linked_market(registry, market, owner):
    tx = registry.registerModel(NEW_ID, "new-model", EXACT, ZERO, 3 * CREDIT, sender=owner)
    assert market.ModelTermsSet(modelId=NEW_ID, minPrice=3 * CREDIT, active=True) in tx.events
    tx = registry.setMinPrice(NEW_ID, 5 * CREDIT, sender=owner)
    assert market.ModelTermsSet(modelId=NEW_ID, minPrice=5 * CREDIT, active=True) in tx.events
    tx = registry.setActive(NEW_ID, False, sender=owner)
    assert market.ModelTermsSet(modelId=NEW_ID, minPrice=5 * CREDIT, active=False) in tx.events
    assert market.modelTerms(NEW_ID) == (5 * CREDIT, False, True)


def test_set_model_terms_reverts_if_not_the_registry(market, owner):
    with ape.reverts(market.JobMarketNotRegistry, caller=owner):
        market.setModelTerms(NEW_ID, 1, True, sender=owner)
