"""JSON text exactly as `json.dumps(value, indent=2, ensure_ascii=False)` writes it, for the flat objects of a
listing, built from the C string encoder one value at a time.

With `indent`, the json module falls back to its pure-Python encoder, which took about as long as everything
else of a `list --json` of 10,000 missions. The listing's rows are also kept as this text in the listing cache
(missions/listcache.py), so a warm `list --json` writes them without encoding anything again.
"""

from __future__ import annotations

import json
from typing import Any

STR = json.encoder.encode_basestring


def scalar(value: Any) -> str | None:
    """One JSON scalar as json.dumps writes it (ensure_ascii=False); None for anything else."""
    kind = type(value)
    if kind is str:
        return STR(value)
    if value is None:
        return "null"
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return int.__repr__(value)
    if kind is float and value == value and value not in (float("inf"), float("-inf")):
        return float.__repr__(value)
    return None


def member(key: str, value: Any) -> str:
    """One member of an object that is an element of a top-level array (4 spaces in), without the separator.
    Scalars, lists of scalars and objects of scalars (a claim's signature) are written from the C string
    encoder; anything else by json itself, indented to its place. TypeError for what JSON cannot hold."""
    if type(value) is list and all(scalar(v) is not None for v in value):
        text = "[\n      " + ",\n      ".join(map(scalar, value)) + "\n    ]" if value else "[]"  # type: ignore[arg-type]
    elif type(value) is dict and all(type(k) is str and scalar(v) is not None for k, v in value.items()):
        text = ("{\n" + ",\n".join(f"      {STR(k)}: {scalar(v)}" for k, v in value.items()) + "\n    }"
                if value else "{}")
    else:
        text = scalar(value) or json.dumps(value, indent=2, ensure_ascii=False).replace("\n", "\n    ")
    return f"    {STR(key)}: {text}"


def open_row(items: list[tuple[str, Any]]) -> str:
    """An array element's object without its closing line: "  {\n" and the members joined; `close_row` ends it
    (after more members, if any)."""
    return "  {\n" + ",\n".join(member(key, value) for key, value in items)


def close_row(members: list[str]) -> str:
    """The end of a row begun by `open_row`: further members (each from `member`), then the closing brace."""
    return "".join(f",\n{text}" for text in members) + "\n  }"


def rows(values: list[Any]) -> str | None:
    """`json.dumps(values, indent=2, ensure_ascii=False)` for a non-empty list of non-empty objects with string
    keys; None for anything else (the caller uses json.dumps then)."""
    if not values:
        return None
    out = []
    for row in values:
        if type(row) is not dict or not row or any(type(key) is not str for key in row):
            return None
        out.append(open_row(list(row.items())) + "\n  }")
    return array(out)


def array(elements: list[str]) -> str:
    """A top-level array of elements already written as text (an empty list: "[]")."""
    return "[\n" + ",\n".join(elements) + "\n]" if elements else "[]"
