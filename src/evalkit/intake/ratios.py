"""Bare numbers in a rate column: fractions or percentages? Decided by the column, never guessed.

A rate (``ratio``) written with a ``%`` sign or in a cell with a percent format means what it
says. A bare number can often be read two ways: ``0.92`` is 92% as a fraction or 0.92% as a
percentage, ``1`` is 100% or 1%; ``1.2`` is 1.2% — or a slip in a column of fractions, where it
would be 120%. Each column (one indicator and sub-item in one sheet of one file) is therefore
read in one *style*:

- ``fraction`` when at least :data:`MIN_EVIDENCE` of its bare values lie strictly between 0 and
  1 and they outnumber those above 1 at least :data:`DOMINANCE` to one; ``percent`` the other
  way round. Every bare value of the column is read in that style: a ``1`` is 100% or 1%, a
  value of the other style is read as the column's (``0.5`` among ``85, 92, …`` is 0.5%); each
  such reading is logged as a normalisation with its cell. A value above 1 in a fraction
  column is out of range (above 100%) and refused with its cell.
- A column without enough evidence of its own is read in the style of its sheet (the same
  test over the bare values of every rate column of the sheet), logged as
  ``按本表各比率列其他值（…）理解为 …``.
- Without enough evidence in the sheet either, a column whose bare values are all of one style
  is read in it (a bare fraction logged as ``按小数理解（0.92 → 92%）``); a ``1`` there is
  refused, and so is every bare value of a column that mixes the two styles. The evaluator
  writes ``%``.

A value of the other style read in its column's style that lands far from the column's other
values, while its other reading lies among them (``0.95`` in a column of ``85, 92, 90``: read
0.95 %, most likely 95 %), is a warning that changes a score (``unlikely_reading``): it stops
``evalkit score`` / ``run`` unless allowed (``rate_readings``, :mod:`evalkit.intake.gate`), see
:func:`_warn_if_unlikely`.

Observations given as a table in the contract (:func:`evalkit.intake.validate_observations`)
have the fraction style by definition (``docs/architecture.md``: ratios are 0–1).
"""

from __future__ import annotations

from collections import defaultdict

from evalkit.intake.normalise import RATIO_DIGITS, canonical_text, shown
from evalkit.intake.records import Collector, Record
from evalkit.textfmt import num

MIN_EVIDENCE = 2
"""Bare values of one style needed before a column's style decides its other values."""
DOMINANCE = 3
"""How many times the values of the column's style must outnumber the other style's."""

BARE = ("fraction", "one", "percent")
_PERCENT_ACTION = "按百分数理解"


def decide_ratio_columns(col: Collector, style: str | None = None) -> None:
    """Read every bare ratio value by its column's style (see the module docstring): set its
    value, log the reading, or refuse it. ``style``: impose one style on every column (the
    contract's ``fraction``)."""
    columns: dict[tuple, list[Record]] = defaultdict(list)
    for rec in col.records:
        if rec.status == "ok" and rec.reading in BARE:
            columns[(rec.file, rec.sheet, rec.indicator_id, rec.item)].append(rec)
    if not columns:
        return
    sheets: dict[tuple, list[Record]] = defaultdict(list)
    for key, recs in columns.items():
        sheets[key[:2]].extend(recs)
    sheet_styles = {key: column_style(recs)[0] for key, recs in sheets.items()}
    logged = {(n["file"], n["sheet"], n["cell"]): i for i, n in enumerate(col.normalisations)}
    dropped: set[int] = set()
    for key, recs in columns.items():
        _decide(col, recs, style, sheet_styles[key[:2]], sheets[key[:2]], logged, dropped)
    if dropped:
        col.normalisations[:] = [n for i, n in enumerate(col.normalisations) if i not in dropped]


def column_style(recs: list[Record]) -> tuple[str | None, bool]:
    """(the column's style or ``None``, whether it mixes both styles)."""
    n_fraction = sum(r.reading == "fraction" for r in recs)
    n_percent = sum(r.reading == "percent" for r in recs)
    if n_fraction >= MIN_EVIDENCE and n_fraction >= DOMINANCE * n_percent:
        return "fraction", False
    if n_percent >= MIN_EVIDENCE and n_percent >= DOMINANCE * n_fraction:
        return "percent", False
    return None, bool(n_fraction and n_percent)


def _examples(recs: list[Record], reading: str) -> str:
    seen = list(dict.fromkeys(shown(r.raw).strip() for r in recs if r.reading == reading))
    return "、".join(seen[:3])


