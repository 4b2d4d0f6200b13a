"""`nightshift`: the command line. Every error is one line on stderr with its own exit code.

Exit codes: 0 ok, 1 internal error, 2 usage, 3 wallet, 4 network, 5 rejected by the contracts,
6 bad input, 7 verification failed, 8 timed out.
"""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path

import click

from node.chain.errors import ChainError, ContractRevertError, DeploymentError, RpcUnavailableError
from node.cli import account, chat, daemons, jobs, wallet
from node.cli.context import Ctx
from node.cli.errors import INTERNAL, NETWORK, REJECTED, CliError
from node.cli.keystore import Keystore
from node.cli.output import Output
from node.cli.reverts import explain
from node.config import default_deployments
from node.errors import NightshiftError

_output = Output()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--rpc-url", envvar="NIGHTSHIFT_RPC_URL", default="http://127.0.0.1:8545", show_default=True)
@click.option(
    "--deployments",
    envvar="NIGHTSHIFT_DEPLOYMENTS",
    type=click.Path(path_type=Path),
    default=None,
    help="Deployments file (default: the local devnet's).",
)
@click.option("--wallet", envvar="NIGHTSHIFT_WALLET", help="Wallet to use.")
@click.option(
    "--password-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Read the wallet password from a file.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_context
def cli(
    click_ctx: click.Context,
    rpc_url: str,
    deployments: Path | None,
    wallet: str | None,
    password_file: Path | None,
    as_json: bool,
) -> None:
    """Nightshift: an open compute network for AI inference."""
    global _output
    _output = Output(as_json)
    click_ctx.obj = Ctx(_output, rpc_url, deployments or default_deployments(), wallet, password_file, Keystore())


cli.add_command(wallet.wallet)
for command in (
    account.balance,
    account.faucet,
    account.stake,
    account.unstake,
    account.withdraw_stake,
    account.deposit,
    account.withdraw,
    account.history,
    account.collect_fees_,
):
    cli.add_command(command)
cli.add_command(jobs.job)
cli.add_command(jobs.jobs)
cli.add_command(chat.chat)
cli.add_command(daemons.worker)
cli.add_command(daemons.verifier)
cli.add_command(daemons.devnet)
cli.add_command(daemons.gateway)


def run() -> None:
    """The console-script entry point: runs the CLI and turns errors into exit codes."""
    sys.exit(_main(sys.argv[1:]))


def _main(argv: list[str]) -> int:
    if "--json" in argv[1:]:  # Accepted after the subcommand too: `nightshift job status 3.0 --json`.
        argv = ["--json", *(a for a in argv if a != "--json")]
    try:
        result = cli.main(argv, prog_name="nightshift", standalone_mode=False)
        return result if isinstance(result, int) else 0
    except click.exceptions.Abort:
        _output.error("aborted")
        return 130
    except click.UsageError as exc:  # One line, as every error: what was wrong and where to look.
        where = f" (see '{exc.ctx.command_path} --help')" if exc.ctx else ""
        _output.error(exc.format_message() + where)
        return exc.exit_code
    except click.ClickException as exc:
        _output.error(exc.format_message())
        return exc.exit_code
    except CliError as exc:
        _output.error(str(exc))
        return exc.exit_code
    except ContractRevertError as exc:
        _output.error(explain(exc))
        return REJECTED
    except (RpcUnavailableError, DeploymentError) as exc:
        _output.error(str(exc))
        return NETWORK
    except (NightshiftError, ChainError) as exc:
        _output.error(str(exc))
        return INTERNAL
    except Exception as exc:  # A bug: one line, unless NIGHTSHIFT_DEBUG asks for the traceback.
        if os.environ.get("NIGHTSHIFT_DEBUG"):
            traceback.print_exc()
        _output.error(f"internal error: {type(exc).__name__}: {exc}")
        return INTERNAL


if __name__ == "__main__":
    run()
