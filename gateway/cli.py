"""The ``gateway`` command: serve, import, export, schema, explain, lint, compact-reservations.

Settings come from :class:`~gateway.settings.Settings` (the ``GATEWAY_*`` environment) with the
command-line options on top; this module never reads or writes ``os.environ`` itself.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TypeVar

from gateway.settings import DEFAULT_DATABASE, ConfigurationError, Settings

if TYPE_CHECKING:
    from gateway.domain.records import Catalog
    from gateway.services import Services

T = TypeVar("T")

#: Exit status of a command the database refused for now (STORE_BUSY: another writer held it
#: too long; STORAGE_FULL: no disk space): nothing was written, run it again once the cause is
#: gone (sysexits' EX_TEMPFAIL). Everything else that fails exits 2.
EXIT_RETRY = 75
EXIT_STATUS = ("exit status: 0 done; 1 lint findings; 2 error (arguments, configuration, a "
               "catalog with problems, a database that cannot be used); 75 the database is busy "
               "or its disk is full: nothing was written, retry once the message's cause is "
               "gone.")


def _settings(args: argparse.Namespace, **options: object) -> Settings:
    """The settings of this command, or exit 2 with the reason (a bad GATEWAY_* value, an
    unknown database scheme). Configures logging from them: once per command."""
    from gateway.logs import configure_logging

    try:
        settings = Settings.from_env(database=getattr(args, "db", None),
                                     log_level=getattr(args, "log_level", None), **options)
    except ConfigurationError as exc:
        _fail(str(exc))
    configure_logging(settings.log_level, settings.log_format, settings.access_log)
    return settings


def _fail(message: str) -> NoReturn:
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(2)


def _sqlite_folder(settings: Settings) -> None:
    """Create the folder of a SQLite database file (``serve`` and ``import`` create it)."""
    from gateway.store.url import DatabaseKind

    url = settings.database_url
    if url.kind is DatabaseKind.SQLITE:
        Path(url.target).parent.mkdir(parents=True, exist_ok=True)


async def _with_services(settings: Settings, work: Callable[[Services], Awaitable[T]], *,
                         must_exist: bool = False) -> T:
    """``work`` over the services of the database the settings name. Exits 2, with
    ``must_exist`` (read-only commands), for a database that does not exist: a typo must not
    create an empty one. A database that cannot be opened is a StoreError (see main)."""
    from gateway.services.runtime import open_services
    from gateway.store import DatabaseNotFound

    try:
        async with open_services(settings, must_exist=must_exist) as services:
            return await work(services)
    except DatabaseNotFound as exc:
        _fail(str(exc))


async def _nothing(services: Services) -> None:
    return None


def cmd_serve(args: argparse.Namespace) -> int:
    import tempfile

    # A bad GATEWAY_* value is refused here, not in every worker.
    settings = _settings(args, max_connections=args.max_connections,
                         header_timeout=args.header_timeout,
                         keepalive_timeout=args.keepalive_timeout)
    _sqlite_folder(settings)
    # Open (and migrate) the database once before any worker starts: an unreachable server, a
    # full disk or a database of a newer version ends the command with one line (main), not a
    # traceback per worker; the schema is created or migrated once.
    asyncio.run(_with_services(settings, _nothing))
    if settings.metrics_dir is not None:  # given by the operator: start from zero
        from gateway.metrics import clear_directory

        clear_directory(settings.metrics_dir)
        return _serve(args, settings)
    # Workers write their metrics to files in a private directory, removed on exit.
    with tempfile.TemporaryDirectory(prefix="gateway-metrics-") as directory:
        return _serve(args, settings.model_copy(update={"metrics_dir": directory}))


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from gateway.api.app import create_app
    from gateway.logs import logging_config
    from gateway.server import serve

    # Each worker process builds its app from these very settings (the factory is pickled).
    serve(functools.partial(create_app, settings), settings, host=args.host, port=args.port,
          workers=args.workers,
          log_config=logging_config(settings.log_level, settings.log_format,
                                    settings.access_log))
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from gateway.catalog import CatalogProblem
    from gateway.catalog.io import CatalogFileError, read_catalog_file

    settings = _settings(args)
    try:
        document = read_catalog_file(args.file, progress=not args.quiet)
    except CatalogFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    async def work(services: Services) -> tuple[Catalog | None, list[CatalogProblem]]:
        return await services.catalog.import_parsed(document, replace=args.replace)

    catalog, problems = asyncio.run(_with_services(settings, work))
    if catalog is None:
        print(f"{args.file}: {len(problems)} problem(s), nothing was imported:", file=sys.stderr)
        for problem in problems:
            print(f"  {problem.path}: {problem.message}", file=sys.stderr)
        return 2
    if not args.quiet:
        from gateway.store.url import display

        print(f"imported {import_summary(catalog, document)} into {display(settings.database)}"
              + (" (replaced)" if args.replace else ""))
    return 0


def import_summary(catalog: Catalog, document: object) -> str:
    """What an import wrote, counted from the parsed catalog: products created for source
    items of unknown SKUs are products too (and said so)."""
    listed = document.get("products") if isinstance(document, dict) else None
    implicit = len(catalog.products) - (len(listed) if isinstance(listed, list) else 0)
    parts = []
    if catalog.config is not None:
        parts.append("the global configuration")
    for name, count in (("source", len(catalog.sources)), ("stock", len(catalog.stocks)),
                        ("product", len(catalog.products)),
                        ("source item", len(catalog.source_items)),
                        ("reservation", len(catalog.reservations))):
        if count:
            text = f"{count} {name}{'' if count == 1 else 's'}"
            if name == "product" and implicit > 0:
                text += f" ({implicit} created from source items)"
            parts.append(text)
    return ", ".join(parts) or "nothing"


def cmd_export(args: argparse.Namespace) -> int:
    from gateway.catalog.io import write_catalog_file

    async def work(services: Services) -> dict[str, object]:
        return await services.catalog.export_document()

    document = asyncio.run(_with_services(_settings(args), work, must_exist=True))
    write_catalog_file(args.output, document)
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    from gateway.api.schema import build_schema

    sys.stdout.write(build_schema(Settings()).as_str() + "\n")
    return 0


def cmd_explain(args: argparse.Namespace) -> int:
    from gateway.domain.errors import DomainError
    from gateway.explain import render_explain

    async def work(services: Services) -> int:
        try:
            (found,) = await services.storefront.availability(
                args.channel, [args.sku], args.group, provenance=True)
        except DomainError as exc:
            print(f"error: {exc.message}", file=sys.stderr)
            return 2
        if found is None:
            print(f"error: unknown SKU {args.sku!r}", file=sys.stderr)
            return 2
        render_explain(found, args.channel)
        return 0

    return asyncio.run(_with_services(_settings(args), work, must_exist=True))


def cmd_lint(args: argparse.Namespace) -> int:
    """Exit 0 without findings, 1 with findings, 2 when the lint could not run."""
    import sqlite3

    from gateway.domain.errors import DomainError
    from gateway.lint_output import progress_bar, render
    from gateway.services.lint import LintReport
    from gateway.store.schema import SchemaError

    async def work(services: Services) -> LintReport:
        with progress_bar() as progress:
            return await services.lint.report(args.channel, progress)

    try:
        report = asyncio.run(_with_services(_settings(args), work, must_exist=True))
    except DomainError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    except (sqlite3.Error, SchemaError, OSError) as exc:  # StoreError: see main()
        print(f"error: cannot read the database: {exc}", file=sys.stderr)
        return 2
    render(report, args.channel)
    return 1 if report.findings else 0


def cmd_compact(args: argparse.Namespace) -> int:
    async def work(services: Services) -> int:
        return await services.orders.compact_reservations()

    removed = asyncio.run(_with_services(_settings(args), work, must_exist=True))
    print(f"removed {removed} reservation rows of orders that net to zero")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gateway", description="Storefront availability gateway (Magento MSI rules).",
        epilog=EXIT_STATUS)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def with_db(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--db", default=None,
                       help=f"database: a SQLite file path, sqlite:///path or "
                            f"postgresql://user@host/db (default: $GATEWAY_DATABASE, else "
                            f"{DEFAULT_DATABASE})")
        p.epilog = EXIT_STATUS
        return p

    serve = with_db(sub.add_parser("serve", help="serve GraphQL (GraphiQL at /graphql)"))
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    serve.add_argument("--log-level", default=None,
                       choices=["debug", "info", "warning", "error"],
                       help="default: $GATEWAY_LOG_LEVEL, else info")
    serve.add_argument("--max-connections", type=int, default=None,
                       help="open connections per worker (default: $GATEWAY_MAX_CONNECTIONS, "
                            "else 1000)")
    serve.add_argument("--header-timeout", type=float, default=None,
                       help="seconds to send a complete request head, from opening or "
                            "from the next request's first byte (default: "
                            "$GATEWAY_HEADER_TIMEOUT, else 10)")
    serve.add_argument("--keepalive-timeout", type=float, default=None,
                       help="seconds an idle keep-alive connection stays open; above a "
                            "load balancer's idle timeout (default: "
                            "$GATEWAY_KEEPALIVE_TIMEOUT, else 5)")
    serve.set_defaults(func=cmd_serve)

    imp = with_db(sub.add_parser("import", help="import an availability-catalog/1 JSON file"))
    imp.add_argument("file", help="catalog file ('-' for standard input)")
    imp.add_argument("--replace", action="store_true", help="start from an empty store")
    imp.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    imp.set_defaults(func=cmd_import)

    exp = with_db(sub.add_parser("export", help="export the store as availability-catalog/1"))
    exp.add_argument("-o", "--output", default="-", help="file to write (default: stdout)")
    exp.set_defaults(func=cmd_export)

    schema = sub.add_parser("schema", help="print the GraphQL schema (SDL)")
    schema.set_defaults(func=cmd_schema)

    explain = with_db(sub.add_parser("explain", help="every effective setting of a SKU in a "
                                                     "channel, and where it came from"))
    explain.add_argument("sku")
    explain.add_argument("--channel", required=True)
    explain.add_argument("--group", default=None, help="customer group (for min_sale_qty)")
    explain.set_defaults(func=cmd_explain)
    lint = with_db(sub.add_parser(
        "lint", help="report settings that make a product unbuyable or misleading "
                     "(exit 0: none, 1: findings, 2: error, 75: database busy or disk full)"))
    lint.add_argument("--channel", default=None, help="only this channel's stock (default: "
                                                      "every stock)")
    lint.set_defaults(func=cmd_lint)
    compact = with_db(sub.add_parser(
        "compact-reservations", help="delete reservations of orders that net to zero "
                                     "(salable quantities do not change)"))
    compact.set_defaults(func=cmd_compact)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command. Storage trouble, a database of a newer version or a file that cannot
    be written ends it with one line on standard error (``error: ...``, saying what to do)
    and a non-zero status (:data:`EXIT_STATUS`), never a traceback."""
    from gateway.catalog.io import CatalogFileError
    from gateway.store.errors import StoreError, StoreErrorCode
    from gateway.store.schema import SchemaError

    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except StoreError as exc:
        print(f"error: {exc.message} ({exc.code.value})", file=sys.stderr)
        retry = exc.code in (StoreErrorCode.STORE_BUSY, StoreErrorCode.STORAGE_FULL)
        return EXIT_RETRY if retry else 2
    except (SchemaError, CatalogFileError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    raise SystemExit(main())
