"""The man pages (issue 11, item 30): rendered from the commands' help at build time, installed under
share/man/man1 of the environment, found by `man gitclaim` and by `git claim --help` (which is `git help claim`,
that is `man git-claim`) in a virtual environment, with nothing but the venv's bin on PATH."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from gitclaim.cli.examples import EXAMPLES
from gitclaim.cli.manpage import render
from tests.helpers import ROOT, git


def test_the_page_has_every_command_and_its_example() -> None:
    page = render("gitclaim")
    assert page.startswith('.TH GITCLAIM 1 "')
    for name, example in EXAMPLES.items():
        assert f".SS gitclaim {name}".replace("-", "\\-") in page, name
        assert f"Example: {example}".replace("\\", "\\e").replace("-", "\\-") in page, name
    assert render("git-claim").splitlines()[2] == "git\\-claim \\- claim missions atomically through a shared git remote"


def test_the_page_is_valid_roff(tmp_path: Path) -> None:
    source = tmp_path / "gitclaim.1"
    source.write_text(render("gitclaim"))
    res = subprocess.run(["groff", "-man", "-ww", "-z", str(source)], text=True, capture_output=True)
    assert (res.returncode, res.stderr) == (0, "")


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """gitclaim built into a wheel (the build step renders the pages) and installed into a fresh venv."""
    base = tmp_path_factory.mktemp("build")
    # Without the test run's PYTHONPATH: pip would find the source tree's own gitclaim.egg-info (left by an
    # editable install) on it, call the wheel "already satisfied" and install nothing.
    clean = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    src = base / "src"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(".git", "tests", "benchmarks", "build", "*.egg-info",
                                                            "__pycache__", ".*cache"))
    # An isolated build, as `pip install .` makes it: setuptools and typer come from the package index.
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w",
                    str(base / "dist"), str(src)], check=True, capture_output=True, env=clean)
    [wheel] = (base / "dist").glob("gitclaim-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert sorted(n.split(".data/", 1)[1] for n in names if ".data/data/share/man" in n) == [
        "data/share/man/man1/git-claim.1", "data/share/man/man1/gitclaim.1"]
    env_dir = base / "venv"
    # system site packages: the dependencies are the test environment's, the package itself is the wheel's
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(env_dir)], check=True)
    subprocess.run([str(env_dir / "bin" / "python"), "-m", "pip", "install", "-q", "--no-deps", "--no-index",
                    str(wheel)], check=True, capture_output=True, env=clean)
    return env_dir


def run_in(venv: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("MANPATH", "PYTHONPATH")}
    env.update(PATH=f"{venv / 'bin'}{os.pathsep}/usr/bin{os.pathsep}/bin", MANWIDTH="100", PAGER="cat",
               MANPAGER="cat", GIT_PAGER="cat")
    return subprocess.run(list(args), cwd=cwd, env=env, text=True, capture_output=True, timeout=60)


def test_git_claim_help_opens_the_man_page_in_a_venv(venv: Path, tmp_path: Path) -> None:
    assert (venv / "share" / "man" / "man1" / "git-claim.1").is_file()
    git(tmp_path, "init", "-q", "repo")
    res = run_in(venv, tmp_path / "repo", "git", "claim", "--help")
    assert res.returncode == 0, res.stderr
    assert res.stdout.lstrip().startswith("GIT-CLAIM(1)")
    assert "git-claim - claim missions atomically through a shared git remote" in res.stdout
    assert "gitclaim claim [OPTIONS] MISSION" in res.stdout
    assert 'Example: gitclaim claim fix-login --as "agent 1: login fixes"' in res.stdout


def test_man_gitclaim_in_a_venv(venv: Path, tmp_path: Path) -> None:
    res = run_in(venv, tmp_path, "man", "gitclaim")
    assert res.returncode == 0, res.stderr
    assert res.stdout.lstrip().startswith("GITCLAIM(1)")
    assert "EXIT STATUS" in res.stdout


def test_the_installed_command_is_the_wheels(venv: Path, tmp_path: Path) -> None:
    res = run_in(venv, tmp_path, "gitclaim", "--version")
    assert res.returncode == 0 and res.stdout.startswith("gitclaim ")
