"""The school registry (学校名册): one table per county, read from CSV (UTF-8) or XLSX.

Columns (see ``docs/architecture.md``; Chinese headers are accepted too):

==================  ==============  ===========================================
column              Chinese         dtype
==================  ==============  ===========================================
``school_id``       学校编号        str, kept as text (``"001"`` stays ``"001"``)
``school_name``     学校名称        str
``school_type``     学校类型        str (小学 / 初中 / 九年一贯制 / 高中 / 职高)
``township``        乡镇            str
``pupils``          学生数          Int64
``staff``           教职工数        Int64
``party_members``   党员数          Int64
``branch``          所属支部        str
``active_from``     起始年度        Int64 (empty: assessed from the start)
``active_to``       终止年度        Int64 (empty: still assessed)
``county``          县区            str, only in a city's or province's registry (optional, kept
                                    only when the file has it; see :func:`county_registry`)
==================  ==============  ===========================================

Every other column with a header (片区, 城乡, 学段, …) is kept as text under its header, after
these (``frame.attrs["extra_columns"]`` lists them): a grouping column for ``impute_by`` /
``normalise_by`` in a framework's pipeline and for the county summary's breakdowns.

``school_id`` and ``school_name`` are required; other missing columns are added empty with a
warning (``county`` is not warned about: a county's own registry has none). With a ``county``
column, school ids need only be unique within a county. :func:`read_registry` returns every
problem (missing columns, duplicate or empty ids, numbers that are not whole numbers, a start
year after the end year) as :class:`~evalkit.issues.Issue` objects, the same type intake uses;
:func:`load_registry` raises :class:`RegistryError` listing all errors at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from evalkit.io.controlchars import control_character_issues
from evalkit.io.sheets import Sheet, cell_text, find_header_row, header_key, read_sheets
from evalkit.issues import DataError, Issue, cell_ref

COLUMNS = [
    "school_id",
    "school_name",
    "school_type",
    "township",
    "pupils",
    "staff",
    "party_members",
    "branch",
    "active_from",
    "active_to",
]
REQUIRED = ["school_id", "school_name"]
COUNTY = "county"
"""The optional county column of one registry shared by a region's counties (县区)."""
INT_COLUMNS = ["pupils", "staff", "party_members", "active_from", "active_to"]
TEXT_COLUMNS = [c for c in COLUMNS if c not in INT_COLUMNS]

CHINESE_HEADERS = {
    "school_id": "学校编号",
    "school_name": "学校名称",
    "school_type": "学校类型",
    "township": "乡镇",
    "pupils": "学生数",
    "staff": "教职工数",
    "party_members": "党员数",
    "branch": "所属支部",
    "active_from": "起始年度",
    "active_to": "终止年度",
    COUNTY: "县区",
}

_ALIASES: dict[str, tuple[str, ...]] = {
    "school_id": ("学校编号", "学校代码", "编号", "id", "schoolid", "school"),
    "school_name": ("学校名称", "学校", "校名", "name", "schoolname"),
    "school_type": ("学校类型", "类型", "学段", "type", "schooltype"),
    "township": ("乡镇", "所在乡镇", "镇", "township", "town"),
    "pupils": ("学生数", "在校生数", "学生人数", "pupils", "students"),
    "staff": ("教职工数", "教职工人数", "staff", "teachers"),
    "party_members": ("党员数", "党员人数", "partymembers", "members"),
    "branch": ("所属支部", "党支部", "支部", "branch"),
    "active_from": ("起始年度", "开始年度", "起始年份", "activefrom", "from"),
    "active_to": ("终止年度", "结束年度", "终止年份", "activeto", "to"),
    COUNTY: ("县区", "所属县区", "县（市、区）", "县市区", "区县", "县", "county", "district"),
}
HEADER_ALIASES: dict[str, str] = {
    header_key(alias): col for col, aliases in _ALIASES.items() for alias in (col, *aliases)
}


class RegistryError(DataError):
    """A registry file with errors; ``problems`` lists every one of them."""

    what = "学校名册"


