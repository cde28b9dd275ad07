"""The Starlette application: GraphQL (with GraphiQL outside production), its subscriptions over
WebSocket (graphql-transport-ws), the probes (/healthz liveness, /readyz readiness) and
/metrics."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import orjson
from cross_web import HTTPException  # what strawberry answers with
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLRequestData
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET

from gateway.api import graphiql
from gateway.api.context import Context
from gateway.api.edge import EdgeGuard
from gateway.api.errors import ApiErrorCode
from gateway.api.lane import Lane, PersistedQueries, read_body
from gateway.api.live.transport import LiveTransportHandler
from gateway.api.middleware import RequestContext
from gateway.api.orders.placement import HANDED_OVER
from gateway.api.refusals import RequestRefused, http_refusal
from gateway.api.schema import build_schema
from gateway.api.unicode import (
    InvalidText,
    decode_request_text,
    lone_surrogate_path,
    may_hold_surrogates,
)
from gateway.metrics import CONTENT_TYPE, GatewayMetrics, install
from gateway.services import Services, StoreError
from gateway.services.orders import OrderService
from gateway.services.runtime import availability_hub, follow_other_writers, open_services
from gateway.settings import Settings

log = logging.getLogger("gateway")


class GatewayGraphQL(GraphQL[Context, None]):
    """Strawberry's ASGI view with our context, a faster JSON encoder, persisted queries and
    the compiled lane for known ``availability`` queries (:mod:`gateway.api.lane`);
    subscriptions over graphql-transport-ws only, from the gateway's own origin or an allowed
    one."""

    graphql_transport_ws_handler_class = LiveTransportHandler

    def __init__(self, settings: Settings, lane: bool = True) -> None:
        schema = build_schema(settings)
        super().__init__(schema, graphql_ide=None if settings.production else "graphiql",
                         allow_queries_via_get=False,
                         subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
                         max_subscriptions_per_connection=None,  # ours, with a code
                         allowed_origins=settings.ws_allowed_origins)
        self._settings = settings
        self.persisted = PersistedQueries()
        self.lane = Lane(schema._schema, settings, self.persisted) if lane else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (self.lane is None or scope["type"] != "http" or self._stream_transport_map
                or not self.lane.reads(scope)):
            await super().__call__(scope, receive, send)
            return
        # A JSON POST's body is read here rather than in run(): the lane answers from it, or
        # hands it to the normal path, run as Strawberry's __call__ runs it.
        body, receive = await read_body(receive)
        handed = HANDED_OVER.set(None)  # what the lane placed but leaves to the normal path
        try:
            if await self.lane.answer(scope, body, send):
                return
            try:
                response = await self.run(Request(scope, receive))
            except HTTPException as exc:
                response = http_refusal(exc).response()
            await response(scope, receive, send)
            placed = HANDED_OVER.get()
            if placed is not None and not placed.taken:  # a bug: say so, loudly
                log.error("order %r was placed by the lane but the normal path did not answer "
                          "from it", placed.placement.order_id)
        finally:
            HANDED_OVER.reset(handed)

    async def parse_http_body(self, request: Any) -> Any:
        data = await super().parse_http_body(request)
        if request.method == "POST" and isinstance(data, GraphQLRequestData):
            data.query = self.persisted.resolve(data.query, data.extensions)
        return data

    async def execute_single(self, request: Any, request_adapter: Any, sub_response: Any,
                             context: Any, root_value: Any,
                             request_data: GraphQLRequestData) -> ExecutionResult:
        result = await super().execute_single(request, request_adapter, sub_response, context,
                                              root_value, request_data)
        if request_adapter.method == "POST":
            self.persisted.learn(request_data, result)
            if self.lane is not None:
                self.lane.learn_from(request_data, result)
        return result

    async def get_context(self, request: Any, response: Any) -> Context:
        return Context(request=request, services=request.app.state.services,
                       settings=self._settings,
                       response=response if isinstance(response, Response) else None)

    async def render_graphql_ide(self, request: Request) -> Response:
        return graphiql.render_page(request)  # self-hosted: no CDN, strict CSP

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        try:
            return await super().run(request, context, root_value)
        except HTTPException as exc:  # a JSON error body with a code, not strawberry's text
            return http_refusal(exc).response()

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
        except StoreError as exc:  # a full disk, a busy database: not a bug, retried later
            log.warning("reservation compaction skipped: %s", exc.message)
        except Exception:  # a failed round is retried at the next interval
            log.exception("reservation compaction failed")
        else:
            if removed:
                log.info("compacted %d reservation rows", removed)


def create_app(settings: Settings, lane: bool = True) -> Starlette:
    """A ready-to-serve app; the store opens in the lifespan and closes on shutdown.
    ``lane=False`` leaves every request to Strawberry (the lane's differential tests)."""
    graphql_app = GatewayGraphQL(settings, lane=lane)
    metrics = GatewayMetrics(settings.metrics_dir)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with open_services(settings) as services:
            app.state.services = services
            follow_other_writers(services)  # replicas write too: refresh caches early
            async with _serving(app, services):
                yield

    @contextlib.asynccontextmanager
    async def _serving(app: Starlette, services: Services) -> AsyncIterator[None]:
        install(metrics)
        metrics.watch(services.reader)
        if not settings.admin_token:
            log.warning("GATEWAY_ADMIN_TOKEN is not set: back-office operations are refused.")
        if settings.production:
            log.info("production mode (GATEWAY_ENV=production): GraphiQL, introspection and "
                     "field suggestions are off; queries are POSTed to /graphql.")
        # The live availability hub: one change feed (the store's change log) per process.
        hub = app.state.live = availability_hub(services, settings.live_poll_interval)
        live = asyncio.create_task(hub.run())
        compactor = None
        if settings.compact_interval > 0:
            compactor = asyncio.create_task(_compact_forever(services.orders,
                                                             settings.compact_interval))
        try:
            yield
        finally:
            live.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await live
            if compactor is not None:
                compactor.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await compactor

    async def healthz(request: Request) -> Response:
        try:
            services: Services = request.app.state.services
            version = await services.health.data_version()
        except StoreError as exc:  # the database is away: said once per probe, no traceback
            log.warning("health check: %s", exc.message)
            return JSONResponse({"status": "unavailable", "code": exc.code.value},
                                status_code=503)
        except Exception:  # the point of the probe is to report, not to crash
            log.exception("health check failed")
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ok", "data_version": version})

    async def metrics_endpoint(request: Request) -> Response:
        return Response(metrics.exposition(), media_type=CONTENT_TYPE)

    production_get = [Route("/graphql", graphiql_off, methods=["GET"])] \
        if settings.production else []
    return Starlette(
        routes=[*production_get,
                Route("/graphql", graphql_app, methods=["GET", "POST"]),
                WebSocketRoute("/graphql", graphql_app),
                Route("/healthz", healthz, methods=["GET"]),
                Route("/readyz", readyz, methods=["GET"]),
                Route("/metrics", metrics_endpoint, methods=["GET"]),
                *graphiql.routes(enabled=not settings.production)],
        # Outermost first: every answer (a refusal at the edge too) gets its request id.
        middleware=[Middleware(RequestContext, metrics=metrics, access_log=settings.access_log),
                    Middleware(EdgeGuard, settings=settings)],
        lifespan=lifespan)


async def readyz(request: Request) -> Response:
    """200 when the store can serve reads and take writes; 503 with the reason otherwise."""
    services: Services | None = getattr(request.app.state, "services", None)
    if services is None:
        return _not_ready("STORE_UNAVAILABLE", "the store is not open (starting or stopping)")
    try:
        await services.health.check_ready()
    except StoreError as exc:
        log.warning("not ready: %s", exc.message)
        return _not_ready(exc.code.value, exc.message, exc.retry_after)
    except Exception:  # the point of the probe is to report, not to crash
        log.exception("readiness check failed")
        return _not_ready("STORE_UNAVAILABLE", "the readiness check failed (see the log)")
    return JSONResponse({"status": "ready"})


def _not_ready(code: str, reason: str, retry_after: float | None = None) -> Response:
    headers = {"retry-after": str(max(1, round(retry_after)))} if retry_after else None
    return JSONResponse({"status": "unavailable", "code": code, "reason": reason},
                        status_code=503, headers=headers)


async def graphiql_off(request: Request) -> Response:
    """What a browser gets at /graphql in production (instead of a bare 404)."""
    return JSONResponse(
        {"error": "GraphiQL is off in production (GATEWAY_ENV=production). Send GraphQL "
                  "queries with POST /graphql and a JSON body: "
                  '{"query": "...", "variables": {...}}.'},
        status_code=405, headers={"allow": "POST"})


def app_from_env() -> Starlette:
    """Factory for ``uvicorn gateway.api.app:app_from_env --factory`` (settings from the
    environment); ``gateway serve`` hands its own settings to :func:`create_app` instead."""
    return create_app(Settings.from_env())
