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

from pathvalidate import ErrorReason, ValidationError, is_valid_filename, validate_filename

from evalkit.errors import EvalkitError

MAX_ID_LENGTH = 100


def folder_name_problem(school_id: str) -> str | None:
    """Why ``school_id`` cannot be used as a folder name, in Chinese; ``None`` when it can.

    What a file system refuses is decided by :func:`pathvalidate.validate_filename` with
    ``platform="universal"``, so a name is refused alike on Linux, macOS and Windows (outputs are
    copied between them): path separators, NUL and other ASCII control characters, the characters
    Windows forbids (``" * : < > ? |``), Windows reserved device names (``CON``, ``PRN``, ``AUX``,
    ``NUL``, ``COM1``…, ``LPT1``…, in any case and with any extension), trailing dots or spaces, and
    names longer than 255 bytes in UTF-8. evalkit refuses besides: ``.`` and ``..``, any other
    control or format character (e.g. U+202E, which reverses the text shown), a leading ``-``,
    leading/trailing whitespace of any kind, and ids longer than :data:`MAX_ID_LENGTH` characters.

    >>> folder_name_problem("com1")
    '“com1”是 Windows 保留的设备名（CON、PRN、AUX、NUL、COM1–COM9、LPT1–LPT9 等，不分大小写、不论扩展名）'
    >>> folder_name_problem("一小:东校区")
    '包含 Windows 不允许的字符“:”'
    """
    if not isinstance(school_id, str) or school_id == "":
        return "为空"
    if school_id in (".", ".."):
        return f"不能是“{school_id}”"
    try:
        validate_filename(school_id, platform="universal")
    except ValidationError as err:
        return _file_system_problem(school_id, err)
    controls = _controls(school_id)
    if controls:
        return "包含控制字符 " + controls
    if school_id.startswith("-"):
        return "以“-”开头"
    if school_id != school_id.strip():
        return "首尾有空格"
    if len(school_id) > MAX_ID_LENGTH:
        return f"长度 {len(school_id)} 超过 {MAX_ID_LENGTH} 个字符"
    return None


def _controls(name: str) -> str:
    """The control and format characters in ``name``, as ``U+000A、U+202E``; ``""`` when none."""
    found = sorted({ch for ch in name if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp")})
    return "、".join(f"U+{ord(ch):04X}" for ch in found)


def _file_system_problem(name: str, err: ValidationError) -> str:
    """pathvalidate's reason for refusing ``name``, said in Chinese and naming what is wrong."""
    if err.reason is ErrorReason.NULL_NAME:
        return "只有空白字符"
    if err.reason is ErrorReason.RESERVED_NAME:
        return (f"“{err.reserved_name}”是 Windows 保留的设备名（CON、PRN、AUX、NUL、COM1–COM9、LPT1–LPT9 等，"
                "不分大小写、不论扩展名）")
    if err.reason is ErrorReason.INVALID_LENGTH:
        return f"按 UTF-8 编码长 {len(name.encode('utf-8'))} 字节，超过文件名上限 255 字节"
    if err.reason is ErrorReason.INVALID_CHARACTER:
        for sep in ("/", "\\"):
            if sep in name:
                return f"包含路径分隔符“{sep}”"
        if "\x00" in name:
            return "包含空字符（NUL）"
        controls = _controls(name)
        if controls:
            return "包含控制字符 " + controls
        forbidden = sorted({ch for ch in name if not is_valid_filename(f"a{ch}a", platform="universal")})
        if forbidden:
            return "包含 Windows 不允许的字符" + "、".join(f"“{ch}”" for ch in forbidden)
        if name != name.strip():
            return "首尾有空格"
        if name.endswith("."):
            return "以“.”结尾（Windows 会去掉结尾的点）"
    return f"不能用作文件名（{err.reason.description}）"


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