def load_registry(path: str | Path) -> pd.DataFrame:
    """Read and check a registry; raise :class:`RegistryError` listing every error.

    Warnings (e.g. an optional column missing) are kept in ``frame.attrs["issues"]``.
    """
    frame, issues = read_registry(path)
    if frame is None or any(i.is_error for i in issues):
        raise RegistryError(issues)
    frame.attrs["issues"] = [i for i in issues if not i.is_error]
    return frame


def read_registry(path: str | Path, *, sheet_name: str | None = None) -> tuple[pd.DataFrame | None, list[Issue]]:
    """The registry table and every problem found in it (``None`` when it cannot be read at all).

    Rows with problems are kept (so later checks can still name the schools); the issues say
    what is wrong. The registry is the file's first sheet, or the sheet ``sheet_name``.
    """
    sheets, issues = read_sheets(path)
    if sheet_name is not None:
        sheets = [s for s in sheets if s.name == sheet_name]
    if not sheets:
        return None, issues
    sheet = sheets[0]
    issues.extend(control_character_issues(sheet))
    header_row = find_header_row(sheet, {header_key(a) for a in ("school_id", *_ALIASES["school_id"])})
    if header_row is None:
        issues.append(
            Issue(
                "missing_column",
                "error",
                "找不到表头：第一张表的前 10 行中没有“学校编号”（school_id）列 / no header row",
                file=sheet.file,
                sheet=sheet.name,
                expected="学校编号, 学校名称, 学校类型, 乡镇, …",
            )
        )
        return None, issues
    columns = _map_columns(sheet, header_row, issues)
    missing_required = [c for c in REQUIRED if c not in columns]
    where = {"file": sheet.file, "sheet": sheet.name, "row": header_row}
    for col in missing_required:
        head = CHINESE_HEADERS[col]
        issues.append(
            Issue("missing_column", "error", f"缺少列“{head}”（{col}） / missing column", expected=head, **where)
        )
    optional = [CHINESE_HEADERS[c] for c in COLUMNS if c not in columns and c not in REQUIRED]
    if optional:
        names = "、".join(optional)
        issues.append(
            Issue(
                "missing_column",
                "warning",
                f"缺少列 {names}，这些列按空值处理 / optional columns missing",
                expected=names,
                **where,
            )
        )
    if missing_required:
        return None, issues
    extra = _extra_columns(sheet, header_row, columns, issues)
    frame = _rows(sheet, header_row, columns, issues, extra)
    _check_duplicates(frame, sheet, columns, issues)
    out = frame.drop(columns=["_row"] if COUNTY in columns else ["_row", COUNTY])
    out.attrs["source"] = {"file": sheet.file, "sheet": sheet.name, "rows": frame["_row"].tolist(),
                           "columns": dict(columns), "extra": dict(extra)}
    out.attrs["extra_columns"] = list(extra)
    return out, issues


def _extra_columns(
    sheet: Sheet, header_row: int, columns: dict[str, int], issues: list[Issue]
) -> dict[str, int]:
    """Every other column with a header (片区, 城乡, 学段 beside 学校类型, …): its header text →
    its column number, kept as text under that header (for ``impute_by``, the county summary's
    breakdowns, the explorer). A header used twice keeps its first column, with a warning."""
    used = set(columns.values())
    extra: dict[str, int] = {}
    for c_i, head in enumerate(sheet.rows[header_row - 1], start=1):
        name = cell_text(head)
        known = HEADER_ALIASES.get(header_key(head))
        if c_i in used or not name or (
            known in columns and header_key(head) == header_key(sheet.value(header_row, columns[known]))
        ):  # read already, or the same header twice (an error of its own)
            continue
        if name in extra or name in columns or name in COLUMNS:
            issues.append(Issue(
                "duplicate", "warning",
                f"列“{name}”出现了两次（另见 {cell_ref(header_row, extra.get(name, c_i))}），只保留第一列"
                " / duplicate column",
                file=sheet.file, sheet=sheet.name, cell=cell_ref(header_row, c_i), row=header_row, value=name,
            ))
            continue
        extra[name] = c_i
    return extra


