"""The lane: answers a POSTed request of a known ``availability`` query or ``placeOrder``
mutation without graphql-core's execution, or says it did not, and the normal path
(Strawberry + graphql-core) answers instead.

Per request the lane does what the normal path would do, in the same order, and stops at the
first thing it does not follow — that request then takes the normal path *whole*, which
produces the exact answer (an error included). For queries it never answers an error itself
(a placed order's domain refusal is the one error it renders, below).

1. The body (already read, under the edge's body limit): JSON ``application/json`` object, UTF-8
   without lone surrogates (orjson refuses both, as the normal path does), ``query`` a string,
   ``variables`` an object, ``operationName`` a string, or absent.
2. Automatic persisted queries (:mod:`gateway.api.lane.persisted`): the stored text for a known
   hash; a hash sent with its text must match.
3. The plan of (query text, operation name), learnt from the normal path
   (:meth:`Lane.learn`); none yet: normal path.
4. :func:`~gateway.api.guards.check_operation` — list lengths, cost, identifiers — exactly as
   the normal path runs it (same document, raw variables, limits of the caller); a refusal:
   normal path. Its cost is the answer's ``extensions.cost``.
5. The variables, coerced as graphql-core would (:mod:`gateway.api.lane.variables`).
6. Per ``availability`` field: its arguments, the resolver's checks (at most
   ``GATEWAY_MAX_SKUS``, SKUs of 1-64 characters), the storefront service, the writer. A domain
   error (unknown channel), a storage error or any exception: normal path.
7. The answer: ``{"data": ..., "extensions": {"cost": ...}}`` encoded by orjson, the headers the
   normal path sends; the request middleware is told the operation's name and type (metrics,
   access log) as the normal path tells it.

A ``placeOrder`` mutation (:mod:`gateway.api.lane.mutation`) follows steps 1-4, then the
normal path's own coercion, permission and resolver checks; up to there a refusal leaves it to
the normal path untouched. Past them the order is placed, once: the lane answers the result,
or the GraphQL error of a domain refusal, itself; what it does not render (a storage error,
an unexpected exception) the normal path renders from the record of that one call
(:data:`~gateway.api.orders.placement.HANDED_OVER`), without placing it again.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import orjson
from graphql import GraphQLSchema, Undefined
from starlette.requests import ClientDisconnect
from starlette.types import Message, Receive, Scope, Send
from strawberry.http import GraphQLRequestData
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from gateway.api.context import presents_token
from gateway.api.guards import check_operation
from gateway.api.lane.cache import Lru
from gateway.api.lane.documents import compile_operation
from gateway.api.lane.mutation import MutationPlan, NotTaken, compile_mutation
from gateway.api.lane.persisted import PersistedQueries, query_hash, requested_hash
from gateway.api.lane.plan import OperationPlan
from gateway.api.lane.variables import coerce
from gateway.api.limits import MAX_SKU_LENGTH
from gateway.api.orders.placement import HANDED_OVER, Placed
from gateway.api.refusals import RequestRefused
from gateway.logs import CURRENT_REQUEST
from gateway.settings import Settings

#: Plans kept (per worker process), as many as Strawberry's parser cache holds documents.
MAX_PLANS = 256
#: Content types the normal path reads as JSON and the lane recognises without parsing.
JSON_TYPES = frozenset({b"application/json", b"application/json; charset=utf-8",
                        b"application/json;charset=utf-8"})
HEADERS = [(b"content-type", b"application/json")]


class Miss(StrEnum):
    """Why the lane left a request to the normal path (counted in :class:`Lane.missed`)."""

    BODY = "body"  # not a JSON object the lane reads (content type, JSON, member types)
    PERSISTED = "persisted"  # an unknown hash, a hash that does not match, a malformed one
    UNKNOWN = "unknown"  # no plan yet for this query text and operation name
    NOT_COVERED = "not_covered"  # the document or this selection is not one the lane covers
    REFUSED = "refused"  # list length, cost or identifier refusal
    VARIABLES = "variables"  # variables graphql-core would refuse or that are not followed
    ARGUMENTS = "arguments"  # an argument or the resolver's checks would fail
    FAILED = "failed"  # the service or a writer raised (domain error, storage, a null...)
    PERMISSION = "permission"  # a back-office mutation without the back-office token
    HANDED_OVER = "handed_over"  # a placement the normal path renders from the lane's record


@dataclass(frozen=True, slots=True)
class LaneExecution:
    """What the request middleware reads of an execution (metrics, access log)."""

    operation_name: str | None
    operation_type: OperationType


@dataclass(frozen=True, slots=True)
class _Entry:
    plan: OperationPlan | MutationPlan | None
    execution: LaneExecution


class Lane:
    """Plans by (query text, operation name), bounded; see the module docstring."""

    def __init__(self, schema: GraphQLSchema, settings: Settings,
                 persisted: PersistedQueries, max_plans: int = MAX_PLANS) -> None:
        self.schema = schema
        self.settings = settings
        self.persisted = persisted
        self.plans: Lru[tuple[str, str | None], _Entry] = Lru(max_plans)
        self.answered = 0
        self.missed: Counter[Miss] = Counter()

    def learn_from(self, data: GraphQLRequestData, result: ExecutionResult) -> None:
        """Learn the plan of a request the normal path just answered without error (so its
        document parsed and validated); the execution is the one the normal path handed the
        request middleware."""
        if result.errors or not isinstance(data.query, str):
            return
        key = (data.query, data.operation_name)
        state = CURRENT_REQUEST.get()
        execution: Any = state.execution if state is not None else None
        document = getattr(execution, "graphql_document", None)
        if key in self.plans or document is None:
            return
        try:
            kind, name = execution.operation_type, execution.operation_name
        except Exception:  # a document without that operation: nothing to learn
            return
        plan: OperationPlan | MutationPlan | None = None
        if kind is OperationType.QUERY:
            plan = compile_operation(self.schema, document, data.operation_name)
        elif kind is OperationType.MUTATION:
            plan = compile_mutation(self.schema, document, data.operation_name)
        self.plans.put(key, _Entry(plan, LaneExecution(name, kind)))

    def _miss(self, why: Miss) -> bool:
        self.missed[why] += 1
        return False

    def reads(self, scope: Scope) -> bool:
        """The request is a JSON POST the lane may answer: only then is its body read before
        the normal path would read it (which it does for JSON, and only for JSON)."""
        if scope["method"] != "POST":
            return False
        for name, value in scope["headers"]:
            if name == b"content-type":
                if value.lower() in JSON_TYPES:
                    return True
                break
        return self._miss(Miss.BODY)

    async def answer(self, scope: Scope, body: bytes, send: Send) -> bool:
        """Answer a request :meth:`reads` accepted (True), or leave it untouched to the normal
        path (False)."""
        authorization = None
        authorizations = 0
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorizations += 1
                authorization = value
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError:
            return self._miss(Miss.BODY)
        if not isinstance(data, dict):
            return self._miss(Miss.BODY)
        query = data.get("query")
        variables = data.get("variables")
        name = data.get("operationName")
        extensions = data.get("extensions")
        if not (isinstance(variables, dict | None) and isinstance(name, str | None)
                and isinstance(extensions, dict | None)):
            return self._miss(Miss.BODY)
        register = None
        if extensions and "persistedQuery" in extensions:
            try:
                sha = requested_hash(extensions)
            except RequestRefused:
                return self._miss(Miss.PERSISTED)
            assert sha is not None
            if query is None:
                query = self.persisted.lookup(sha)
            elif isinstance(query, str) and query_hash(query) == sha:
                register = sha
            else:
                query = None
            if query is None:
                return self._miss(Miss.PERSISTED)
        if not isinstance(query, str):
            return self._miss(Miss.BODY)
        entry = self.plans.get((query, name))
        if entry is None:
            return self._miss(Miss.UNKNOWN)
        plan = entry.plan
        if plan is None:
            return self._miss(Miss.NOT_COVERED)

        settings = self.settings
        back_office = authorizations == 1 and authorization is not None and presents_token(
            authorization.decode("latin-1"), settings.admin_token)
        verdict = check_operation(self.schema, plan.document, variables, name, settings,
                                  back_office)
        if verdict.refusal is not None:
            return self._miss(Miss.REFUSED)
        if isinstance(plan, MutationPlan):
            try:
                done = await plan.run(scope["app"].state.services, settings, variables,
                                      back_office)
            except NotTaken as not_taken:
                return self._miss(Miss(not_taken.why))
            if isinstance(done, Placed):  # executed once: the normal path renders the record
                HANDED_OVER.set(done)
                return self._miss(Miss.HANDED_OVER)
            await self._send(done, verdict.cost, entry, register, query, send)
            return True
        coerced = coerce(plan.variables, variables)
        if coerced is None:
            return self._miss(Miss.VARIABLES)
        switches = plan.switch_values(coerced)
        if switches is None:
            return self._miss(Miss.VARIABLES)
        variant = plan.variant(switches, variables)
        if variant is None:
            return self._miss(Miss.NOT_COVERED)

        answer: dict[str, Any] = {}
        for root in variant.roots:
            if root.write is None:
                answer[root.key] = root.typename
                continue
            channel, skus, group = (argument.resolve(coerced) for argument in root.arguments)
            if channel is Undefined or skus is Undefined or group is Undefined \
                    or not _resolver_accepts(skus, settings.max_skus):
                return self._miss(Miss.ARGUMENTS)
            try:
                services = scope["app"].state.services
                found = await services.storefront.availability(channel, skus, group)
                answer[root.key] = root.write(found, channel)
            except Exception:  # the normal path reports it (and logs it when unexpected)
                return self._miss(Miss.FAILED)

        await self._send({"data": answer}, verdict.cost, entry, register, query, send)
        return True

    async def _send(self, result: dict[str, Any], cost: dict[str, int] | None, entry: _Entry,
                    register: str | None, query: str, send: Send) -> None:
        """Send the answer (``data``, ``errors``) with its cost, as the normal path does."""
        if register is not None:
            self.persisted.remember(register, query)
        if cost is not None:
            result["extensions"] = {"cost": cost}
        encoded = orjson.dumps(result)
        state = CURRENT_REQUEST.get()
        if state is not None:
            state.execution = entry.execution
        self.answered += 1
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", b"%d" % len(encoded)), *HEADERS]})
        await send({"type": "http.response.body", "body": encoded})


async def read_body(receive: Receive) -> tuple[bytes, Receive]:
    """The whole request body (as Starlette's ``Request.body`` reads it, without its stream
    machinery), and a ``receive`` that hands the same body to the next reader."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if replayed:
            return await receive()
        replayed = True
        return {"type": "http.request", "body": body, "more_body": False}

    return body, replay


def _resolver_accepts(skus: Any, max_skus: int) -> bool:
    """The checks the ``availability`` resolver makes before calling the service
    (gateway/api/limits.py: ``check_count``, ``check_skus``)."""
    return len(skus) <= max_skus and all(0 < len(sku) <= MAX_SKU_LENGTH for sku in skus)
