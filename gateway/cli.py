"""The ``gateway`` command: serve, import, export, schema, explain."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TypeVar

from gateway.settings import DEFAULT_DATABASE, ConfigurationError, Settings

T = TypeVar("T")


def _db_default() -> str:
    return os.environ.get("GATEWAY_DATABASE") or str(DEFAULT_DATABASE)


async def _with_service(db: str, work: Callable[[object], Awaitable[T]]) -> T:
    from gateway.service import InventoryService
    from gateway.store.sqlite import SqliteStore

    Path(db).parent.mkdir(parents=True, exist_ok=True)
    store = SqliteStore(db)
    await store.open()
    try:
        return await work(InventoryService(store))
    finally:
        await store.close()


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    os.environ["GATEWAY_DATABASE"] = args.db
    try:
        Settings.from_env()  # refuse a bad GATEWAY_* value here, not in every worker
    except ConfigurationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    Path(args.db).parent.mkdir(parents=True, exist_ok=True)
    options = {"factory": True, "host": args.host, "port": args.port, "access_log": False,
               "loop": "asyncio", "log_level": args.log_level}
    if args.workers <= 1:
        uvicorn.run("gateway.api.app:app_from_env", **options)
        return 0
    from uvicorn.supervisors import Multiprocess

    config = uvicorn.Config("gateway.api.app:app_from_env", workers=args.workers,
                            **options)
    sock = config.bind_socket()
    # Workers inherit this listening socket; without TCP_NODELAY on it (accepted sockets copy
    # it on Linux) every keep-alive response waits ~40 ms for the client's delayed ACK.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    with contextlib.suppress(KeyboardInterrupt):
        Multiprocess(config, sockets=[sock]).run()
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from gateway.catalog.io import CatalogFileError, read_catalog_file
    from gateway.service import InventoryService

    try:
        document = read_catalog_file(args.file, progress=not args.quiet)
    except CatalogFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    async def work(service: object) -> list[object]:
        assert isinstance(service, InventoryService)
        return list(await service.import_document(document, replace=args.replace))

    problems = asyncio.run(_with_service(args.db, work))
    if problems:
        print(f"{args.file}: {len(problems)} problem(s), nothing was imported:", file=sys.stderr)
        for problem in problems:
            print(f"  {problem.path}: {problem.message}", file=sys.stderr)  # type: ignore[attr-defined]
        return 2
    if not args.quiet:
        counts = {k: len(v) for k, v in document.items() if isinstance(v, list)} \
            if isinstance(document, dict) else {}
        summary = ", ".join(f"{n} {k}" for k, n in counts.items()) or "nothing"
        print(f"imported {summary} into {args.db}" + (" (replaced)" if args.replace else ""))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from gateway.catalog.io import write_catalog_file
    from gateway.service import InventoryService

    async def work(service: object) -> dict[str, object]:
        assert isinstance(service, InventoryService)
        return await service.export_document()

    document = asyncio.run(_with_service(args.db, work))
    write_catalog_file(args.output, document)
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    from gateway.api.schema import build_schema

    sys.stdout.write(build_schema().as_str() + "\n")
    return 0


def cmd_explain(args: argparse.Namespace) -> int:
    from gateway.explain import render_explain
    from gateway.service import ChannelNotFound, InventoryService

    async def work(service: object) -> int:
        assert isinstance(service, InventoryService)
        try:
            (found,) = await service.availability(args.channel, [args.sku], args.group)
        except ChannelNotFound as exc:
            print(f"error: {exc.message}", file=sys.stderr)
            return 2
        if found is None:
            print(f"error: unknown SKU {args.sku!r}", file=sys.stderr)
            return 2
        render_explain(found, args.channel)
        return 0

    return asyncio.run(_with_service(args.db, work))


def cmd_compact(args: argparse.Namespace) -> int:
    from gateway.order_service import OrderService
    from gateway.service import InventoryService

    async def work(service: object) -> int:
        assert isinstance(service, InventoryService)
        return await OrderService(service).compact_reservations()

    removed = asyncio.run(_with_service(args.db, work))
    print(f"removed {removed} reservation rows of orders that net to zero")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gateway", description="Storefront availability gateway (Magento MSI rules).")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def with_db(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--db", default=_db_default(),
                       help="SQLite database file (default: $GATEWAY_DATABASE or %(default)s)")
        return p

    serve = with_db(sub.add_parser("serve", help="serve GraphQL (GraphiQL at /graphql)"))
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    serve.add_argument("--log-level", default="info")
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
    args = build_parser().parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
