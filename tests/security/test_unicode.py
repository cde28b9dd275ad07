"""Valid Unicode passes the edge untouched; only lone surrogates and bad UTF-8 are refused."""

from __future__ import annotations

import json

import pytest

from gateway.api.unicode import (
    InvalidText,
    decode_request_text,
    has_control_characters,
    lone_surrogate_path,
    may_hold_surrogates,
)
from tests.support import Api

AVAILABILITY = ("query($skus: [String!]!) { availability(channel: \"eu_website\", skus: $skus) "
                "{ sku } }")


@pytest.mark.parametrize("sku", ["ÉTÉ-2024", "帽子", "TENT-\U0001f3d5", "a\\ud800b"],
                         ids=["accents", "cjk", "astral (a surrogate pair)",
                              "the text backslash-u-d800"])
async def test_valid_text_goes_through(api: Api, sku: str) -> None:
    body = json.dumps({"query": AVAILABILITY, "variables": {"skus": [sku]}})
    assert ("\\ud83c\\udfd5" in body) == (sku == "TENT-\U0001f3d5")  # sent as an escaped pair
    response = await api.client.post("/graphql", content=body.encode(),
                                     headers={"content-type": "application/json"})
    assert response.status_code == 200, response.text
    assert response.json()["data"] == {"availability": [None]}  # unknown, and answered


def test_the_path_of_a_lone_surrogate_is_reported() -> None:
    decoded = json.loads('{"variables": {"l": [{"sku": "ok"}, {"sku": "\\udfff"}]}}')
    assert lone_surrogate_path(decoded) == "$.variables.l[1].sku"
    assert lone_surrogate_path(json.loads('{"a b": {"\\ud800": 1}}')) == "$['a b'] (a key)"
    assert lone_surrogate_path(json.loads('{"s": "\\ud83c\\udfd5"}')) is None


def test_the_first_pass_only_flags_surrogate_escapes() -> None:
    assert not may_hold_surrogates('{"s": "\\u00e9 \\uD7FF \\ue000"}')
    assert may_hold_surrogates('{"s": "\\uD800"}') and may_hold_surrogates('{"s": "\\udc00"}')


def test_bytes_must_be_utf8() -> None:
    assert decode_request_text("été".encode()) == "été"
    for bad in (b"\xff", b"\xed\xa0\x80", "x".encode("utf-16")):
        with pytest.raises(InvalidText):
            decode_request_text(bad)


def test_control_characters() -> None:
    assert not has_control_characters("SKU-1 été\u00a0\u200b")
    for char in ("\x00", "\t", "\n", "\x1b", "\x7f", "\x85", "\x9f"):
        assert has_control_characters(f"A{char}B"), repr(char)
