"""Reading evalkit's YAML files (frameworks, run files) within bounds, with messages a user can act on.

PyYAML's ``safe_load`` constructs no objects, but it still follows aliases without limit: a
39-line "billion laughs" file (``b: [*a, *a, …]``, ``c: [*b, *b, …]``, …) is a few nodes on
disk and ~10⁹ once expanded, which hangs every consumer that walks the data (validation, line
index, fingerprint) and costs gigabytes. Nested or self-referencing documents
(``a: &x [*x]``) end in a ``RecursionError``. So every YAML file evalkit reads goes through
:func:`load_yaml_file` (or :func:`load_yaml_text`), which enforces:

* **the file**: a regular file (not a folder, device or pipe) of at most
  :data:`MAX_YAML_BYTES` bytes;
* **the encoding**: UTF-8 (with or without BOM), or UTF-16/UTF-32 *with* a BOM (the encoding
  is then certain). A file that is not UTF-8 is refused with what it looks like — GBK/GB18030
  (Windows "ANSI"), UTF-16 without BOM — and how to re-save it, never guessed;
* **the depth**: collections nested at most :data:`MAX_DEPTH` levels (checked while composing,
  long before Python's recursion limit);
* **the size**: at most :data:`MAX_NODES` nodes, counted *with every alias expanded* (each use
  of ``*x`` counts the whole subtree of ``&x``). Expanded sizes are computed once per distinct
  node (memoised), so the check costs time linear in the file, not in the expansion;
* **no cycles**: an alias used inside its own anchor is refused.

Every refusal is a :class:`YamlInputError` carrying a :class:`~evalkit.io.yaml_paths.Problem`
(``(file)`` or ``(yaml)``, a Chinese message with an English gloss, and the line) that the
framework and run-file loaders put into their own error lists.

>>> load_yaml_text("a: &x [1, 2]\\nb: *x\\n")
{'a': [1, 2], 'b': [1, 2]}
>>> try:
...     load_yaml_text("a: &x [*x]\\n")
... except YamlInputError as err:
...     print(err.problem)
(yaml) (第 1 行): 锚点“&x”在自身内部被引用（*x），内容无限循环 / self-referencing alias
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from evalkit.errors import EvalkitError
from evalkit.io.yaml_paths import Found, Location, Problem, duplicate_keys, line_index

MAX_YAML_BYTES = 2_000_000
"""Largest YAML file read (bytes). The shipped framework is about 20 kB."""

MAX_DEPTH = 50
"""Deepest nesting of mappings and lists. The shipped framework nests 6 levels."""

MAX_NODES = 100_000
"""Most nodes (scalars, lists, mappings) in a document with every alias expanded. The shipped
framework has about 1,500."""

_BOMS: tuple[tuple[bytes, str, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "UTF-32"),
    (codecs.BOM_UTF8, "utf-8", "UTF-8 BOM"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16"),
)

RESAVE_HINT = (
    "请用记事本打开该文件，选“另存为”，在“编码”中选 UTF-8 后保存（VS Code：右下角编码 → "
    "“通过编码保存” → UTF-8；WPS/其他编辑器同理）"
)


class YamlInputError(EvalkitError):
    """A YAML file evalkit refuses to read; ``problem`` says where and why (in Chinese)."""

    def __init__(self, where: str, message: str, line: int | None = None):
        self.problem = Problem(where, message, line)
        super().__init__(str(self.problem))


# --------------------------------------------------------------------------- bytes → text


def _line_of(raw: bytes, offset: int) -> int:
    return raw.count(b"\n", 0, offset) + 1


def decode_yaml_bytes(raw: bytes) -> str:
    """The text of a YAML file's bytes: UTF-8 (BOM optional), or UTF-16/32 with a BOM.

    Anything else raises :class:`YamlInputError` naming what the bytes look like and how to
    re-save them; nothing is guessed."""
    for bom, codec, name in _BOMS:
        if raw.startswith(bom):
            try:
                return raw[len(bom):].decode(codec)
            except UnicodeDecodeError as err:
                raise YamlInputError(
                    "(file)",
                    f"文件以 {name} 标记开头，但第 {err.start + len(bom)} 字节起的内容不是 {name} / "
                    f"invalid {name} after its byte-order mark。{RESAVE_HINT}",
                ) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = _line_of(raw, err.start)
        if _looks_utf16(raw):
            what = "看起来是不带 BOM 的 UTF-16（Windows“Unicode”）编码 / looks like UTF-16 without a BOM"
        elif _decodes(raw, "gb18030"):
            what = "看起来是 GBK/GB18030（Windows“ANSI”、简体中文）编码 / looks like GBK"
        else:
            what = f"第 {err.start} 字节 0x{raw[err.start]:02X} 不是有效的 UTF-8 / not UTF-8"
        raise YamlInputError("(file)", f"文件不是 UTF-8 编码：{what}。{RESAVE_HINT}", line) from None


def _looks_utf16(raw: bytes) -> bool:
    """Text in UTF-16 without a BOM: mostly ASCII, so every other byte is NUL."""
    sample = raw[:4096]
    return len(sample) >= 4 and sample.count(0) * 3 >= len(sample)


def _decodes(raw: bytes, codec: str) -> bool:
    try:
        raw.decode(codec)
    except UnicodeDecodeError:
        return False
    return True


def read_yaml_text(path: str | Path) -> str:
    """The text of the YAML file at ``path``: checked to be a regular file of at most
    :data:`MAX_YAML_BYTES` bytes in an encoding :func:`decode_yaml_bytes` accepts."""
    path = Path(path)
    try:
        if path.is_dir():
            raise YamlInputError("(file)", "这是一个文件夹，不是 YAML 文件 / a folder, not a file")
        if not path.exists():
            raise YamlInputError("(file)", "找不到文件 / file not found")
        if not path.is_file():
            raise YamlInputError(
                "(file)", "不是普通文件（设备、管道或套接字），无法作为 YAML 读取 / not a regular file"
            )
        size = path.stat().st_size
        if size > MAX_YAML_BYTES:
            raise YamlInputError(
                "(file)",
                f"文件有 {size:,} 字节，超过 YAML 文件上限 {MAX_YAML_BYTES:,} 字节；指标体系或运行文件"
                "不应这么大，请检查是否选错了文件 / file too large",
            )
        with open(path, "rb") as f:
            raw = f.read(MAX_YAML_BYTES + 1)
    except PermissionError:
        raise YamlInputError("(file)", "没有读取权限 / permission denied") from None
    except OSError as err:
        raise YamlInputError("(file)", f"无法读取 / cannot read: {err.strerror or err}") from None
    if len(raw) > MAX_YAML_BYTES:  # grew while being read
        raise YamlInputError("(file)", f"文件超过 YAML 文件上限 {MAX_YAML_BYTES:,} 字节 / file too large")
    return decode_yaml_bytes(raw)


# --------------------------------------------------------------------------- text → data


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing documents nested deeper than :data:`MAX_DEPTH` or with
    more than :data:`MAX_NODES` distinct nodes while composing them."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self._depth = 0
        self._nodes = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:  # type: ignore[override]
        if self.check_event(yaml.AliasEvent):
            return super().compose_node(parent, index)  # type: ignore[no-any-return]
        event = self.peek_event()
        line = event.start_mark.line + 1
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise YamlInputError("(yaml)", _too_many(), line)
        if isinstance(event, yaml.ScalarEvent):
            return super().compose_node(parent, index)  # type: ignore[no-any-return]
        self._depth += 1  # a list or a mapping
        try:
            if self._depth > MAX_DEPTH:
                raise YamlInputError(
                    "(yaml)",
                    f"嵌套超过 {MAX_DEPTH} 层（列表或键值表层层套叠），evalkit 的文件不需要这么深；"
                    f"请检查缩进或括号是否配对 / nested deeper than {MAX_DEPTH} levels",
                    line,
                )
            return super().compose_node(parent, index)  # type: ignore[no-any-return]
        finally:
            self._depth -= 1


def _too_many() -> str:
    return (
        f"内容展开后超过 {MAX_NODES:,} 个节点：别名（*引用）层层引用锚点（&锚点）会成倍展开，"
        "疑似“十亿笑”（billion laughs）炸弹；请直接写出内容或减少引用 / "
        f"more than {MAX_NODES:,} nodes once aliases are expanded"
    )


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def check_expansion(root: yaml.Node) -> int:
    """The number of nodes of ``root`` with every alias expanded; raise
    :class:`YamlInputError` when it exceeds :data:`MAX_NODES` or when a node contains itself.

    Iterative depth-first search with memoised subtree sizes (each distinct node is visited
    once): size(node) = 1 + Σ size(child), where a mapping's children are its keys and values."""
    size: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        if finished:
            on_path.discard(key)
            total = 1 + sum(size[id(c)] for c in _children(node))
            if total > MAX_NODES:
                raise YamlInputError("(yaml)", _too_many(), node.start_mark.line + 1)
            size[key] = total
            continue
        if key in size:
            continue
        on_path.add(key)
        stack.append((node, True))
        for child in _children(node):
            if id(child) in on_path:
                anchor = _anchor_name(root, child)
                raise YamlInputError(
                    "(yaml)",
                    f"锚点“&{anchor}”在自身内部被引用（*{anchor}），内容无限循环 / self-referencing alias",
                    child.start_mark.line + 1,
                )
            if id(child) not in size:
                stack.append((child, False))
    return size[id(root)]