def _map_columns(sheet: Sheet, header_row: int, issues: list[Issue]) -> dict[str, int]:
    """Contract column → 1-based column number; extra columns are kept under their own header."""
    columns: dict[str, int] = {}
    for c_i, head in enumerate(sheet.rows[header_row - 1], start=1):
        col = HEADER_ALIASES.get(header_key(head))
        if col is None:
            continue
        if col in columns and header_key(head) != header_key(sheet.value(header_row, columns[col])):
            # another name for a column already read (学段 beside 学校类型): kept as an extra column
            issues.append(
                Issue(
                    "unknown_column",
                    "warning",
                    f"列“{cell_text(head)}”与 {cell_ref(header_row, columns[col])} 列"
                    f"“{cell_text(sheet.value(header_row, columns[col]))}”都可作“{CHINESE_HEADERS[col]}”，"
                    f"按后者读取；“{cell_text(head)}”作为附加列保留 / kept as an extra column",
                    file=sheet.file,
                    sheet=sheet.name,
                    cell=cell_ref(header_row, c_i),
                    row=header_row,
                    value=cell_text(head),
                )
            )
            continue
        if col in columns:
            issues.append(
                Issue(
                    "duplicate",
                    "error",
                    f"列“{CHINESE_HEADERS[col]}”出现了两次（另见 {cell_ref(header_row, columns[col])}）"
                    " / duplicate column",
                    file=sheet.file,
                    sheet=sheet.name,
                    cell=cell_ref(header_row, c_i),
                    row=header_row,
                    value=cell_text(head),
                )
            )
            continue
        columns[col] = c_i
    return columns


def _rows(
    sheet: Sheet, header_row: int, columns: dict[str, int], issues: list[Issue], extra: dict[str, int] | None = None
) -> pd.DataFrame:
    extra = extra or {}
    records: list[dict[str, Any]] = []
    for r in range(header_row + 1, sheet.n_rows + 1):
        raw = sheet.rows[r - 1]
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in raw):
            continue
        rec: dict[str, Any] = {"_row": r}
        for col in (*TEXT_COLUMNS, COUNTY):
            c = columns.get(col)
            value = sheet.value(r, c) if c else None
            rec[col] = _school_id(sheet, r, c, value) if col == "school_id" else _text(value)
        for col in INT_COLUMNS:
            c = columns.get(col)
            rec[col] = _int(sheet, r, c, col, rec, issues) if c else None
        for name, c in extra.items():
            rec[name] = _text(sheet.value(r, c))
        if not rec["school_id"]:
            issues.append(
                _issue(sheet, r, columns["school_id"], "missing_school_id", "缺少学校编号 / empty id", rec)
            )
        if not rec["school_name"]:
            issues.append(
                _issue(sheet, r, columns["school_name"], "missing_column", "缺少学校名称 / empty name", rec)
            )
        start, end = rec["active_from"], rec["active_to"]
        if start is not None and end is not None and start > end:
            issues.append(
                _issue(
                    sheet,
                    r,
                    columns["active_to"],
                    "out_of_range",
                    f"终止年度 {end} 早于起始年度 {start} / active_to before active_from",
                    rec,
                    value=str(end),
                    expected=f"≥ {start}",
                )
            )
        records.append(rec)
    frame = pd.DataFrame(records, columns=["_row", *COLUMNS, COUNTY, *extra])
    for col in (*TEXT_COLUMNS, COUNTY, *extra):
        frame[col] = frame[col].astype("str")
    for col in INT_COLUMNS:
        frame[col] = pd.array(frame[col].tolist(), dtype="Int64")
    return frame


def _school_id(sheet: Sheet, row: int, col: int, value: Any) -> str:
    text = cell_text(value)
    fmt = sheet.number_format(row, col)
    if isinstance(value, int | float) and fmt.strip("0") == "" and len(fmt) > len(text):
        text = text.zfill(len(fmt))  # a number shown with leading zeros (format "000")
    return text


