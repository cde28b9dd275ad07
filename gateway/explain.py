"""A readable table of every effective setting of one (sku, channel) for the terminal."""

from __future__ import annotations

from rich import box
from rich.console import Console
from rich.table import Table

from gateway.domain.availability import Availability
from gateway.domain.quantity import format_qty

#: Below this many columns the "overrides" column is left out so the notes stay readable.
WIDE = 110
#: Width of piped output (``| less``, files, tests): wide enough for every column.
PIPE_WIDTH = 200


def render_explain(availability: Availability, channel: str,
                   console: Console | None = None) -> None:
    """Print the availability summary and the provenance of every option.

    Fits the console's width: option names, levels and sources never break; the value and
    note columns wrap; below :data:`WIDE` columns the overrides column is left out (and a
    line says so), and the source column only appears when a source item set something.
    """
    console = console or Console(width=None if Console().is_terminal else PIPE_WIDTH)
    a = availability
    salable = "not managed" if a.salable_qty is None else format_qty(a.salable_qty)
    console.print(f"[bold]{a.sku}[/bold] in channel [bold]{channel}[/bold] (stock {a.stock_id}): "
                  f"{a.stock_status.value}, salable qty {salable}, "
                  f"physical {format_qty(a.physical)}, reserved {format_qty(a.reserved)}")
    wide = console.width >= WIDE
    with_source = any(s.source_code for s in a.settings)
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("option", no_wrap=True)
    table.add_column("value", overflow="fold")
    table.add_column("level", no_wrap=True)
    if with_source:
        table.add_column("source", no_wrap=True)
    if wide:
        table.add_column("overrides", no_wrap=True)
    table.add_column("note", overflow="fold", ratio=1)
    for s in a.settings:
        row = [s.name, s.display, s.level.value]
        if with_source:
            row.append(s.source_code or "")
        if wide:
            row.append(", ".join(level.value for level in s.overrides))
        row.append(s.note or "")
        table.add_row(*row)
    console.print(table)
    if not wide:
        console.print(f"(the overrides column needs {WIDE} columns: widen the terminal, or "
                      "pipe the output)", style="dim")
