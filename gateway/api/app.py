"""The Starlette application: GraphQL (with GraphiQL outside production) and /healthz."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import orjson
from cross_web import HTTPException  # what strawberry answers with (a transitive dependency)
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from strawberry.asgi import GraphQL
from strawberry.types.unset import UNSET

from gateway.api.context import Context
from gateway.api.edge import EdgeGuard
from gateway.api.errors import ApiErrorCode
from gateway.api.refusals import RequestRefused
from gateway.api.schema import build_schema
from gateway.api.unicode import (
    InvalidText,
    decode_request_text,
    lone_surrogate_path,
    may_hold_surrogates,
)
from gateway.services import Services, build_services
from gateway.services.orders import OrderService
from gateway.settings import Settings
from gateway.store.sqlite import SqliteStore

log = logging.getLogger("gateway")


class GatewayGraphQL(GraphQL[Context, None]):
    """Strawberry's ASGI view with our context and a faster JSON encoder."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(build_schema(settings),
                         graphql_ide=None if settings.production else "graphiql",
                         allow_queries_via_get=False)
        self._settings = settings

    async def get_context(self, request: Any, response: Any) -> Context:
        return Context(request=request, services=request.app.state.services,
                       settings=self._settings)

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        try:
            return await super().run(request, context, root_value)
        except RequestRefused as refused:  # a JSON error body rather than strawberry's text
            return refused.response()

    def parse_json(self, data: str | bytes) -> Any:
        # Strawberry only turns JSONDecodeError into a 400: a body nested a thousand deep
        # (RecursionError), a 5000-digit integer (ValueError) or a bare "x" / null / 1 would
        # otherwise be a 500. Anything but an object (or a batch, refused later) is a 400 too.
        # Text that is not valid Unicode (bad UTF-8, a lone surrogate escape) is refused here,
        # whole, so no string of the request can fail later (SQLite, the answer, a log line).
        try:
            text = decode_request_text(data)
            decoded = self.decode_json(text)
            where = lone_surrogate_path(decoded) if may_hold_surrogates(text) else None
        except InvalidText as exc:
            raise RequestRefused(400, str(exc), ApiErrorCode.BAD_USER_INPUT) from None
        except (ValueError, RecursionError):
            raise HTTPException(400, "Unable to parse request body as JSON") from None
        if where is not None:
            raise RequestRefused(400, f"Invalid Unicode at {where}: a lone UTF-16 surrogate "
                                      f"escape (\\uD800-\\uDFFF without its pair).",
                                 ApiErrorCode.BAD_USER_INPUT, path=where)
        if not isinstance(decoded, dict | list):
            raise HTTPException(400, "The request body must be a JSON object")
        return decoded


async def _compact_forever(orders: OrderService, interval: float) -> None:
    """Remove zero-sum order reservations every ``interval`` seconds (salable qty unchanged)."""
    while True:
        await asyncio.sleep(interval)
        try:
            removed = await orders.compact_reservations()
        except Exception:  # a failed round is retried at the next interval
            log.exception("reservation compaction failed")
        else:
            if removed:
                log.info("compacted %d reservation rows", removed)


def create_app(settings: Settings) -> Starlette:
    """A ready-to-serve app; the store opens in the lifespan and closes on shutdown."""
    graphql_app = GatewayGraphQL(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        store = SqliteStore(settings.database, synchronous=settings.sqlite_synchronous)
        await store.open()
        services = app.state.services = build_services(store)
        if not settings.admin_token:
            log.warning("GATEWAY_ADMIN_TOKEN is not set: back-office operations are refused.")
        compactor = None
        if settings.compact_interval > 0:
            compactor = asyncio.create_task(_compact_forever(services.orders,
                                                             settings.compact_interval))
        try:
            yield
        finally:
            if compactor is not None:
                compactor.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await compactor
            await store.close()

    async def healthz(request: Request) -> Response:
        try:
            services: Services = request.app.state.services
            version = await services.store.data_version()
        except Exception:  # the point of the probe is to report, not to crash
            log.exception("health check failed")
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ok", "data_version": version})

    return Starlette(
        routes=[Route("/graphql", graphql_app, methods=["GET", "POST"]),
                Route("/healthz", healthz, methods=["GET"])],
        middleware=[Middleware(EdgeGuard, settings=settings)],
        lifespan=lifespan)


def app_from_env() -> Starlette:
    """Factory for ``uvicorn gateway.api.app:app_from_env --factory`` (settings from the
    environment); ``gateway serve`` hands its own settings to :func:`create_app` instead."""
    return create_app(Settings.from_env())
