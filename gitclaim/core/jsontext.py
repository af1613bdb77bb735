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


def member(key: str, value: Any) -> str | None:
    """One member of an object that is an element of a top-level array (4 spaces in), without the separator;
    None when `value` is not a scalar, a list of scalars or an object of scalars (a claim's signature)."""
    if type(value) is list:
        items = [scalar(v) for v in value]
        if None in items:
            return None
        text = "[\n      " + ",\n      ".join(items) + "\n    ]" if items else "[]"  # type: ignore[arg-type]
    elif type(value) is dict:
        members = [(key, scalar(item)) for key, item in value.items()]
        if any(type(k) is not str or v is None for k, v in members):
            return None
        text = "{\n" + ",\n".join(f"      {STR(k)}: {v}" for k, v in members) + "\n    }" if members else "{}"
    else:
        text = scalar(value)  # type: ignore[assignment]
        if text is None:
            return None
    return f"    {STR(key)}: {text}"


def open_row(items: list[tuple[str, Any]]) -> str | None:
    """An array element's object without its closing line: "  {\\n" and the members joined; `close_row` ends it
    (after more members, if any). None when a value is not a scalar or a list of scalars."""
    members = [member(key, value) for key, value in items]
    if None in members:
        return None
    return "  {\n" + ",\n".join(members)  # type: ignore[arg-type]


def close_row(members: list[str]) -> str:
    """The end of a row begun by `open_row`: further members (each from `member`), then the closing brace."""
    return "".join(f",\n{text}" for text in members) + "\n  }"


def rows(values: list[Any]) -> str | None:
    """`json.dumps(values, indent=2, ensure_ascii=False)` for a non-empty list of non-empty flat objects with
    string keys; None for anything else (the caller uses json.dumps then)."""
    if not values:
        return None
    out = []
    for row in values:
        if type(row) is not dict or not row or any(type(key) is not str for key in row):
            return None
        text = open_row(list(row.items()))
        if text is None:
            return None
        out.append(text + "\n  }")
    return array(out)


def array(elements: list[str]) -> str:
    """A top-level array of elements already written as text (an empty list: "[]")."""
    return "[\n" + ",\n".join(elements) + "\n]" if elements else "[]"