def _anchor_name(root: yaml.Node, target: yaml.Node) -> str:
    """PyYAML does not keep anchor names on nodes: read the name from the source line."""
    mark = target.start_mark
    buffer = getattr(mark, "buffer", None)
    if buffer:
        text = buffer[mark.pointer:]
        if text.startswith("&"):
            name = text[1:].split(maxsplit=1)[0] if text[1:].strip() else ""
            return name.rstrip(",]}") or "?"
    return "?"


def compose_yaml(text: str) -> yaml.Node | None:
    """The node tree of ``text`` (``None`` for an empty document), within the bounds of this
    module; raises :class:`YamlInputError` (syntax errors included, with their line)."""
    loader = _BoundedLoader(text)
    try:
        node = loader.get_single_node()
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
        raise YamlInputError(
            "(yaml)", f"YAML 格式错误 / syntax error: {err}", mark.line + 1 if mark else None
        ) from None
    finally:
        loader.dispose()
    if node is not None:
        check_expansion(node)
    return node  # type: ignore[no-any-return]


@dataclass(frozen=True)
class YamlDocument:
    """A YAML text parsed once: its ``data`` (safe types only) and the node tree it was built
    from, which knows the line of every value (:attr:`lines`) and the keys given twice
    (:attr:`duplicates`)."""

    text: str
    data: Any
    root: yaml.Node | None = field(repr=False, default=None)

    @cached_property
    def lines(self) -> dict[Location, int]:
        """Every location (``("areas", 0, "points")``) → its 1-based line."""
        return line_index(self.root)

    @cached_property
    def duplicates(self) -> Found:
        """Keys given twice in one mapping (PyYAML silently keeps the last)."""
        return duplicate_keys(self.root)