def _decide(
    col: Collector,
    recs: list[Record],
    imposed: str | None,
    sheet_style: str | None,
    sheet_recs: list[Record],
    logged: dict[tuple, int],
    dropped: set[int],
) -> None:
    style, mixed = (imposed, False) if imposed else column_style(recs)
    basis = "本列"
    if style is None and sheet_style is not None:  # the sheet's other rate columns decide
        style, mixed, basis, recs_for_examples = sheet_style, False, "本表各比率列", sheet_recs
    else:
        recs_for_examples = recs
    fractions = _examples(recs_for_examples, "fraction")
    percents = _examples(recs_for_examples, "percent")
    others = [float(r.value) for r in recs_for_examples if r.reading == style]  # read unambiguously
    for rec in recs:
        number = _number(rec)
        where = (rec.file, rec.sheet, rec.cell)
        earlier = logged.get(where)
        kept = _kept_actions(col, earlier)
        if style is None and (mixed or rec.reading == "one"):
            x = num(number, 10)
            readings = f"{_pct(number * 100)} 还是 {_pct(number)}" if number <= 1 else f"{_pct(number)} 还是填错的小数"
            why = (
                f"本列既有 0–1 的小数（如 {fractions}），又有大于 1 的百分数（如 {percents}）"
                if mixed
                else f"本列可供判断的数值不足 {MIN_EVIDENCE} 个"
            )
            detail = f"的值 {x} 无法判断是 {readings}（{why}）；请写成带 % 的百分数，如“{_pct(number)}” / ambiguous"
            if number == 1:
                detail = f"的值 1 无法判断是 100% 还是 1%（{why}）；请写成“100%”或“1%” / ambiguous"
            _refuse(col, rec, "ambiguous_value", detail, earlier, dropped, "带 % 的百分数")
            continue
        if style == "fraction" and rec.reading == "percent":
            detail = (
                f"的值 {num(number, 10)} 超过 1：{basis}按 0–1 的小数填写（如 {fractions or '0.85'}），"
                f"按小数理解为 {_pct(number * 100)}，超过 100%；若指 {_pct(number)} 请写“{_pct(number)}” / out of range"
            )
            _refuse(col, rec, "out_of_range", detail, earlier, dropped, "0–1 的小数，或带 % 的百分数")
            continue
        as_fraction = style == "fraction" or (style is None and rec.reading == "fraction")
        value = number if as_fraction else round(number / 100, RATIO_DIGITS)
        rec.value = value
        if imposed:
            action = "" if as_fraction else f"按百分数理解（{num(number, 10)} → {canonical_text(value)}）"
        elif style is None:  # a pure column without enough evidence: its own style, logged
            action = (
                f"按小数理解（{num(number, 10)} → {_pct(number * 100)}）"
                if as_fraction
                else f"{_PERCENT_ACTION}（{num(number, 10)} → {canonical_text(value)}）"
            )
        elif rec.reading == "percent" and style == "percent":
            action = f"{_PERCENT_ACTION}（{num(number, 10)} → {canonical_text(value)}）"
        elif rec.reading == "fraction" and style == "fraction":
            action = ""  # the column's own style, backed by its values
        else:  # a 1, or a value of the other style, read as the column reads
            examples = fractions if style == "fraction" else percents
            word = "0–1 的小数" if style == "fraction" else "百分数"
            action = (
                f"按{basis}其他值（{word}，如 {examples}）理解为 "
                f"{_pct(value * 100)}（{num(number, 10)} → {canonical_text(value)}）"
            )
            _warn_if_unlikely(col, rec, number, value, style, basis, word, examples, others)
        if earlier is not None:
            dropped.add(earlier)
        col.normalised(
            rec.file, rec.sheet, rec.cell, rec.school_id, rec.indicator_id, shown(rec.raw),
            canonical_text(value), tuple(a for a in (*kept, action) if a),
        )


def _warn_if_unlikely(
    col: Collector,
    rec: Record,
    number: float,
    value: float,
    style: str,
    basis: str,
    word: str,
    examples: str,
    others: list[float],
) -> None:
    """A bare value read in its column's style (``value``) against what it most likely means:
    a warning that changes a score (``unlikely_reading``, allowed with ``rate_readings``) when
    the other reading lies nearer the column's unambiguous values than this one — ``0.95``
    among ``85, 92, 90`` is read as 0.95 % though 95 % lies among them. "Nearer": the distance
    from the range [min, max] of those values (0 inside it), the other reading's strictly
    smaller. Nothing is said without :data:`MIN_EVIDENCE` such values."""
    if len(others) < MIN_EVIDENCE:
        return
    other = number if style == "percent" else round(number / 100, RATIO_DIGITS)
    low, high = min(others), max(others)

    def distance(x: float) -> float:
        return max(low - x, 0.0, x - high)

    if not distance(other) < distance(value):
        return
    side = "远低于" if value < low else "远高于"
    span = _pct(low * 100) if low == high else f"{_pct(low * 100)}–{_pct(high * 100)}"
    written = num(number, 10)
    detail = (
        f"的值 {written} 按{basis}其他值（{word}，如 {examples}）理解为 {_pct(value * 100)}，{side}本列其他值"
        f"（{span}）；若指 {_pct(other * 100)}，请写“{_pct(other * 100)}”；确为 {_pct(value * 100)} 请写"
        f"“{_pct(value * 100)}”。此值会改变评分 / read as its column reads, far from the column's other values"
    )
    col.issue_at(rec, "unlikely_reading", "warning", detail, value=shown(rec.raw),
                 expected=f"带 % 的百分数，如“{_pct(other * 100)}”")


def _number(rec: Record) -> float:
    """The number as written (before a percentage was divided by 100)."""
    value = float(rec.value)
    return round(value * 100, RATIO_DIGITS) if rec.reading == "percent" else value


def _pct(x: float) -> str:
    return f"{num(x, 8)}%"


def _kept_actions(col: Collector, index: int | None) -> tuple[str, ...]:
    """The earlier actions of a cell (spaces, full-width digits) other than its ratio reading."""
    if index is None:
        return ()
    actions = col.normalisations[index]["action"].split("；")
    return tuple(a for a in actions if a and not a.startswith(_PERCENT_ACTION))


def _refuse(
    col: Collector, rec: Record, kind: str, detail: str, earlier: int | None, dropped: set[int], expected: str
) -> None:
    col.issue_at(rec, kind, "error", detail, value=shown(rec.raw), expected=expected)
    col.reject(rec, detail.removeprefix("的值 ").split(" / ")[0])
    if earlier is not None:
        dropped.add(earlier)
