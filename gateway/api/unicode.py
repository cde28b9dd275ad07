"""Text the gateway accepts: UTF-8 request bodies without lone surrogates; clean identifiers.

A JSON string may spell a UTF-16 surrogate as an escape (``"\\ud800"``). Python decodes a lone
one into a ``str`` that cannot be encoded again, so it would fail far from the edge: in SQLite,
in the JSON encoder of the answer, in a log line. The body is therefore refused before anything
reads it (:func:`decode_request_text`, :func:`lone_surrogate_path`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

#: A JSON escape of a surrogate (high or low). Cheap first pass: a body without one cannot hold
#: a lone surrogate once decoded as strict UTF-8.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")
#: The C0 and C1 control characters (the catalog refuses the same in codes).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class InvalidText(ValueError):
    """The request text is not valid Unicode; the message says where."""


def decode_request_text(data: str | bytes) -> str:
    """``data`` as text: bytes must be strict UTF-8 (which also refuses encoded surrogates)."""
    if isinstance(data, str):
        text = data
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidText(f"The request body is not valid UTF-8 (byte {exc.start}).") \
                from None
    if not text.isascii() and _SURROGATE.search(text):
        raise InvalidText("The request body contains a UTF-16 surrogate character.")
    return text


def may_hold_surrogates(text: str) -> bool:
    """False when decoding ``text`` as JSON cannot produce a surrogate (the usual case)."""
    return _SURROGATE_ESCAPE.search(text) is not None


def lone_surrogate_path(decoded: object) -> str | None:
    """The JSON path (``$.variables.skus[0]``) of the first string or key of ``decoded`` holding
    a lone surrogate, or None. Valid pairs were combined by the JSON decoder, so any surrogate
    left in a string is a lone one."""
    for path, text in _strings(decoded, "$"):
        if _SURROGATE.search(text):
            return path
    return None


def _strings(value: object, path: str) -> Iterator[tuple[str, str]]:
    # Iterative: the JSON decoder already bounds the nesting, but a stack costs nothing.
    stack: list[tuple[object, str]] = [(value, path)]
    while stack:
        current, where = stack.pop()
        if isinstance(current, str):
            yield where, current
        elif isinstance(current, dict):
            for key, item in current.items():
                if isinstance(key, str):
                    yield f"{where} (a key)", key
                    stack.append((item, f"{where}.{key}" if key.isidentifier() else
                                  f"{where}[{key!r}]"))
        elif isinstance(current, list):
            stack.extend((item, f"{where}[{index}]") for index, item in enumerate(current))


def has_control_characters(text: str) -> bool:
    """True when ``text`` holds a C0 or C1 control character (tab and newline included)."""
    # isprintable() is false for every control character and several times faster than the
    # regex: the regex only decides the rare text that is not printable.
    return not text.isprintable() and _CONTROL.search(text) is not None
