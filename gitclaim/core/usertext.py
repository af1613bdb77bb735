"""Text a user gives for a commit or mission.md (titles, log messages, summaries, reasons): bounded, without NUL
bytes, and valid UTF-8, checked before anything is written."""

from __future__ import annotations

from gitclaim.errors import InvalidInput

MAX_TEXT = 20_000


def user_text(value: str | None, what: str) -> str:
    text = (value or "").strip()
    if len(text) > MAX_TEXT:
        raise InvalidInput(f"{what} is longer than {MAX_TEXT} characters")
    if "\0" in text:
        raise InvalidInput(f"{what} contains a NUL byte")
    return valid_unicode(text, what)


def valid_unicode(text: str, what: str) -> str:
    """Text that can be written as UTF-8: arguments may carry lone surrogates from undecodable bytes."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(f"{what} is not valid UTF-8 text") from None
    return text
