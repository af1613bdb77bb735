"""One check of `gitclaim doctor`: its name, whether it passed, what was found and how to fix it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    required: bool = True  # False: advice only; the doctor still passes when it fails

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "ok": self.ok, "required": self.required, "detail": self.detail,
                "fix": self.fix or None}
