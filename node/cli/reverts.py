"""Plain-language explanations of the contract errors a CLI user can cause."""

from __future__ import annotations

from node.chain.deploy import CREDIT_UNIT
from node.chain.errors import ContractRevertError, as_date


def _credits(units: object) -> str:
    return f"{int(str(units)) / CREDIT_UNIT:g}"


def explain(exc: ContractRevertError) -> str:
    a = exc.args_by_name
    messages = {
        "JobMarketPriceTooLow": lambda: (
            f"price {_credits(a.get('price'))} credits is below the model's minimum of {_credits(a.get('minPrice'))}"
        ),
        "JobMarketInputTooLarge": lambda: (
            f"input {a.get('job')} is {a.get('length')} bytes; the most a job takes inline is {a.get('maxLength')}"
        ),
        "JobMarketInvalidBatchSize": lambda: f"a batch holds 1 to the protocol's maximum jobs; got {a.get('size')}",
        "JobMarketBatchTooValuable": lambda: (
            f"batch collateral {_credits(a.get('collateral'))} over the {_credits(a.get('maxCollateral'))} cap"
        ),
        "ERC20InsufficientBalance": lambda: (
            f"insufficient credits: you have {_credits(a.get('balance'))}, this needs {_credits(a.get('needed'))}"
        ),
        "ERC20InsufficientAllowance": lambda: "the contract is not allowed to spend that many of your credits",
        "StakingBelowMinimum": lambda: (
            f"a stake of {_credits(a.get('amount'))} is below the minimum of {_credits(a.get('minimum'))}"
        ),
        "StakingStakeLocked": lambda: (
            f"{_credits(a.get('locked'))} credits are locked behind open work; try again once it settles"
        ),
        "StakingStillUnbonding": lambda: f"still unbonding until {as_date(int(a.get('unbondsAt', 0)))}",
        "StakingExitNotRequested": lambda: "request the exit first: `nightshift unstake --role ...`",
        "JobMarketNothingToWithdraw": lambda: "nothing to withdraw",
        "JobMarketZeroDeposit": lambda: "deposit more than zero credits",
        "ModelRegistryUnknownModel": lambda: "unknown model",
        "JobMarketUnknownModel": lambda: "unknown model",
        "JobMarketInactiveModel": lambda: "the model takes no new jobs",
    }
    return messages[exc.name]() if exc.name in messages else f"rejected by the contract: {exc}"
