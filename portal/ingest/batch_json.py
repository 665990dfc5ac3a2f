"""Reading a device's batch body: one event's bytes must never make the whole batch unreadable.

Python's decoder gives up on the whole document for things that concern one event only: a number of more than
4,300 digits, NaN/Infinity, JSON nested deeper than the recursion limit. Here such a value becomes
:data:`UNREADABLE` (which no field accepts, so portal.ingest rejects that event with a reason code), and a body
nested too deep somewhere is split into its events by a flat scan and each event decoded alone. Bytes that are
not UTF-8 become lone surrogates (``surrogateescape``), which the event checks reject; outside a string they are
a JSON syntax error, and the batch is malformed as a whole.
"""
from __future__ import annotations

import json
import math
import re
import sys
from typing import Any


class Unreadable:
    """A value the decoder could not turn into plain JSON data; never valid in any event field."""

    def __repr__(self) -> str:
        return "UNREADABLE"


UNREADABLE = Unreadable()
_MAX_DIGITS = sys.int_info.default_max_str_digits


def _int(text: str):
    return int(text) if len(text.lstrip("-")) < _MAX_DIGITS else UNREADABLE


def _decode(text: str) -> Any:
    return json.loads(text, parse_int=_int, parse_constant=lambda _name: UNREADABLE)


def loads(data: bytes) -> Any:
    """The decoded body; raises ValueError when it is not JSON at all."""
    text = data.decode("utf-8", "surrogateescape")
    try:
        return _decode(text)
    except RecursionError:
        return _split(text)


_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{},:]')


def _split(text: str) -> Any:
    """``{"events": [...]}`` decoded event by event (the body is nested too deep somewhere): a flat scan of its
    strings and brackets finds the elements of the top-level ``events`` array."""
    depth, key, pending, start, in_events = 0, None, None, None, False
    events: list[str] | None = None
    for m in _TOKENS.finditer(text):
        token = m.group()
        if token[0] == '"':
            pending = token
        elif token == ":":
            if depth == 1:
                key = pending
        elif token in "[{":
            depth += 1
            if token == "[" and depth == 2 and key == '"events"':
                in_events, start, events = True, m.end(), []
        elif token in "]}":
            if in_events and depth == 2:
                if text[start:m.start()].strip():
                    events.append(text[start:m.start()])
                in_events = False
            depth -= 1
        elif token == "," and in_events and depth == 2:
            events.append(text[start:m.start()])
            start = m.end()
    if depth != 0:
        raise ValueError("unbalanced brackets")
    if events is None:
        return {}  # no events array: the batch is invalid as a whole
    found = []
    for element in events:
        try:
            found.append(_decode(element))
        except RecursionError:
            found.append(UNREADABLE)
    return {"events": found}


# Text no database column holds: NUL (PostgreSQL refuses it) and lone surrogates (not encodable as UTF-8).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable_text(value: Any) -> bool:
    return isinstance(value, str) and _UNSTORABLE.search(value) is None


def plain_json(value: Any, max_depth: int = 16) -> bool:
    """Is ``value`` JSON data every database stores as sent: objects with text keys, arrays, storable text,
    finite numbers, true/false/null, at most ``max_depth`` levels deep? (Walked without recursion.)"""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > max_depth:
            return False
        if isinstance(item, dict):
            if not all(storable_text(k) for k in item):
                return False
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
        elif isinstance(item, str):
            if not storable_text(item):
                return False
        elif isinstance(item, float):
            if not math.isfinite(item):
                return False
        elif not (item is None or isinstance(item, int)):  # bool is an int
            return False
    return True
