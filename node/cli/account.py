"""Balances, the devnet faucet, staking, withdrawals and history."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

import click
from web3 import Web3

from node.chain.anvil import dev_accounts
from node.chain.client import ChainClient
from node.chain.deploy import CREDIT_UNIT
from node.chain.errors import as_date
from node.chain.protocol import Role
from node.chain.tx import TxSender
from node.cli.context import Ctx, pass_ctx
from node.cli.errors import CliError, InputError
from node.client import RequesterClient, collect_fees

ROLES = {r.name.lower(): r for r in Role}
DEVNET_CHAIN_ID = 31337
GAS_MONEY = 10**19  # 10 ETH on the devnet, for transaction fees.


def to_units(credits: str) -> int:
    """'1.5' credits -> 1_500_000 base units."""
    try:
        value = Decimal(credits)
    except InvalidOperation:
        raise InputError(f"not an amount of credits: {credits!r}") from None
    units = value * CREDIT_UNIT
    if value < 0 or units != units.to_integral_value():
        raise InputError(f"credits must be non-negative with at most 6 decimals: {credits!r}")
    return int(units)


def credits(units: int) -> str:
    return f"{Decimal(units) / CREDIT_UNIT:f}"


role_option = click.option("--role", type=click.Choice(list(ROLES)), required=True, help="worker or verifier")


@click.command()
@pass_ctx
def balance(ctx: Ctx) -> None:
    """Credits in the wallet, the job-market balance to spend or withdraw (earnings, refunds,
    deposits), and stakes."""
    chain, address = ctx.chain(), ctx.address()
    row = {
        "address": address,
        "credits": credits(chain.credit.functions.balanceOf(address).call()),
        "withdrawable": credits(chain.market.functions.balanceOf(address).call()),
    }
    for role, code in ROLES.items():
        amount, locked, unbonds_at, active = chain.staking.functions.getStake(address, code).call()
        row[f"{role} stake"] = credits(amount)
        row[f"{role} locked"] = credits(locked)
        row[f"{role} status"] = "active" if active else (f"leaving (unbonds at {unbonds_at})" if unbonds_at else "none")
    ctx.out.result(row)


@click.command()
@click.argument("amount", default="1000")
@pass_ctx
def faucet(ctx: Ctx, amount: str) -> None:
    """Mint credits (and gas money) to the wallet. Devnet only: the deployer is anvil's first dev account."""
    chain, address = ctx.chain(), ctx.address()
    deployer = dev_accounts(1)[0]
    if chain.deployment.chain_id != DEVNET_CHAIN_ID or chain.deployment.deployer != deployer.address:
        raise CliError("the faucet is for a local devnet only")
    TxSender(chain.w3, deployer, chain.decoder).transact(chain.credit.functions.mint(address, to_units(amount)))
    if chain.w3.eth.get_balance(Web3.to_checksum_address(address)) < GAS_MONEY // 10:
        chain.w3.provider.make_request("anvil_setBalance", [address, hex(GAS_MONEY)])  # type: ignore[arg-type]
    ctx.out.result(
        {"address": address, "minted": amount, "credits": credits(chain.credit.functions.balanceOf(address).call())}
    )


@click.command()
@role_option
@click.argument("amount")
@click.option("--url", default="", help="A worker's result API URL, as registered on chain.")
@pass_ctx
def stake(ctx: Ctx, role: str, amount: str, url: str) -> None:
    """Stake credits as a worker or a verifier."""
    chain = ctx.chain(signer=True)
    sender, units = chain.require_sender(), to_units(amount)
    if chain.credit.functions.allowance(sender.address, chain.staking.address).call() < units:
        sender.transact(chain.credit.functions.approve(chain.staking.address, 2**256 - 1))
    receipt = sender.transact(chain.staking.functions.stake(ROLES[role], units, url))
    total = chain.view.stake(sender.address, ROLES[role]).amount
    ctx.out.result({"role": role, "staked": amount, "total": credits(total), "tx": receipt["transactionHash"].hex()})


@click.command()
@role_option
@pass_ctx
def unstake(ctx: Ctx, role: str) -> None:
    """Request to leave a role; withdraw the stake after the unbonding period."""
    chain = ctx.chain(signer=True)
    chain.require_sender().transact(chain.staking.functions.requestExit(ROLES[role]))
    unbonds_at = chain.view.stake(chain.address, ROLES[role]).unbonds_at
    ctx.out.result({"role": role, "unbonds_at": as_date(unbonds_at)})