def _text(value: Any) -> str:
    if value is None:
        return ""
    return cell_text(value) if not isinstance(value, str) else value.strip()


def _int(sheet: Sheet, row: int, col: int, name: str, rec: dict[str, Any], issues: list[Issue]) -> int | None:
    value = sheet.value(row, col)
    text = cell_text(value).replace(",", "")
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        number = float("nan")
    if number != number or not number.is_integer():
        issues.append(
            _issue(
                sheet,
                row,
                col,
                "wrong_type",
                f"“{CHINESE_HEADERS[name]}”的值“{cell_text(value)}”不是整数 / not a whole number",
                rec,
                value=cell_text(value),
                expected="整数",
            )
        )
        return None
    if number < 0:
        issues.append(
            _issue(
                sheet,
                row,
                col,
                "out_of_range",
                f"“{CHINESE_HEADERS[name]}”不能为负数：{text} / negative",
                rec,
                value=text,
                expected="≥ 0",
            )
        )
    return int(number)


def _issue(
    sheet: Sheet,
    row: int,
    col: int,
    kind: str,
    detail: str,
    rec: dict[str, Any],
    value: str = "",
    expected: str = "",
) -> Issue:
    return Issue(
        kind,
        "error",
        detail,
        file=sheet.file,
        sheet=sheet.name,
        cell=cell_ref(row, col),
        row=row,
        school_id=rec.get("school_id", ""),
        school_name=rec.get("school_name", ""),
        value=value,
        expected=expected,
    )


def _check_duplicates(
    frame: pd.DataFrame, sheet: Sheet, columns: dict[str, int], issues: list[Issue]
) -> None:
    """Repeated ids (within a county, when the registry has a county column) are errors;
    repeated names with different ids are warnings."""
    first_row: dict[tuple[str, str], int] = {}
    first_name: dict[tuple[str, str], tuple[int, str]] = {}
    in_county = "（同一县区内）" if COUNTY in columns else ""
    for rec in frame.to_dict("records"):
        sid, row = rec["school_id"], rec["_row"]
        county = rec[COUNTY] if COUNTY in columns else ""
        key = (county, sid)
        if sid and key in first_row:
            issues.append(
                _issue(
                    sheet,
                    row,
                    columns["school_id"],
                    "duplicate",
                    f"学校编号重复{in_county}：第 {first_row[key]} 行已有编号 {sid} / duplicate id",
                    rec,
                    value=sid,
                    expected="每所学校一个唯一编号",
                )
            )
        elif sid:
            first_row[key] = row
        name = (county, rec["school_name"])
        if name[1] and name in first_name and first_name[name][1] != sid:
            issues.append(
                Issue(
                    "duplicate",
                    "warning",
                    f"学校名称与第 {first_name[name][0]} 行（编号 {first_name[name][1]}）相同，"
                    "请确认是否同一学校 / duplicate name",
                    file=sheet.file,
                    sheet=sheet.name,
                    cell=cell_ref(row, columns["school_name"]),
                    row=row,
                    school_id=sid,
                    school_name=name[1],
                    value=name[1],
                )
            )
        elif name[1] and name not in first_name:
            first_name[name] = (row, sid)


class CountyRegistryError(DataError):
    """A region's shared registry that cannot be split by county."""

    what = "学校名册"


