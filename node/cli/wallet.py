"""`nightshift wallet ...`: encrypted keystores. Keys are typed at a prompt, never passed as flags."""

from __future__ import annotations

import sys

import click
from eth_account import Account

from node.cli.context import Ctx, pass_ctx
from node.cli.keystore import account_from_secret


@click.group()
def wallet() -> None:
    """Create, import, list, show, export and delete wallets."""


@wallet.command()
@click.argument("name")
@pass_ctx
def new(ctx: Ctx, name: str) -> None:
    """Create a wallet with a fresh random key."""
    account = Account.create()
    path = ctx.keystore.create(name, account, ctx.password(confirm=True))
    ctx.out.result({"wallet": name, "address": account.address, "keystore": str(path)})


@wallet.command("import")
@click.argument("name")
@pass_ctx
def import_(ctx: Ctx, name: str) -> None:
    """Import a private key or a mnemonic, typed at a hidden prompt (or piped on stdin)."""
    if sys.stdin.isatty():
        secret = click.prompt("Private key or mnemonic", hide_input=True, err=True)
    else:  # Automation pipes the secret in: read it without a prompt.
        secret = sys.stdin.readline()
    account = account_from_secret(secret)
    path = ctx.keystore.create(name, account, ctx.password(confirm=True))
    ctx.out.result({"wallet": name, "address": account.address, "keystore": str(path)})


@wallet.command("list")
@pass_ctx
def list_(ctx: Ctx) -> None:
    """List wallets and their addresses."""
    rows = [{"wallet": n, "address": ctx.keystore.address(n)} for n in ctx.keystore.names()]
    if ctx.out.as_json or rows:
        ctx.out.result(rows)
    else:
        ctx.out.info("no wallets yet: `nightshift wallet new NAME`")


@wallet.command()
@click.argument("name")
@pass_ctx
def show(ctx: Ctx, name: str) -> None:
    """Show a wallet's address and keystore file."""
    ctx.out.result({"wallet": name, "address": ctx.keystore.address(name), "keystore": str(ctx.keystore.path(name))})


@wallet.command()
@click.argument("name")
@pass_ctx
def export(ctx: Ctx, name: str) -> None:
    """Print the keystore JSON (still encrypted; geth and MetaMask can import it)."""
    ctx.keystore.unlock(name, ctx.password())  # Proves the password before handing the file out.
    click.echo(ctx.keystore.export(name))


@wallet.command()
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_ctx
def delete(ctx: Ctx, name: str, yes: bool) -> None:
    """Delete a wallet's keystore file."""
    address = ctx.keystore.address(name)
    if not yes:
        click.confirm(f"Delete wallet {name} ({address})? Its key is gone unless you exported it", abort=True, err=True)
    ctx.keystore.delete(name)
    ctx.out.result({"deleted": name, "address": address})
