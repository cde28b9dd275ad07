"""The ``gateway`` command: serve, import, export, schema, explain, compact-reservations.

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
from typing import TYPE_CHECKING, TypeVar

from gateway.settings import DEFAULT_DATABASE, ConfigurationError, Settings

if TYPE_CHECKING:
    from gateway.services import Services

T = TypeVar("T")


def _settings(args: argparse.Namespace, **options: object) -> Settings:
    """The settings of this command, or exit 2 with the reason (a bad GATEWAY_* value)."""
    try:
        return Settings.from_env(database=getattr(args, "db", None),
                                 log_level=getattr(args, "log_level", None), **options)
    except ConfigurationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


async def _with_services(settings: Settings, work: Callable[[Services], Awaitable[T]]) -> T:
    from gateway.services import build_services
    from gateway.store.sqlite import SqliteStore

    Path(settings.database).parent.mkdir(parents=True, exist_ok=True)
    store = SqliteStore(settings.database, synchronous=settings.sqlite_synchronous)
    await store.open()
    try:
        return await work(build_services(store))
    finally:
        await store.close()


def cmd_serve(args: argparse.Namespace) -> int:
    from gateway.api.app import create_app
    from gateway.logs import logging_config
    from gateway.server import serve

    # A bad GATEWAY_* value is refused here, not in every worker.
    settings = _settings(args, max_connections=args.max_connections,
                         header_timeout=args.header_timeout,
                         keepalive_timeout=args.keepalive_timeout)
    Path(settings.database).parent.mkdir(parents=True, exist_ok=True)
    # Each worker process builds its app from these very settings (the factory is pickled).
    serve(functools.partial(create_app, settings), settings, host=args.host, port=args.port,
          workers=args.workers, log_config=logging_config(settings.log_level))
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

    async def work(services: Services) -> list[CatalogProblem]:
        return await services.catalog.import_document(document, replace=args.replace)

    problems = asyncio.run(_with_services(settings, work))
    if problems:
        print(f"{args.file}: {len(problems)} problem(s), nothing was imported:", file=sys.stderr)
        for problem in problems:
            print(f"  {problem.path}: {problem.message}", file=sys.stderr)
        return 2
    if not args.quiet:
        counts = {k: len(v) for k, v in document.items() if isinstance(v, list)} \
            if isinstance(document, dict) else {}
        summary = ", ".join(f"{n} {k}" for k, n in counts.items()) or "nothing"
        print(f"imported {summary} into {settings.database}"
              + (" (replaced)" if args.replace else ""))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from gateway.catalog.io import write_catalog_file

    async def work(services: Services) -> dict[str, object]:
        return await services.catalog.export_document()

    document = asyncio.run(_with_services(_settings(args), work))
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
            (found,) = await services.storefront.availability(args.channel, [args.sku],
                                                              args.group)
        except DomainError as exc:
            print(f"error: {exc.message}", file=sys.stderr)
            return 2
        if found is None:
            print(f"error: unknown SKU {args.sku!r}", file=sys.stderr)
            return 2
        render_explain(found, args.channel)
        return 0

    return asyncio.run(_with_services(_settings(args), work))


def cmd_compact(args: argparse.Namespace) -> int:
    async def work(services: Services) -> int:
        return await services.orders.compact_reservations()

    removed = asyncio.run(_with_services(_settings(args), work))
    print(f"removed {removed} reservation rows of orders that net to zero")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gateway", description="Storefront availability gateway (Magento MSI rules).")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def with_db(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--db", default=None,
                       help=f"SQLite database file (default: $GATEWAY_DATABASE, else "
                            f"{DEFAULT_DATABASE})")
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
                       help="seconds to send a complete request head (default: "
                            "$GATEWAY_HEADER_TIMEOUT, else 10)")
    serve.add_argument("--keepalive-timeout", type=float, default=None,
                       help="seconds an idle keep-alive connection stays open (default: "
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
    compact = with_db(sub.add_parser(
        "compact-reservations", help="delete reservations of orders that net to zero "
                                     "(salable quantities do not change)"))
    compact.set_defaults(func=cmd_compact)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from gateway.logs import configure_logging

    args = build_parser().parse_args(argv)
    configure_logging(getattr(args, "log_level", None) or "info")
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