def county_registry(registry: pd.DataFrame, county: str, source: str = "") -> pd.DataFrame:
    """The rows of ``county`` (by the ``county`` column, 县区) of a registry shared by a region's
    counties, without that column: one county's registry. Raises :class:`CountyRegistryError`
    when the registry has no county column or no school of ``county``."""
    where = f"名册 {source}" if source else "名册"
    if COUNTY not in registry.columns:
        raise CountyRegistryError([Issue(
            "missing_column", "error",
            f"{where}没有“县区”列，不能按县拆分：请在名册中加一列“县区”，或在 counties 下为各县分别指定名册"
            " / no county column", file=source, expected="县区",
        )])
    rows = registry[registry[COUNTY].astype(str).str.strip() == county]
    if rows.empty:
        listed = "、".join(sorted(set(registry[COUNTY].astype(str)) - {""})) or "（空）"
        raise CountyRegistryError([Issue(
            "no_data", "error",
            f"{where}中没有“县区”为“{county}”的学校（名册中的县区：{listed}）/ no school of this county",
            file=source, value=county,
        )])
    out = rows.drop(columns=COUNTY).reset_index(drop=True)
    out.attrs = dict(registry.attrs)
    return out


def active_schools(registry: pd.DataFrame, year: int) -> pd.DataFrame:
    """The registry rows of schools assessed in ``year`` (``active_from ≤ year ≤ active_to``,
    an empty bound being open)."""
    start = (
        registry["active_from"]
        if "active_from" in registry.columns
        else pd.Series(pd.NA, index=registry.index)
    )
    end = registry["active_to"] if "active_to" in registry.columns else pd.Series(pd.NA, index=registry.index)
    ok = (start.isna() | (start <= year)) & (end.isna() | (end >= year))
    return registry[ok.fillna(False).astype(bool)]


def school_names(registry: pd.DataFrame | None) -> dict[str, str]:
    """``school_id`` → ``school_name`` (empty when there is no registry)."""
    if registry is None:
        return {}
    return dict(zip(registry["school_id"].astype(str), registry["school_name"].astype(str), strict=True))


# --------------------------------------------------------------------------- registry check

SCHOOL_TYPES = ("小学", "初中", "九年一贯制", "十二年一贯制", "完全中学", "高中", "职高", "中职", "特殊教育学校")
"""School types a registry may name (``evalkit registry check`` reports any other)."""
YEAR_RANGE = (1949, 2100)


def check_registry(path: str | Path) -> list[Issue]:
    """Every problem of a registry file: those of :func:`read_registry`, and the stricter checks
    of ``evalkit registry check``, each with its row and cell:

    - an id that lost its leading zeros: all digits and shorter than the zero-padded ids of the
      same registry (``7`` beside ``001``, ``012`` — a file saved by Excel drops them);
    - a school type not in :data:`SCHOOL_TYPES` (a typo makes a group of its own);
    - a start or end year that is not a plausible year (``24`` instead of ``2024``);
    - (a warning) an id whose form — length, digits and letters — differs from the form most
      ids share (``601`` among ``1602``, ``1603``…; ``S12`` among numeric ids), see
      :func:`_odd_forms`.
    """
    frame, issues = read_registry(path)
    if frame is None:
        return issues
    src = frame.attrs.get("source", {})
    rows, columns = src.get("rows", []), src.get("columns", {})

    def issue(i: int, col: str, detail: str, value: str, expected: str) -> Issue:
        rec = frame.iloc[i]
        row = rows[i]
        return Issue("wrong_type" if col != "school_id" else "missing_school_id", "error", detail,
                     file=src.get("file", str(path)), sheet=src.get("sheet", ""),
                     cell=cell_ref(row, columns[col]) if col in columns else "", row=row,
                     school_id=str(rec["school_id"]), school_name=str(rec["school_name"]),
                     value=value, expected=expected)

    found: list[Issue] = []
    ids = [str(x) for x in frame["school_id"]]
    padded = [x for x in ids if x.isdigit() and x.startswith("0")]
    if padded:
        width = max(set(map(len, padded)), key=[len(x) for x in padded].count)
        for i, sid in enumerate(ids):
            if sid.isdigit() and len(sid) < width:
                found.append(issue(i, "school_id",
                                   f"学校编号“{sid}”可能丢失了前导零：其他编号为 {width} 位（如“{padded[0]}”），"
                                   f"应为“{sid.zfill(width)}”？用 Excel 打开再保存的 CSV 会去掉前导零，"
                                   "请把这一列设为文本后重新填写 / id lost its leading zeros",
                                   sid, sid.zfill(width)))
    flagged = {i for i, sid in enumerate(ids) if padded and sid.isdigit() and len(sid) < width}
    found.extend(_odd_forms(ids, flagged, lambda i, detail, sid, want: Issue(
        "id_form", "warning", detail, file=src.get("file", str(path)), sheet=src.get("sheet", ""),
        cell=cell_ref(rows[i], columns["school_id"]), row=rows[i], school_id=sid,
        school_name=str(frame.iloc[i]["school_name"]), value=sid, expected=want)))
    if "school_type" in columns:
        for i, kind in enumerate(frame["school_type"].astype(str)):
            if kind.strip() and kind.strip() not in SCHOOL_TYPES:
                choices = "、".join(SCHOOL_TYPES)
                detail = f"学校类型“{kind}”不是可选类型（{choices}）之一 / unknown school type"
                found.append(issue(i, "school_type", detail, kind, choices))
    lo, hi = YEAR_RANGE
    for col in ("active_from", "active_to"):
        if col not in columns:
            continue
        for i, year in enumerate(frame[col]):
            if pd.notna(year) and not lo <= int(year) <= hi:
                found.append(issue(i, col, f"“{CHINESE_HEADERS[col]}”{int(year)} 不是四位数年份 / not a year",
                                   str(int(year)), f"{lo}–{hi} 之间的四位数年份"))
    out = issues + found
    return sorted(out, key=lambda p: (p.row or 0, column_number_of(p.cell)))


