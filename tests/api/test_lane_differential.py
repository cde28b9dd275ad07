"""Differential test: generated storefront queries get the same answer — status, headers and
body bytes — from the app with the compiled lane and from the app without it (Strawberry and
graphql-core alone), on one database.

Hypothesis writes the documents from the storefront schema's selections (every field of
``ProductAvailability`` and ``QuantityRule``, aliases, ``__typename``, repeated fields, inline
fragments and named fragments on the concrete types, ``@include``/``@skip`` with literals and
variables, now and then ``explain``; one or two root fields), passes the arguments as literals
or variables, and draws the variables valid and invalid (unknown SKUs and channels, wrong
types, nulls, lists too long for ``GATEWAY_MAX_SKUS``, empty or over-long SKUs, control
characters), with or without the back-office token (another cost limit). Before each request
the lane's app answers the document once with valid variables, so the lane has learnt it when
it can; the counts at the end show the lane answered and fell back for each kind of reason.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.api.lane import Miss
from tests.api.lane_support import Pair, open_pair

FIELDS = ["sku", "channel", "stockId", "stockStatus", "isSalable", "salableQty", "onlyXLeft",
          "lowStock", "manageStock", "backorders", "assigned", "displayWhenOutOfStock",
          "__typename"]
RULE_FIELDS = ["minimum", "maximum", "increment", "allowsDecimals", "allowsMultipleBoxes",
               "__typename"]
#: Aliases: mostly one per field (merged when repeated), now and then a shared one (a conflict
#: whenever it names two different fields: a validation error, which both paths must agree on).
CONDITIONS = ["@include(if: $yes)", "@skip(if: $yes)", "@skip(if: $no)", "@include(if: true)",
              "@skip(if: true)", "@skip(if: false)"]
SKUS = ["SHIRT", "FABRIC", "PACK", "BACKORDER", "EBOOK", "GONE", "US-ONLY", "NOPE"]
MAX_SKUS = 4
#: Without the token 2 SKUs of 2 objects each fit, 4 do not; with it everything fits.
MAX_COST = 6
MISSING = object()
VALID = {"c": "eu_website", "s": ["SHIRT", "PACK"], "g": None, "yes": True, "no": False}


class Document:
    """A document being written: its fragments and the variables it uses."""

    def __init__(self) -> None:
        self.fragments: dict[str, str] = {}
        self.writing: set[str] = set()


def maybe(draw: st.DrawFn, text: str, options: list[str], chance: float = 0.3) -> str:
    if draw(st.floats(0, 1)) < chance:
        return f"{text} {draw(st.sampled_from(options))}"
    return text


def selection(draw: st.DrawFn, doc: Document, type_name: str, depth: int = 0) -> str:
    leaves = FIELDS if type_name == "ProductAvailability" else RULE_FIELDS
    kinds = ["leaf"] * 6 + ["inline", "spread"]
    if type_name == "ProductAvailability":
        kinds += ["rule", "rule", "explain"]
    parts = []
    for _ in range(draw(st.integers(1, 5))):
        kind = draw(st.sampled_from(kinds)) if depth < 2 else "leaf"
        name = f"{type_name[0]}{draw(st.integers(0, 1))}"
        if kind == "spread" and name in doc.writing:
            kind = "leaf"  # a fragment spread inside itself would be a cycle
        if kind == "leaf":
            field = draw(st.sampled_from(leaves))
            alias = draw(st.sampled_from(["", "", "", "", f"my_{field}", f"my_{field}", "a"]))
            parts.append(maybe(draw, f"{alias}: {field}" if alias else field, CONDITIONS))
        elif kind == "rule":
            inner = selection(draw, doc, "QuantityRule", depth + 1)
            alias = draw(st.sampled_from(["", "", "r: "]))
            parts.append(maybe(draw, f"{alias}quantityRule", CONDITIONS) + f" {{ {inner} }}")
        elif kind == "explain":
            parts.append(maybe(draw, "explain", CONDITIONS, 0.6) + " { name value }")
        elif kind == "inline":
            condition = draw(st.sampled_from([f"on {type_name}", ""]))
            inner = selection(draw, doc, type_name, depth + 1)
            parts.append(maybe(draw, f"... {condition}", CONDITIONS) + f" {{ {inner} }}")
        else:
            if name not in doc.fragments:
                doc.writing.add(name)
                body = selection(draw, doc, type_name, depth + 1)
                doc.writing.discard(name)
                doc.fragments[name] = f"fragment {name} on {type_name} {{ {body} }}"
            parts.append(maybe(draw, f"...{name}", CONDITIONS))
    return " ".join(parts)


def argument(draw: st.DrawFn, name: str, literals: list[str]) -> str | None:
    how = draw(st.sampled_from(["variable", "variable", "literal"]))
    if how == "literal":
        literal = draw(st.sampled_from(literals))
        return None if literal == "" else f"{name}: {literal}"
    return f"{name}: ${name[0]}"


@st.composite
def documents(draw: st.DrawFn) -> tuple[str, str | None]:
    """(document text, operationName to send)."""
    doc = Document()
    roots = []
    for alias in draw(st.sampled_from([[""], [""], ["x: ", "y: "], ["", "y: "]])):
        arguments = [argument(draw, "channel", ['"eu_website"', '"us_website"', '"nope"']),
                     argument(draw, "skus", ['["SHIRT", "NOPE"]', '"PACK"', "[]"]),
                     argument(draw, "customerGroup", ['"wholesale"', "null", ""])]
        given = ", ".join(a for a in arguments if a)
        roots.append(f"{alias}availability({given}) "
                     f"{{ {selection(draw, doc, 'ProductAvailability')} }}")
    if draw(st.booleans()):
        roots.insert(draw(st.integers(0, len(roots))), "__typename")
    body = " ".join(roots)
    fragments = " ".join(text for text in doc.fragments.values())
    used = body + fragments
    types = {"c": draw(st.sampled_from(["String!", "String!", 'String = "us_website"'])),
             "s": draw(st.sampled_from(["[String!]!", "[String!]!", '[String!] = ["GONE"]'])),
             "g": draw(st.sampled_from(["String", 'String = "wholesale"'])),
             "yes": draw(st.sampled_from(["Boolean!", "Boolean = true"])),
             "no": "Boolean = false"}
    declared = [f"${name}: {type_}" for name, type_ in types.items()
                if f"${name})" in used or f"${name}," in used or f"${name} " in used]
    header = f"({', '.join(declared)})" if declared else ""
    named = draw(st.booleans())
    operation = f"query Q{header}" if named else (f"query{header}" if header else "")
    operation_name = draw(st.sampled_from([None, None, "Q"])) if named else None
    return f"{operation} {{ {body} }} {fragments}".strip(), operation_name


#: Values graphql-core or the gateway accept for each variable, and values one of them refuses
#: (or the lane leaves to graphql-core): unknown channel, wrong types, nulls, too many SKUs,
#: empty or over-long SKUs, control characters.
GOOD: dict[str, st.SearchStrategy[Any]] = {
    "c": st.sampled_from(["eu_website", "eu_website", "us_website", "nope"]),
    "s": st.lists(st.sampled_from(SKUS), max_size=MAX_SKUS),
    "g": st.sampled_from(["wholesale", "retail", None, MISSING]),
    "yes": st.booleans(),
    "no": st.sampled_from([True, False, MISSING]),
}
ODD: dict[str, st.SearchStrategy[Any]] = {
    "c": st.sampled_from(["nope", None, 3, "eu\x01website", MISSING]),
    "s": st.one_of(st.sampled_from([[""], ["X" * 65], ["SHIRT", ""], "SHIRT", [None], 5, None,
                                    MISSING]),
                   st.sampled_from([[""], ["X" * 65], ["SHIRT", ""], "SHIRT", [None], 5, None,
                                    MISSING]),
                   st.lists(st.sampled_from([*SKUS, "", "X" * 65, "A\tB"]), max_size=6)),
    "g": st.sampled_from([7, ["wholesale"]]),
    "yes": st.sampled_from([None, "true", 1, MISSING]),
    "no": st.sampled_from([None, "false"]),
}


@st.composite
def variables(draw: st.DrawFn) -> dict[str, Any]:
    """Good values, with one odd value half of the time."""
    odd = draw(st.sampled_from([None, None, "s", "s", *ODD]))
    drawn = {name: draw(ODD[name] if name == odd else good) for name, good in GOOD.items()}
    return {name: value for name, value in drawn.items() if value is not MISSING}


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[asyncio.AbstractEventLoop,
                                                                        Pair]]:
    """One pair of apps for every example (opened on a loop of its own)."""
    loop = asyncio.new_event_loop()
    opened = open_pair(tmp_path_factory.mktemp("lane") / "gateway.sqlite3",
                       max_skus=MAX_SKUS, max_cost=MAX_COST)
    pair = loop.run_until_complete(opened.__aenter__())
    yield loop, pair
    loop.run_until_complete(opened.__aexit__(None, None, None))
    loop.close()


def test_the_lane_answers_exactly_as_the_normal_path(
        harness: tuple[asyncio.AbstractEventLoop, Pair]) -> None:
    loop, pair = harness
    compared = 0

    @settings(max_examples=250, deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(document=documents(), variables=variables(), token=st.booleans())
    def check(document: tuple[str, str | None], variables: dict[str, Any],
              token: bool) -> None:
        nonlocal compared
        query, operation_name = document

        async def run() -> None:
            request = {"query": query, "operationName": operation_name}
            await pair.send(pair.on, {**request, "variables": VALID}, token=True)  # learn
            lane, normal = await pair.both({**request, "variables": variables}, token=token)
            assert lane == normal, (query, variables, token, lane.body, normal.body)

        loop.run_until_complete(run())
        compared += 1

    check()
    lane = pair.lane
    counts = f"compared {compared}: lane answered {lane.answered}, missed {dict(lane.missed)}"
    # The comparison is only worth something if the lane answered, and fell back, often (each
    # reason is also provoked on purpose in test_lane.py).
    assert lane.answered >= compared // 10, counts
    reasons = (Miss.NOT_COVERED, Miss.VARIABLES, Miss.ARGUMENTS, Miss.REFUSED, Miss.FAILED)
    assert sum(lane.missed[why] > 0 for why in reasons) >= 3, counts


def test_a_wrong_serialisation_is_caught(harness: tuple[asyncio.AbstractEventLoop, Pair],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """The comparison can fail: with one writer expression broken on purpose it does."""
    from gateway.api.lane import fields

    loop, pair = harness
    broken = {**fields.LEAVES["QuantityRule"], "maximum": "positive(s.min_sale_qty)"}
    monkeypatch.setitem(fields.LEAVES, "QuantityRule",  # type: ignore[arg-type]
                        broken)
    query = ('{ availability(channel: "eu_website", skus: ["SHIRT"]) '
             '{ quantityRule { maximum } } }')

    async def run() -> None:
        await pair.send(pair.on, {"query": query})
        lane, normal = await pair.both({"query": query})
        assert lane.json() == {**normal.json(), "data": {"availability": [
            {"quantityRule": {"maximum": 1.0}}]}}
        assert lane != normal

    loop.run_until_complete(run())
