"""The execution log, read back from a mission's commit chain and rendered in the seed's layout:

    ## Execution Log

    ### 2025-12-22

    - 02:30 - **CLAIMED** by session "Thaifa P0 migration"
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from gitclaim.core import message as msg
from gitclaim.core import mission as m
from gitclaim.core.git import CatFile, Commit
from gitclaim.core.store import State, Store


@dataclass(frozen=True)
class Event:
    commit: str
    when: datetime
    action: str
    text: str
    session: str | None
    instance: str | None
    epoch: int | None
    trailers: dict[str, str] = field(default_factory=dict)
    status: str | None = None

    @property
    def kind(self) -> str:
        return self.trailers.get("kind", self.action)

    def to_json(self) -> dict[str, Any]:
        return {
            "commit": self.commit, "time": self.when.strftime("%Y-%m-%dT%H:%M:%SZ"), "action": self.action,
            "kind": self.kind, "text": self.text, "session": self.session, "instance": self.instance,
            "epoch": self.epoch, "status": self.status,
            "fields": {k: v for k, v in self.trailers.items() if k not in ("action", "nonce", "instance", "epoch")},
        }


def history(store: Store, state: State, *, limit: int | None = None, cat: CatFile | None = None) -> list[Event]:
    """Events oldest first, from one cat-file walk of the chain (the newest `limit` when given)."""
    events = []
    for commit, mission in store.walk(state.commit, state.mission_id, cat):
        events.append(_event(commit.oid, commit.committer_time, commit.message, mission))
        if limit is not None and len(events) >= limit:
            break
    events.reverse()
    return events


def event_of(commit: Commit, mission: m.Mission | None) -> Event:
    """The event one commit of a mission's history records (`mission`: what that commit holds)."""
    return _event(commit.oid, commit.committer_time, commit.message, mission)


def _event(oid: str, stamp: int, message: str, mission: m.Mission | None) -> Event:
    _, body, trailers = msg.parse(message)
    epoch = trailers.get("epoch")
    return Event(
        commit=oid, when=datetime.fromtimestamp(stamp, UTC), action=trailers.get("action", "edit"),
        text=body, session=mission.claimed_by if mission else None, instance=trailers.get("instance"),
        epoch=int(epoch) if epoch and epoch.isdigit() else None, trailers=trailers,
        status=mission.status if mission else None,
    )


_VOID = {"none": "unsigned", "untrusted": "untrusted key", "bad": "bad signature"}


def describe(ev: Event, *, multiline: bool = False) -> str | None:
    """One log line's text (after the time); None for events the log leaves out (heartbeats). With
    `multiline`, the lines of a multi-line message are kept (render() indents them under the entry)."""
    t, text = ev.trailers, _text(ev.text, multiline)
    by = f' by session "{ev.session}"' if ev.session else ""
    if ev.action in ("create", "import"):
        return f"**{'CREATED' if ev.action == 'create' else 'IMPORTED'}**"
    if ev.action == "claim":
        return f"**CLAIMED**{by} (epoch {ev.epoch})"
    if ev.action == "resume":
        return f"**RESUMED**{by} by the same principal from instance {t.get('previous-instance')} (epoch {ev.epoch})"
    if ev.action == "takeover":
        how = "TAKEN OVER"
        if t.get("takeover") == "steal":
            how = f"STOLEN (void claim: {_VOID.get(t['void-claim'], 'not good')})" if t.get("void-claim") \
                else "STOLEN (stale)"
        reason = f": {text}" if text else ""
        return f"**{how}**{by} from instance {t.get('previous-instance')} (epoch {ev.epoch}){reason}"
    if ev.action == "release":
        return "**RELEASED**" + (f": {text}" if text else "")
    if ev.action in ("complete", "fail"):
        return f"**{'DONE' if ev.action == 'complete' else 'FAILED'}**" + (f": {text}" if text else "")
    if ev.action == "unblock":
        return "**UNBLOCKED**" + (f": {text}" if text else "")
    if ev.action in ("reopen", "cancel", "summary"):
        word = {"reopen": "REOPENED", "cancel": "CANCELLED", "summary": "SUMMARY"}[ev.action]
        return f"**{word}**" + (f": {text}" if text else "")
    if ev.action == "edit" and t.get("fields"):
        return f"**EDITED** ({t['fields'].replace(',', ', ')})"
    if ev.action == "heartbeat":
        return None
    if ev.action == "log":
        return _describe_log(ev.kind, t, text)
    return f"**{ev.action.upper()}**" + (f": {text}" if text else "")


def _describe_log(kind: str, t: dict[str, str], text: str) -> str:
    task = f" [task {t['task']}]" if t.get("task") else ""
    if kind == "milestone":
        pct = f" ({t['progress']}%)" if t.get("progress") else ""
        return f"**MILESTONE**{pct}{task}: {text}"
    if kind == "decision":
        q = f"{t['question']} -> " if t.get("question") else ""
        chosen = t.get("chosen", "")
        if not chosen:  # a decision told only as text: the text is the decision
            return f"**DECISION**{task}: {q}{text}"
        why = f" ({text})" if text and text != chosen else ""
        return f"**DECISION**{task}: {q}{chosen}{why}"
    if kind == "issue":
        sev = f" [{t['severity']}]" if t.get("severity") else ""
        human = " (needs a human)" if t.get("needs-human") else ""
        return f"**ISSUE**{sev}{task}: {text}{human}"
    return f"{text}{task}"


def _text(text: str, multiline: bool) -> str:
    if not multiline:
        return " ".join(text.split())
    lines = [" ".join(ln.split()) for ln in text.strip().splitlines()]
    return "\n".join(lines)


def render(events: list[Event]) -> str:
    lines = ["## Execution Log"]
    day = None
    for ev in events:
        line = describe(ev, multiline=True)
        if line is None:
            continue
        if ev.when.date() != day:
            day = ev.when.date()
            lines += ["", f"### {day.isoformat()}", ""]
        first, *more = line.split("\n")
        lines.append(f"- {ev.when.strftime('%H:%M')} - {first}")
        lines += [f"  {ln}".rstrip() for ln in more]  # indented: the entry's continuation in Markdown
    return "\n".join(lines) + "\n"
