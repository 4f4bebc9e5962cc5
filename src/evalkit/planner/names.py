"""School ids as folder names, and names as shown on a terminal.

A school id becomes a folder under ``outputs/<year>/schools/``, so it must be a single, plain
path component. :func:`folder_name_problem` says (in Chinese) why an id cannot be one;
:func:`safe_child` joins components under a base folder and refuses anything that would land
outside it. Ids and names reach notebooks unchanged (as Python string literals written by
papermill, see :func:`check_literal_round_trip`); only file names are restricted.

>>> folder_name_problem("001") is None
True
>>> folder_name_problem("../x")
'包含路径分隔符“/”'
>>> display("城关\\n一小\\x1b[2J")
'城关\\\\n一小\\\\x1b[2J'
"""

from __future__ import annotations

import ast
import unicodedata
from pathlib import Path
from typing import Any

from evalkit.errors import EvalkitError

MAX_ID_LENGTH = 100


def folder_name_problem(school_id: str) -> str | None:
    """Why ``school_id`` cannot be used as a folder name, in Chinese; ``None`` when it can.

    Refused: empty ids, ``.`` and ``..``, ids containing ``/``, ``\\`` or NUL, any control
    character (newlines, tabs, escapes), a leading ``-``, leading/trailing spaces, and ids longer
    than :data:`MAX_ID_LENGTH` characters.
    """
    if not isinstance(school_id, str) or school_id == "":
        return "为空"
    if school_id in (".", ".."):
        return f"不能是“{school_id}”"
    for sep in ("/", "\\"):
        if sep in school_id:
            return f"包含路径分隔符“{sep}”"
    if "\x00" in school_id:
        return "包含空字符（NUL）"
    controls = sorted({ch for ch in school_id if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp")})
    if controls:
        return "包含控制字符 " + "、".join(f"U+{ord(ch):04X}" for ch in controls)
    if school_id.startswith("-"):
        return "以“-”开头"
    if school_id != school_id.strip():
        return "首尾有空格"
    if len(school_id) > MAX_ID_LENGTH:
        return f"长度 {len(school_id)} 超过 {MAX_ID_LENGTH} 个字符"
    return None


class UnsafePathError(EvalkitError):
    """A path built from data would leave its base folder."""


def safe_child(base: Path, *parts: str) -> Path:
    """``base / part / …``, refusing any part that is not a plain component or a result that
    resolves outside ``base``."""
    out = base
    for part in parts:
        problem = folder_name_problem(part)
        if problem:
            raise UnsafePathError(f"“{display(part)}”不能用作文件或文件夹名：{problem}")
        out = out / part
    root = base.resolve()
    if not out.resolve().is_relative_to(root):
        raise UnsafePathError(
            f"路径 {display(str(out))} 不在输出文件夹 {root} 之内 / outside the output folder"
        )
    return out


def display(text: Any) -> str:
    """``text`` with control and format characters escaped, safe to print on a terminal."""
    out = []
    for ch in str(text):
        if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp"):
            out.append(repr(ch)[1:-1])
        else:
            out.append(ch)
    return "".join(out)


def check_literal_round_trip(parameters: dict[str, Any]) -> None:
    """Raise ``ValueError`` unless every parameter, written as papermill writes it into the
    notebook, reads back as exactly the same value (so data is never executed as code)."""
    from papermill.translators import PythonTranslator

    for name, value in parameters.items():
        literal = PythonTranslator.translate(value)
        try:
            back = ast.literal_eval(literal)
        except (ValueError, SyntaxError) as err:
            raise ValueError(f"参数 {name} 无法安全传入笔记本 / unsafe parameter: {err}") from None
        if back != value or type(back) is not type(value):
            raise ValueError(f"参数 {name} 传入笔记本后会改变 / parameter would change: {display(value)}")