MIN_IDS_FOR_FORM = 3
"""Ids needed before the most common form of id says what the others should look like."""


def id_form(sid: str) -> str:
    """The form of an id: each digit ``9``, each letter ``A``, other characters as they are
    (``0602`` → ``9999``, ``QL-012`` → ``AA-999``)."""
    return "".join("9" if ch.isdecimal() else "A" if ch.isalpha() else ch for ch in sid)


def describe_form(form: str) -> str:
    """An id form in words: ``9999`` → ``4 位数字``, ``AA-999`` → ``6 位（形如 AA-999）``."""
    if set(form) == {"9"}:
        return f"{len(form)} 位数字"
    return f"{len(form)} 位（形如 {form}，9 表示数字、A 表示字母）"


def _odd_forms(ids: list[str], skip: set[int], make) -> list[Issue]:
    """Ids whose form (:func:`id_form`: length, digits and letters) differs from the form more
    than half of the registry's ids share — ``601`` among ``0602``, ``0603``, … (leading zeros
    lost, or a digit missing), ``S12`` among numeric ids. Warnings (an id may be right):
    ``make(i, detail, sid, expected)`` builds each; ids in ``skip`` are reported already."""
    present = [(i, sid) for i, sid in enumerate(ids) if sid]
    if len(present) < MIN_IDS_FOR_FORM:
        return []
    forms = [id_form(sid) for _, sid in present]
    usual = max(set(forms), key=forms.count)
    if forms.count(usual) * 2 <= len(forms):
        return []
    example = next(sid for (_, sid), f in zip(present, forms, strict=True) if f == usual)
    out = []
    for (i, sid), form in zip(present, forms, strict=True):
        if form == usual or i in skip:
            continue
        zeros = ""
        if set(form) == {"9"} and set(usual) == {"9"} and len(form) < len(usual):
            zeros = f"，可能丢失了前导零（应为“{sid.zfill(len(usual))}”？）"
        detail = (f"学校编号“{sid}”的形式与其他编号不同：{forms.count(usual)} 个编号为 {describe_form(usual)}"
                  f"（如“{example}”），此编号为 {describe_form(form)}{zeros}；请核对是否填错 / "
                  "id differs in form from the rest")
        out.append(make(i, detail, sid, f"{describe_form(usual)}，如“{example}”"))
    return out


def column_number_of(cell: str) -> int:
    """The column number of an A1 reference, 0 when there is none (for sorting)."""
    from evalkit.issues import column_number

    return column_number(cell) or 0
