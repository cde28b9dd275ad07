"""How ``gateway lint`` shows its findings: a table on a terminal, one line per finding
otherwise (tab-separated, for grep, cut and scripts), and a progress bar for big catalogs."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

from rich.console import Console
from rich.table import Table

from gateway.domain.inheritance import Setting
from gateway.domain.lint import Finding
from gateway.services.lint import LintReport

#: Catalogs with at least this many SKUs get a progress bar (on a terminal).
PROGRESS_SKUS = 2000


def setting_text(s: Setting) -> str:
    """``min_sale_qty=5 (PRODUCT)``, with the source item for source-level values."""
    where = s.level.value if s.source_code is None else f"{s.level.value} {s.source_code}"
    return f"{s.name}={s.display} ({where})"


def _channel(report: LintReport, finding: Finding, channel: str | None) -> str:
    if channel is not None:
        return channel
    return ",".join(report.channels(finding.stock_id)) or f"stock {finding.stock_id}"


def finding_line(report: LintReport, finding: Finding, channel: str | None) -> str:
    """One finding on one line: sku, channel, code, message, settings, suggestion (tabs)."""
    return "\t".join((finding.sku, _channel(report, finding, channel), finding.code.value,
                      finding.message, "; ".join(map(setting_text, finding.settings)),
                      finding.suggestion or ""))


def summary(report: LintReport) -> str:
    skus = len({(f.stock_id, f.sku) for f in report.findings})
    return (f"{len(report.findings)} finding(s) on {skus} SKU/stock pair(s); "
            f"{report.skus_checked} SKU(s) checked")


def render(report: LintReport, channel: str | None, out: TextIO | None = None) -> None:
    """Print the findings: a table when ``out`` is a terminal, else one line each; the
    summary goes to standard error."""
    out = out or sys.stdout
    if out.isatty() and report.findings:
        table = Table(show_lines=True)
        for column in ("sku", "channel", "code"):
            table.add_column(column, no_wrap=True)
        for column in ("message", "settings", "suggestion"):
            table.add_column(column, overflow="fold", ratio=1)
        for f in report.findings:
            table.add_row(f.sku, _channel(report, f, channel), f.code.value, f.message,
                          "\n".join(map(setting_text, f.settings)), f.suggestion or "")
        Console(file=out).print(table)
    else:
        for f in report.findings:
            out.write(finding_line(report, f, channel) + "\n")
    print(summary(report), file=sys.stderr)


@contextmanager
def progress_bar() -> Iterator[Callable[[int, int], None]]:
    """A progress callback: a bar on standard error when it is a terminal and the catalog
    is big, else nothing."""
    console = Console(stderr=True)
    if not console.is_terminal:
        yield lambda done, total: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    with Progress("checking SKUs", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as bar:
        task = None

        def advance(done: int, total: int) -> None:
            nonlocal task
            if total < PROGRESS_SKUS:
                return
            if task is None:
                task = bar.add_task("lint", total=total)
            bar.update(task, completed=done)

        yield advance
