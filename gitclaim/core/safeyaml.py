"""The one way gitclaim reads and writes YAML: safe loading only, and every failure as one `YamlProblem`.

PyYAML reports bad input as `YAMLError`, but crafted tags (`!!timestamp x`, `!!python/...` under the safe
loader) make it raise AttributeError, TypeError or ValueError, and deep nesting a RecursionError. Each reader
of a YAML file (mission.md, workflow.md, imported files, `.gitclaim.yaml`) turns a `YamlProblem` into the
one-line error of its own input; none of them catches PyYAML's exceptions itself.

yaml and python-frontmatter are imported inside the functions: they cost start-up time, and the hot commands
never need them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any, Literal, TypeVar, cast

T = TypeVar("T")

ProblemKind = Literal["syntax", "nested", "unreadable"]


class YamlProblem(Exception):
    """Why a YAML text could not be read or written. `kind` is "syntax" (not YAML), "nested" (too deep to
    read) or "unreadable" (a crafted tag); `line` is 1-based within the text given (None when PyYAML does not
    say); `problem` is PyYAML's own short description for syntax, else the exception's type name."""

    def __init__(self, kind: ProblemKind, problem: str, line: int | None = None) -> None:
        super().__init__(problem)
        self.kind = kind
        self.problem = problem
        self.line = line


class LineDict(dict[str, Any]):
    """A mapping that remembers the 0-based line it started on within its YAML text (`load(lines=True)`)."""

    line: int = 0


def load(text: str, *, lines: bool = False) -> Any:
    """The document in `text`, read by PyYAML's safe loader; with `lines`, every mapping is a LineDict."""
    import yaml

    if lines:
        return _guarded(lambda: yaml.load(text, Loader=_line_loader()))
    return _guarded(lambda: yaml.safe_load(text))


def load_frontmatter(text: str) -> tuple[Any, str]:
    """The YAML frontmatter between `---` lines (python-frontmatter, safe loader) and the text after it."""
    import frontmatter

    post = _guarded(lambda: frontmatter.loads(text))
    return post.metadata, post.content


def dump(data: Any) -> str:
    """Block-style YAML, keys in their given order, non-ASCII text kept as is."""
    import yaml

    return _guarded(lambda: yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=False))


def _guarded(call: Callable[[], T]) -> T:
    import yaml

    try:
        return call()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        problem = getattr(exc, "problem", None) or (str(exc).splitlines() or [type(exc).__name__])[0]
        raise YamlProblem("syntax", problem, mark.line + 1 if mark is not None else None) from None
    except RecursionError:
        raise YamlProblem("nested", "RecursionError") from None
    except Exception as exc:  # crafted tags: AttributeError, TypeError, ValueError ... (see the module's doc)
        raise YamlProblem("unreadable", type(exc).__name__) from None


@functools.cache
def _line_loader() -> Any:
    """A SafeLoader whose mappings are LineDicts, so schema errors can name a line; built on first use,
    because defining it needs yaml imported."""
    import yaml

    class _LineLoader(yaml.SafeLoader):
        pass

    def construct(loader: _LineLoader, node: yaml.MappingNode) -> Iterator[LineDict]:
        data = LineDict()
        data.line = node.start_mark.line
        yield data  # yielded before filling, like PyYAML's own constructor, so recursive anchors still work
        data.update(cast("dict[str, Any]", loader.construct_mapping(node)))  # keys may be any scalar

    _LineLoader.add_constructor("tag:yaml.org,2002:map", construct)
    return _LineLoader