@click.command("withdraw-stake")
@role_option
@pass_ctx
def withdraw_stake(ctx: Ctx, role: str) -> None:
    """Withdraw a stake after unbonding (once no collateral is locked)."""
    chain = ctx.chain(signer=True)
    amount = chain.view.stake(chain.address, ROLES[role]).amount
    chain.require_sender().transact(chain.staking.functions.withdrawStake(ROLES[role]))
    ctx.out.result({"role": role, "withdrawn": credits(amount)})


@click.command()
@click.argument("amount")
@pass_ctx
def deposit(ctx: Ctx, amount: str) -> None:
    """Deposit credits into the job market: submitted jobs are paid from there first, without a
    token transfer each (about 11,000 gas less per submit). `withdraw` pays back what is left."""
    chain, units = ctx.chain(signer=True), to_units(amount)
    if units == 0:
        raise InputError("deposit more than zero credits")
    tx = RequesterClient(chain).deposit(units)
    withdrawable = credits(chain.market.functions.balanceOf(chain.address).call())
    ctx.out.result({"deposited": amount, "withdrawable": withdrawable, "tx": tx})


@click.command()
@pass_ctx
def withdraw(ctx: Ctx) -> None:
    """Pay out earnings, refunds and deposits left in the job market."""
    chain = ctx.chain(signer=True)
    amount = chain.market.functions.balanceOf(chain.address).call()
    chain.require_sender().transact(chain.market.functions.withdraw())
    ctx.out.result({"withdrawn": credits(amount)})


@click.command("collect-fees")
@pass_ctx
def collect_fees_(ctx: Ctx) -> None:
    """Credit the protocol fees workers owe to the treasury's market balance (anyone may; each
    batch payout adds its fee to its worker's account, so that the payout writes one slot)."""
    chain = ctx.chain(signer=True)
    treasury = chain.view.params().treasury
    accounts, amount = collect_fees(chain)
    withdrawable = credits(chain.market.functions.balanceOf(treasury).call())
    ctx.out.result({"accounts": len(accounts), "collected": credits(amount), "treasury withdrawable": withdrawable})


@click.command()
@click.option("--limit", default=50, show_default=True)
@pass_ctx
def history(ctx: Ctx, limit: int) -> None:
    """The account's jobs, payments and slashes, from chain events."""
    chain, address = ctx.chain(), ctx.address()
    rows = _history(chain, address)
    ctx.out.result(rows[-limit:] if rows else [], title=f"history of {address}")


def _history(chain: ChainClient, address: str) -> list[dict[str, object]]:
    start = chain.deployment.block_number
    m = chain.market.events
    queries = [
        (m.BatchCreated, {"requester": address}, _created),
        (m.BatchTaken, {"worker": address}, lambda a: f"took batch {a['batchId']}"),
        (m.ResultsCommitted, {"worker": address}, lambda a: f"committed batch {a['batchId']}"),
        (  # A batch's payout: the worker's credit is recorded here, not by a `Credited` event.
            m.BatchFinalized,
            {"worker": address},
            lambda a: f"credited {credits(a['workerPayment'])} (worker payment, batch {a['batchId']})",
        ),
        (
            m.Credited,
            {"account": address},
            lambda a: f"credited {credits(a['amount'])} ({_REASONS[a['reason']]}, batch {a['batchId']})",
        ),
        (m.PartySlashed, {"account": address}, lambda a: f"slashed {credits(a['amount'])} (batch {a['batchId']})"),
        (m.Deposited, {"account": address}, lambda a: f"deposited {credits(a['amount'])}"),
        (m.Withdrawn, {"account": address}, lambda a: f"withdrew {credits(a['amount'])}"),
        (m.FeesCollected, {"account": address}, lambda a: f"paid {credits(a['amount'])} of fees owed to the treasury"),
    ]
    rows = []
    for event, filters, describe in queries:
        for log in event().get_logs(argument_filters=filters, from_block=start):
            rows.append({"block": log["blockNumber"], "event": log["event"], "detail": describe(log["args"])})
    return sorted(rows, key=lambda r: int(str(r["block"])))


def _created(a: Any) -> str:
    paid = int(a["paidFromBalance"])
    from_balance = f", {credits(paid)} paid from the balance" if paid else ""
    return f"created batch {a['batchId']} ({len(a['inputs'])} jobs{from_balance})"


_REASONS = ["worker payment", "verifier fee", "protocol fee", "refund", "slash share"]
