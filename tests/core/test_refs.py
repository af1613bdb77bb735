import pytest

from gitclaim.core.refs import check_id, id_problem
from gitclaim.errors import InvalidInput
from tests.helpers import run_gitclaim

VALID = ["2025-12-22-thaifa-migration-critical", "a", "0", "x.y_z-1", "a" * 100, "v1.2"]
INVALID = ["-rf", "../x", "a b", "A", "x.lock", "", "a..b", "x.", ".hidden", "_x", "a/b", "a" * 101,
           "caf\u00e9", "x\n", "--help", "x:y", "x~1", "x^", "a*", "a?b", "@{u}"]


@pytest.mark.parametrize("mission_id", VALID)
def test_check_id_accepts(mission_id: str) -> None:
    assert check_id(mission_id) == mission_id


@pytest.mark.parametrize("mission_id", INVALID)
def test_check_id_refuses(mission_id: str) -> None:
    assert id_problem(mission_id) is not None
    with pytest.raises(InvalidInput, match="invalid mission id"):
        check_id(mission_id)


@pytest.mark.parametrize("mission_id", ["../x", "A", "x.lock", "", "a b"])
def test_cli_refuses_bad_id_before_git(make_clone, bare_remote, mission_id: str) -> None:
    clone = make_clone("a")
    for args in (["claim", mission_id], ["new", mission_id, "--title", "t"], ["show", mission_id],
                 ["release", mission_id], ["done", mission_id]):
        res = run_gitclaim(clone, *args)
        assert res.returncode == 2, (args, res.stderr)
        assert res.stderr.startswith("gitclaim: invalid mission id"), res.stderr
        assert len(res.stderr.strip().splitlines()) == 1
        assert "Traceback" not in res.stderr


def test_cli_option_like_id_is_one_line_usage_error(make_clone) -> None:
    clone = make_clone("a")
    res = run_gitclaim(clone, "claim", "-rf")
    assert res.returncode == 2
    assert len(res.stderr.strip().splitlines()) == 1
    res = run_gitclaim(clone, "claim", "--", "-rf")
    assert res.returncode == 2
    assert "invalid mission id '-rf'" in res.stderr
