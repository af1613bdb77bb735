"""`watch` events carry the signature of their commits (issue 15, item 3): named on a good one, marked on one that
is not once the default branch has a trust list. Real keys and a real trust list on the remote's main branch."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from gitclaim.core.trust import TRUST_FILE
from gitclaim.missions.watch import Watcher
from gitclaim.missions.workspace import open_store
from tests.helpers import ok
from tests.support.signing import commit_to_main, fingerprint, make_key, trust_line, use_key


def test_watch_events_say_who_signed_each_commit(make_clone: Callable[..., Path], bare_remote: Path,
                                                 tmp_path: Path) -> None:
    alice_key, mallory_key = make_key(tmp_path / "keys", "alice"), make_key(tmp_path / "keys", "mallory")
    commit_to_main(bare_remote, tmp_path / "admin", {TRUST_FILE: trust_line("alice@agents", alice_key)})
    alice, mallory, plain = make_clone("alice"), make_clone("mallory"), make_clone("plain")
    use_key(alice, alice_key)
    use_key(mallory, mallory_key)
    for mid in ("m1", "m2", "m3"):
        ok(alice, "new", mid, "--title", f"Mission {mid}")
    watcher = None

    def sleep(_: float) -> None:  # between two fetches, three clones claim
        if watcher is not None and watcher.polls == 1:
            ok(alice, "claim", "m1", "--as", "alice")
            ok(mallory, "claim", "m2", "--as", "mallory")
            ok(plain, "claim", "m3", "--as", "plain")

    watcher = Watcher(open_store(plain), ["m1", "m2", "m3"], "changed", interval=1, timeout=60, sleep=sleep)
    events = {ev.mission_id: ev for ev in watcher.events()}
    assert events["m1"].to_json()["signature"] == {"state": "good", "principal": "alice@agents",
                                                   "key": fingerprint(alice_key)}
    assert events["m1"].describe().endswith(f"{events['m1'].commit[:12]} signed by alice@agents")  # type: ignore[index]
    assert events["m2"].describe().endswith(f" UNTRUSTED (key {fingerprint(mallory_key)})")
    assert events["m3"].describe().endswith(f"{events['m3'].commit[:12]} UNSIGNED")  # type: ignore[index]
    assert events["m3"].to_json()["signature"] == {"state": "none", "principal": None, "key": None}
