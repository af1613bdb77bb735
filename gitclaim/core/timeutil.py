"""Timestamps (UTC, ISO 8601 with a trailing Z) and durations like '24h', '90m', '7d'."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from gitclaim.errors import InvalidInput

_DURATION_RE = re.compile(r"(\d+)\s*([smhdw])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def format_ts(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_ts(value: object) -> datetime | None:
    """Read a timestamp as YAML or a person may have written it; None when absent or unreadable."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if not isinstance(value, str):
        return None
    text = value.strip().replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_duration(text: str) -> timedelta:
    """'24h', '1d12h', '90m', '3600' (seconds) -> timedelta; InvalidInput otherwise."""
    raw = text.strip().lower()
    if raw.isdigit():
        return _seconds(int(raw), text)
    pos, total = 0, 0
    for match in _DURATION_RE.finditer(raw):
        if raw[pos:match.start()].strip():
            break
        total += int(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    if pos == 0 or raw[pos:].strip():
        raise InvalidInput(f"invalid duration {text!r}: use a number with a unit, e.g. 30m, 24h, 7d")
    return _seconds(total, text)


def _seconds(total: int, text: str) -> timedelta:
    try:
        return timedelta(seconds=total)
    except OverflowError:  # more than timedelta holds (about 2.7 million years)
        raise InvalidInput(f"invalid duration {text!r}: too long") from None


def format_duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    if seconds < 60:
        return f"{sign}{seconds}s"
    if seconds < 3600:
        return f"{sign}{seconds // 60}m"
    if seconds < 86400:
        return f"{sign}{seconds // 3600}h{(seconds % 3600) // 60:02d}m"
    return f"{sign}{seconds // 86400}d{(seconds % 86400) // 3600}h"