def parse_yaml(text: str) -> YamlDocument:
    """The YAML ``text`` composed once within the bounds of this module (raising
    :class:`YamlInputError`) and its data constructed from the same node tree."""
    node = compose_yaml(text)
    if node is None:
        return YamlDocument(text, None, None)
    loader = _BoundedLoader("")
    try:
        data = loader.construct_document(node)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        raise YamlInputError(
            "(yaml)", f"YAML 格式错误 / syntax error: {err}", mark.line + 1 if mark else None
        ) from None
    finally:
        loader.dispose()
    return YamlDocument(text, data, node)


def load_yaml_text(text: str) -> Any:
    """The data of the YAML ``text`` (safe types only), within the bounds of this module."""
    return parse_yaml(text).data


def load_yaml_file(path: str | Path) -> YamlDocument:
    """The YAML file at ``path``, read within bounds (:func:`read_yaml_text`) and parsed once
    (:func:`parse_yaml`)."""
    return parse_yaml(read_yaml_text(path))


def as_document(source: str | YamlDocument | None) -> YamlDocument | None:
    """``source`` as a parsed document: a :class:`YamlDocument` as it is, a text parsed once
    (``None`` when it cannot be: its data came from elsewhere, lines are then unknown)."""
    if source is None or isinstance(source, YamlDocument):
        return source
    try:
        return parse_yaml(source)
    except YamlInputError:
        return None
