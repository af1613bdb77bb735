"""Import of the seeds' mission files and directories, and export of the seed's queue/active/done view."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from gitclaim.core import transitions as claims
from gitclaim.missions import setup
from gitclaim.missions.workspace import open_store
from tests.helpers import git, remote_mission, remote_refs, run_gitclaim

SEED1_QUEUED = """\
---
mission_id: 2025-12-22-thaifa-migration-critical
status: QUEUED
assigned_to: Claude Code
created: 2025-12-22
priority: critical
---

# Thaifa migration

Migrate the admin/ folder.
"""

SEED1_ACTIVE = """\
---
mission_id: fix-login
status: ACTIVE
assigned_to: Claude Code
created: 2025-12-20
claimed_at: 2025-12-22T02:30:00+01:00
claimed_by: "Thaifa P0 migration session"
---

# Fix login

## Execution Log

### 2025-12-22

- 02:30 - **CLAIMED** by session "Thaifa P0 migration"
"""

SEED1_DONE = """\
---
status: DONE
created: 2025-11-02
---

# Old cleanup
"""



def fast_clone(make_clone, name: str) -> Path:
    """A clone initialised in-process: the CLI runs where it is the subject of the test, start-up costs add up."""
    path = make_clone(name, init=False)
    setup.init_clone(open_store(path), "origin")
    return path

def seed1_tree(root: Path) -> Path:
    missions = root / "missions"
    for folder, name, text in (("queue", "2025-12-22-thaifa-migration-critical.md", SEED1_QUEUED),
                               ("active", "fix-login.md", SEED1_ACTIVE), ("done", "old-cleanup.md", SEED1_DONE),
                               ("done", "Bad_Name.md", SEED1_DONE)):
        (missions / folder).mkdir(parents=True, exist_ok=True)
        (missions / folder / name).write_text(text)
    (missions / "README.md").write_text("# How we run missions\n")
    return missions


def seed2_dir(root: Path, name: str = "auth-rewrite") -> Path:
    mdir = root / ".claude" / "missions" / name
    (mdir / "agents").mkdir(parents=True)
    (mdir / "mission.md").write_text(f"---\nmission_id: {name}\ntitle: Rewrite auth\nprofile: simple\n---\n\n"
                                     "# Rewrite auth\n\nReplace the session store.\n")
    (mdir / "workflow.md").write_text("---\nname: simple\nphases: []\n---\n")
    (mdir / "start.md").write_text("# Start\n\nRun the workflow.\n")
    (mdir / "agents" / "implementer.md").write_text("---\nname: implementer\n---\nImplement.\n")
    return mdir


def frontmatter(text: str) -> dict:
    head = text.split("---\n")[1]
    return {k: json.loads(v) for k, _, v in (ln.partition(": ") for ln in head.splitlines())}


def test_import_seed1_tree_then_reimport_changes_nothing(make_clone, bare_remote) -> None:
    a = fast_clone(make_clone, "a")
    seed1_tree(a)
    res = run_gitclaim(a, "import", "missions")
    assert res.returncode == 2, res.stderr  # the one badly named file; every other file was imported
    assert "Bad_Name" in res.stdout and "invalid" in res.stdout and "skipped" in res.stdout
    refs = remote_refs(bare_remote)
    assert sorted(refs) == ["refs/missions/2025-12-22-thaifa-migration-critical", "refs/missions/fix-login",
                            "refs/missions/old-cleanup"]

    queued = frontmatter(remote_mission(bare_remote, "2025-12-22-thaifa-migration-critical"))
    assert (queued["status"], queued["title"], queued["priority"]) == ("QUEUED", "Thaifa migration", 0)
    assert (queued["assigned_to"], queued["created"]) == ("Claude Code", "2025-12-22T00:00:00Z")
    active_text = remote_mission(bare_remote, "fix-login")
    active = frontmatter(active_text)
    assert (active["status"], active["claim_instance"], active["claimed_by"]) == ("QUEUED", None, None)
    assert active["imported_status"] == "ACTIVE"
    assert active["imported_claimed_by"] == "Thaifa P0 migration session"
    assert "## Execution Log (before import)" in active_text
    done = frontmatter(remote_mission(bare_remote, "old-cleanup"))
    assert (done["status"], done["title"]) == ("DONE", "Old cleanup")
    assert done["finished_at"] == "2025-11-02T00:00:00Z"  # no better time in the file: its created date
    subject = git(bare_remote, "log", "-1", "--format=%s%n%(trailers:key=Gitclaim-Action,valueonly)",
                  "refs/missions/fix-login").stdout.split("\n")
    assert subject[:2] == ["chore(mission): import fix-login", "import"]

    (a / "missions" / "done" / "Bad_Name.md").unlink()
    res = run_gitclaim(a, "import", "missions")
    assert res.returncode == 0, res.stderr
    results = [ln.split()[0] for ln in res.stdout.splitlines()]
    assert results == ["skipped", "unchanged", "unchanged", "unchanged", "import:"]
    assert remote_refs(bare_remote) == refs


def test_import_conflict_is_reported_and_never_overwrites(make_clone, bare_remote) -> None:
    a = fast_clone(make_clone, "a")
    missions = seed1_tree(a)
    (missions / "done" / "Bad_Name.md").unlink()
    assert run_gitclaim(a, "import", str(missions / "queue")).returncode == 0
    before = remote_refs(bare_remote)
    path = missions / "queue" / "2025-12-22-thaifa-migration-critical.md"
    path.write_text(SEED1_QUEUED.replace("admin/", "billing/"))
    res = run_gitclaim(a, "import", "--json", str(missions))
    assert res.returncode == 3
    items = {it["mission_id"]: it for it in json.loads(res.stdout)["items"] if it["mission_id"]}
    assert items["2025-12-22-thaifa-migration-critical"]["result"] == "conflict"
    assert "different body" in items["2025-12-22-thaifa-migration-critical"]["detail"]
    assert items["fix-login"]["result"] == items["old-cleanup"]["result"] == "created"
    after = remote_refs(bare_remote)
    key = "refs/missions/2025-12-22-thaifa-migration-critical"
    assert after[key] == before[key] and "admin/" in remote_mission(bare_remote, key.rsplit("/", 1)[1])
    assert res.stderr.strip() == ("gitclaim: import: 1 mission exists on the remote with different content; "
                                  "nothing was overwritten")


def test_import_seed2_directories_with_their_files(make_clone, bare_remote) -> None:
    a = fast_clone(make_clone, "a")
    mdir = seed2_dir(a)
    res = run_gitclaim(a, "import", "--dry-run", "--json", ".claude/missions")
    assert res.returncode == 0, res.stderr
    assert [it["result"] for it in json.loads(res.stdout)["items"]] == ["would-create"]
    assert remote_refs(bare_remote) == {}

    assert run_gitclaim(a, "import", ".claude/missions").returncode == 0
    files = git(bare_remote, "ls-tree", "-r", "--name-only", "refs/missions/auth-rewrite").stdout.split()
    assert files == ["agents/implementer.md", "mission.md", "start.md", "workflow.md"]
    assert git(bare_remote, "show", "refs/missions/auth-rewrite:start.md").stdout == (mdir / "start.md").read_text()
    assert frontmatter(remote_mission(bare_remote, "auth-rewrite"))["profile"] == "simple"
    refs = remote_refs(bare_remote)

    res = run_gitclaim(a, "import", str(mdir / "mission.md"))
    assert res.returncode == 0 and "unchanged" in res.stdout
    (mdir / "agents" / "implementer.md").write_text("changed\n")
    res = run_gitclaim(a, "import", str(mdir))
    assert res.returncode == 3 and "files (agents/implementer.md)" in res.stdout
    assert remote_refs(bare_remote) == refs


def test_export_writes_the_seed_layout_read_only_with_the_log(make_clone) -> None:
    a = fast_clone(make_clone, "a")
    store = open_store(a)
    actor = claims.actor_for(store, "export session")
    for mid in ("q1", "a1", "d1", "f1"):
        claims.create(store, actor, mid, f"Mission {mid}", body=f"Body of {mid}.")
    for mid in ("a1", "d1", "f1"):
        claims.claim(store, actor, mid)
    claims.log(store, actor, "a1", claims.LogEntry("milestone", "halfway", progress=50))
    claims.finish(store, actor, "d1", summary="shipped")
    claims.finish(store, actor, "f1", status="FAILED", summary="no way")

    res = run_gitclaim(a, "export", "--dir", "view", "--json")
    assert res.returncode == 0, res.stderr
    view = a / "view"
    got = sorted(p.relative_to(view).as_posix() for p in view.rglob("*") if p.is_file())
    assert got == [".gitclaim-export.json", "README.md", "active/a1.md", "done/d1.md", "done/f1.md", "queue/q1.md"]
    assert stat.S_IMODE((view / "active" / "a1.md").stat().st_mode) == 0o444
    assert "generated by `gitclaim export`" in (view / "README.md").read_text()
    text = (view / "active" / "a1.md").read_text()
    assert text.startswith("---\ngitclaim_format: 1\nmission_id: \"a1\"\n") and "Body of a1." in text
    assert "## Execution Log" in text and '**CLAIMED** by session "export session" (epoch 1)' in text
    assert "**MILESTONE** (50%): halfway" in text
    assert "**DONE**: shipped" in (view / "done" / "d1.md").read_text()

    claims.release(store, actor, "a1")
    (view / "mine.md").write_text("not ours\n")
    res = run_gitclaim(a, "export", "--dir", "view", "--json")
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["written"] == ["queue/a1.md"] and out["removed"] == ["active/a1.md"]
    assert not (view / "active" / "a1.md").exists() and (view / "mine.md").read_text() == "not ours\n"
    assert "**RELEASED**" in (view / "queue" / "a1.md").read_text()

    (view / "queue" / "a1.md").unlink()
    (view / "queue" / "a1.md").write_text("hand-written\n")
    (view / ".gitclaim-export.json").write_text("[]")
    res = run_gitclaim(a, "export", "--dir", "view")
    assert res.returncode == 3 and "was not written by gitclaim export" in res.stderr
    assert (view / "queue" / "a1.md").read_text() == "hand-written\n"
