"""The git boundary: every git command gitclaim runs, in one package, and one module that starts git
(`process.py`: `Git.run`). The other modules build commands and read what git prints in machine formats
(`--porcelain`, `-z`, `--format`, `cat-file --batch`); the pure parsers are in core/gitrecords.py, whose names
are importable from here too.

Every git process goes through `Git.run`: argument lists only (never a shell), never localized prose. Options are
separated from user text by the callers' validation (mission ids never start with '-') and by `--` /
`--end-of-options` where git accepts them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gitclaim.core.git.objectio import all_commits as all_commits
from gitclaim.core.git.objectio import cat_file_batch as cat_file_batch
from gitclaim.core.git.objectio import commit_tree as commit_tree
from gitclaim.core.git.objectio import first_parent_chain as first_parent_chain
from gitclaim.core.git.objectio import first_parent_log as first_parent_log
from gitclaim.core.git.objectio import git_path as git_path
from gitclaim.core.git.objectio import list_files as list_files
from gitclaim.core.git.objectio import read_commits as read_commits
from gitclaim.core.git.objectio import trailer_values as trailer_values
from gitclaim.core.git.objectio import unreachable_commits as unreachable_commits
from gitclaim.core.git.objectio import var_ident as var_ident
from gitclaim.core.git.objectio import write_blob as write_blob
from gitclaim.core.git.objectio import write_objects as write_objects
from gitclaim.core.git.objectio import write_tree as write_tree
from gitclaim.core.git.process import CatFile as CatFile
from gitclaim.core.git.process import Git as Git
from gitclaim.core.git.process import GitTimeout as GitTimeout
from gitclaim.core.git.process import KeptReader as KeptReader
from gitclaim.core.git.process import ReaderGone as ReaderGone
from gitclaim.core.git.process import Result as Result
from gitclaim.core.git.remote import PushOutcome as PushOutcome
from gitclaim.core.git.remote import RefUpdate as RefUpdate
from gitclaim.core.git.remote import fetch as fetch
from gitclaim.core.git.remote import ls_remote as ls_remote
from gitclaim.core.git.remote import push_cas as push_cas
from gitclaim.core.git.repository import RepoPaths as RepoPaths
from gitclaim.core.git.repository import clone as clone
from gitclaim.core.git.repository import config_list as config_list
from gitclaim.core.git.repository import config_replace_all as config_replace_all
from gitclaim.core.git.repository import config_set as config_set
from gitclaim.core.git.repository import delete_ref as delete_ref
from gitclaim.core.git.repository import discover as discover
from gitclaim.core.git.repository import for_each_ref as for_each_ref
from gitclaim.core.git.repository import init_bare as init_bare
from gitclaim.core.git.repository import open_repository as open_repository
from gitclaim.core.git.repository import pack_refs as pack_refs
from gitclaim.core.git.repository import symbolic_refs as symbolic_refs
from gitclaim.core.git.repository import update_ref as update_ref
from gitclaim.core.git.repository import update_refs as update_refs
from gitclaim.core.gitrecords import Commit as Commit
from gitclaim.core.gitrecords import GitObject as GitObject
from gitclaim.core.gitrecords import Ident as Ident
from gitclaim.core.gitrecords import TreeEntry as TreeEntry
from gitclaim.core.gitrecords import parse_commit as parse_commit
from gitclaim.core.gitrecords import parse_ident as parse_ident
from gitclaim.core.gitrecords import parse_tree as parse_tree

# Read only by `gitclaim audit` and by the trust checks of signed claims: loaded when first named, so that the
# agents' hot commands, which use neither, do not pay for importing them (about 1.5 ms).
_LAZY = {"AuditCommit": "audit", "audit_refs": "audit", "CommitSignature": "signatures",
         "commit_signatures": "signatures"}

if TYPE_CHECKING:
    from gitclaim.core.git.audit import AuditCommit as AuditCommit
    from gitclaim.core.git.audit import audit_refs as audit_refs
    from gitclaim.core.git.signatures import CommitSignature as CommitSignature
    from gitclaim.core.git.signatures import commit_signatures as commit_signatures


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
