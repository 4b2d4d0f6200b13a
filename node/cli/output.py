"""The CLI's output layer: rich tables and messages for people, or one JSON document (`--json`).

This is the only place in the project that prints.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table


class Output:
    def __init__(self, as_json: bool = False):
        self.as_json = as_json
        self.console = Console(highlight=False)
        self.errors = Console(stderr=True, highlight=False)

    def result(self, data: Any, *, title: str | None = None) -> None:
        """A command's result: a mapping or a list of mappings."""
        if self.as_json:
            sys.stdout.write(json.dumps(data, default=str) + "\n")
            return
        if isinstance(data, dict):
            table = Table(title=title, show_header=False, box=None)
            for key, value in data.items():
                table.add_row(f"[bold]{key}[/bold]", _cell(value))
            self.console.print(table)
        elif isinstance(data, list) and data and isinstance(data[0], dict):
            self.table(list(data[0]), [[_cell(row[k]) for k in row] for row in data], title=title)
        else:
            self.console.print(_cell(data))

    def table(self, columns: Sequence[str], rows: Sequence[Sequence[Any]], title: str | None = None) -> None:
        table = Table(title=title)
        for column in columns:
            table.add_column(column)
        for row in rows:
            table.add_row(*(_cell(v) for v in row))
        self.console.print(table)

    def info(self, message: str) -> None:
        """Progress text for people; silent with --json."""
        if not self.as_json:
            self.errors.print(message)

    def error(self, message: str) -> None:
        if self.as_json:
            sys.stderr.write(json.dumps({"error": message}) + "\n")
        else:
            self.errors.print(f"[red]error:[/red] {message}", soft_wrap=True)  # One line, however long.


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, list | tuple):
        return ", ".join(_cell(v) for v in value)
    return str(value)
