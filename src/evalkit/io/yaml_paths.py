"""Problems located by YAML path and line, shared by the framework file and the run file checks.

A *location* is a tuple of mapping keys and list indexes, as pydantic reports it
(``("areas", 1, "indicators", 3, "rule")``); :func:`format_path` writes it the way a reader
looks for it in the file (``areas[1].indicators[3].rule``) and :func:`line_for` finds its line.

>>> import yaml
>>> index = line_index(yaml.compose("areas:\\n  - id: A\\n    points: x\\n"))
>>> format_path(("areas", 0, "points")), line_for(index, ("areas", 0, "points"))
('areas[0].points', 3)
>>> line_for(index, ("areas", 0, "name"))          # not in the file: the line of its parent
2
>>> str(Problem("areas[0].points", "应为数字", 3))
'areas[0].points (第 3 行): 应为数字'
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml
from pydantic import ValidationError

Location = tuple[Any, ...]
"""A YAML path as a tuple of mapping keys and list indexes."""

Found = list[tuple[Location, str]]
"""Problems found so far, each a location and its message."""


@dataclass(frozen=True)
class Problem:
    """One problem in a YAML file: where (YAML path and line) and what."""

    path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.path} (第 {self.line} 行)" if self.line else self.path
        return f"{where}: {self.message}"


def format_path(loc: Location | list[Any]) -> str:
    """``("areas", 1, "indicators", 3, "rule")`` → ``areas[1].indicators[3].rule``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(root)"


def _walk(node: yaml.Node, loc: Location = (), repeated: bool = False) -> Iterator[tuple[Location, yaml.Node, bool]]:
    """Every node below ``node`` (itself first) with its location, and whether its key was
    already given earlier in the same mapping."""
    yield loc, node, repeated
    if isinstance(node, yaml.MappingNode):
        seen: set[Any] = set()
        for key, value in node.value:
            yield from _walk(value, (*loc, key.value), key.value in seen)
            seen.add(key.value)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            yield from _walk(item, (*loc, i))


def line_index(root: yaml.Node | None) -> dict[Location, int]:
    """Map every location in the YAML node tree ``root`` to the 1-based line where its value
    starts (``{}`` for an empty document)."""
    if root is None:
        return {}
    return {loc: node.start_mark.line + 1 for loc, node, _ in _walk(root)}


def line_for(index: dict[Location, int], loc: Location) -> int | None:
    """The line of ``loc`` in a :func:`line_index`; for a location not in the file (a
    missing field), the line of its nearest parent that is."""
    while loc:
        if loc in index:
            return index[loc]
        loc = loc[:-1]
    return index.get(())


def duplicate_keys(root: yaml.Node | None) -> Found:
    """Keys given twice in one mapping of the node tree ``root``: PyYAML silently keeps the last,
    so report them."""
    if root is None:
        return []
    return [
        (loc, f"字段“{loc[-1]}”重复，后一个会覆盖前一个 / duplicate key")
        for loc, _, repeated in _walk(root)
        if repeated
    ]


PYDANTIC_ZH = {
    "missing": "缺少必填项",
    "extra_forbidden": "不认识的字段",
    "float_parsing": "应为数字",
    "float_type": "应为数字",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "string_type": "应为文字",
    "bool_parsing": "应为 true/false",
    "literal_error": "取值不在允许范围内",
    "greater_than": "应大于下限",
    "greater_than_equal": "应不小于下限",
    "less_than_equal": "应不大于上限",
    "too_short": "至少应有一项",
    "list_type": "应为列表",
    "dict_type": "应为键值表",
    "model_type": "应为键值表",
    "string_pattern_mismatch": "编号只能用字母、数字、下划线、点或连字符，且以字母开头",
    "value_error": "取值不合要求",
}
"""Chinese wording of pydantic's error types (pydantic's English message follows it)."""


def pydantic_problems(err: ValidationError, prefix: Location = ()) -> Found:
    """Each error of a pydantic validation as a location (below ``prefix``) and a bilingual
    message with the value that was given."""
    out: Found = []
    for e in err.errors():
        zh = PYDANTIC_ZH.get(e["type"], "取值不合要求")
        out.append(((*prefix, *e["loc"]), f"{zh} / {e['msg']} (值 / got: {e.get('input')!r})"))
    return out
