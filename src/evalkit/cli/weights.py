"""``evalkit weights``: derive weights from the command line.

    evalkit weights ahp MATRIX.csv [MATRIX2.csv …] [--method geometric]
    evalkit weights entropy DATA [--normalisation minmax] [--lower-better C1,C2]
    evalkit weights critic DATA [--lower-better C1,C2]
    evalkit weights pca DATA
    evalkit weights topsis DATA [--weights entropy|critic|equal|C1=0.3,C2=0.7] [--cost C1,C2]
                                [--normalisation vector|minmax]

Every subcommand takes ``--decimals N`` (default 4). An AHP matrix CSV is square with criterion
ids in its first row and first column (the corner cell is ignored); cells are numbers or
fractions (``1/3``). Several files are several experts' matrices, combined by the element-wise
geometric mean. The command prints the weights, λmax, CI, RI and CR and exits with status 1
when CR ≥ 0.1 (or a file is unusable).

A DATA table (CSV or ``.xlsx``: the first sheet, or ``--sheet NAME``) has one row per school:
the id column — the first column, or the one named by ``--id`` — is always text (ids ``001``
stay ids, never a criterion), every other column is a criterion
(:mod:`evalkit.cli.criteria`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd

from evalkit.cli.criteria import CriteriaFileError, CriteriaTable, read_criteria
from evalkit.errors import EvalkitError
from evalkit.mcda import ahp, objective, pca
from evalkit.mcda.topsis import topsis

__all__ = ["CriteriaFileError", "add_parser", "cli_weights", "read_data", "read_matrix"]


def _data_args(d: argparse.ArgumentParser) -> None:
    d.add_argument("file", help="数据表（CSV 或 .xlsx）：每行一所学校，编号列 + 各指标列")
    d.add_argument("--id", dest="id_column", metavar="列名", help="编号列的表头（默认第一列）；编号一律按文本读取")
    d.add_argument("--sheet", metavar="工作表", help=".xlsx 的工作表名（默认第一个工作表）")


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``weights`` on the top-level sub-parsers."""
    p = sub.add_parser("weights", help="计算权重：层次分析法、熵权法、CRITIC、主成分分析；TOPSIS 排序",
                       description="由判断矩阵或数据表计算指标权重，或按 TOPSIS 给各学校排序。")
    wsub = p.add_subparsers(dest="weights_command", required=True)
    a = wsub.add_parser("ahp", help="层次分析法：判断矩阵（CSV）的权重与一致性检验")
    a.add_argument("files", nargs="+", help="每位专家一个判断矩阵 CSV（多位专家按几何平均合成）")
    a.add_argument("--method", choices=["eigenvector", "geometric"], default="eigenvector",
                   help="eigenvector 特征向量法（默认），geometric 几何平均法")
    subs = [a]
    for name, help_ in (("entropy", "熵权法：由数据表计算指标权重"), ("critic", "CRITIC 法：由数据表计算指标权重")):
        d = wsub.add_parser(name, help=help_)
        _data_args(d)
        d.add_argument("--lower-better", "--cost", dest="lower_better", default="", metavar="指标,…",
                       help="越低越好的指标（逗号分隔）")
        if name == "entropy":
            d.add_argument("--normalisation", choices=["sum", "minmax"], default="sum",
                           help="sum 按列求和归一化（默认），minmax 最小—最大值归一化")
        subs.append(d)
    c = wsub.add_parser("pca", help="主成分分析权重：第一主成分的载荷（同 COINr get_PCA），并列出各主成分解释的方差")
    _data_args(c)
    subs.append(c)
    t = wsub.add_parser("topsis", help="TOPSIS：各学校与理想解的贴近度及排名")
    _data_args(t)
    t.add_argument("--weights", default="equal", metavar="方法或权重",
                   help="equal 等权（默认）、entropy 熵权法、critic CRITIC 法，或逐个给出：指标1=0.3,指标2=0.7")
    t.add_argument("--cost", default="", metavar="指标,…", help="成本型（越低越好）指标，逗号分隔；其余为效益型")
    t.add_argument("--normalisation", choices=["vector", "minmax"], default="vector",
                   help="vector 向量归一化（默认），minmax 最小—最大值归一化")
    subs.append(t)
    for s in subs:
        s.add_argument("--decimals", type=int, default=4, choices=range(0, 13), metavar="N",
                       help="输出的小数位数（0–12，默认 4）")
    p.set_defaults(func=cli_weights)


def _cell(value: object, where: str) -> float:
    text = str(value).strip()
    try:
        return float(Fraction(text))
    except (ValueError, ZeroDivisionError):
        raise ahp.MatrixError(f"{where}：“{text}”不是数字或分数") from None


def read_matrix(path: str | Path) -> tuple[list[str], list[list[float]]]:
    """A square comparison matrix CSV → (criterion ids, matrix); :class:`ahp.MatrixError` names
    the file, row and column of any bad cell."""
    try:
        raw = pd.read_csv(path, header=None, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except pd.errors.EmptyDataError:
        raise ahp.MatrixError(f"{path} 是空文件") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as err:
        raise ahp.MatrixError(f"{path} 无法按 UTF-8 CSV 读取 / cannot read: {err}") from None
    if raw.shape[0] < 2 or raw.shape[1] < 2:
        raise ahp.MatrixError(f"{path}：判断矩阵至少应有一行指标名和一行数据")
    cols = [c.strip() for c in raw.iloc[0, 1:].tolist()]
    rows = [r.strip() for r in raw.iloc[1:, 0].tolist()]
    if cols != rows:
        raise ahp.MatrixError(f"{path}：第一行的指标 {cols} 与第一列的指标 {rows} 不一致")
    matrix = [
        [_cell(raw.iat[i + 1, j + 1], f"{path} 第 {i + 2} 行 {rows[i]} 对 {cols[j]}") for j in range(len(cols))]
        for i in range(len(rows))
    ]
    return cols, matrix


def read_data(path: str | Path, *, id_column: str | None = None, sheet: str | None = None) -> pd.DataFrame:
    """The criteria columns of a data table, indexed by the id column's text
    (:func:`evalkit.cli.criteria.read_criteria`)."""
    return read_criteria(path, id_column=id_column, sheet=sheet).data


def _fmt(value: float, decimals: int) -> str:
    return f"{value:.{decimals}f}"


def print_ahp(result: ahp.AHPResult, out=None, decimals: int = 4) -> None:  # type: ignore[no-untyped-def]
    out = out or sys.stdout
    method = "特征向量法" if result.method == "eigenvector" else "几何平均法"
    experts = f"，{result.n_experts} 位专家判断矩阵按几何平均合成" if result.n_experts > 1 else ""
    print(f"层次分析法（{method}{experts}）", file=out)
    print("指标\t权重", file=out)
    for name, w in zip(result.criteria, result.weights, strict=True):
        print(f"{name}\t{_fmt(w, decimals)}", file=out)
    print(f"最大特征值 λmax = {_fmt(result.lambda_max, decimals)}", file=out)
    print(f"一致性指标 CI = {_fmt(result.ci, decimals)}", file=out)
    print(f"随机一致性指标 RI = {result.ri:.2f}", file=out)
    print(f"一致性比率 CR = {_fmt(result.cr, decimals)}", file=out)


def _names(text: str) -> list[str]:
    return [c.strip() for c in text.split(",") if c.strip()]


def _check_known(names: list[str], table: CriteriaTable) -> None:
    unknown = [n for n in names if n not in table.data.columns]
    if unknown:
        known = "、".join(table.data.columns)
        raise CriteriaFileError(f"{table.where} 中没有指标 {', '.join(unknown)}（指标：{known}）")


def _cmd_ahp(args: argparse.Namespace) -> int:
    names, first = read_matrix(args.files[0])
    matrices = [first]
    for f in args.files[1:]:
        other_names, m = read_matrix(f)
        if other_names != names:
            raise ahp.MatrixError(f"{f} 的指标 {other_names} 与 {args.files[0]} 的 {names} 不同")
        matrices.append(m)
    for f, m in zip(args.files, matrices, strict=True):
        try:
            ahp.check_matrix(m, names)
        except ahp.MatrixError as err:
            raise ahp.MatrixError(f"{f}：{err}") from None
    matrix = ahp.combine_experts(matrices) if len(matrices) > 1 else matrices[0]
    result = ahp.ahp_weights(matrix, names, method=args.method, n_experts=len(matrices))
    print_ahp(result, decimals=args.decimals)
    if not result.consistent:
        print(f"未通过一致性检验：{ahp.InconsistentMatrix(result)}", file=sys.stderr)
        return 1
    print("通过一致性检验（CR < 0.1）")
    return 0


def _print_weights(w: pd.Series, decimals: int) -> None:
    print("指标\t权重")
    for name, value in w.items():
        print(f"{name}\t{_fmt(float(value), decimals)}")


def _objective(kind: str, data: pd.DataFrame, lower: Mapping[str, bool], normalisation: str = "sum") -> pd.Series:
    if kind == "entropy":
        return objective.entropy_weights(data, normalisation=normalisation, higher_is_better=lower)  # type: ignore[arg-type]
    return objective.critic_weights(data, higher_is_better=lower)


def _cmd_objective(args: argparse.Namespace, table: CriteriaTable) -> int:
    data = table.data
    lower_names = _names(args.lower_better)
    _check_known(lower_names, table)
    lower = dict.fromkeys(lower_names, False)
    w = _objective(args.weights_command, data, lower, getattr(args, "normalisation", "sum"))
    shape = f"{len(data)} 所学校，{len(data.columns)} 个指标；编号列：{table.id_column}"
    if args.weights_command == "entropy":
        norm = "按列求和" if args.normalisation == "sum" else "最小—最大值"
        print(f"熵权法（{norm}归一化，{shape}）")
    else:
        print(f"CRITIC 法（最小—最大值归一化，{shape}）")
    _print_weights(w, args.decimals)
    return 0


def _cmd_pca(args: argparse.Namespace, table: CriteriaTable) -> int:
    r = pca.pca_weights(table.data)
    d = args.decimals
    dropped = f"，{r.n_dropped} 行因有缺失值未参与" if r.n_dropped else ""
    print(f"主成分分析（标准化后按相关矩阵，{r.n_rows} 所学校{dropped}，{len(table.data.columns)} 个指标；"
          f"编号列：{table.id_column}）")
    print("主成分\t标准差\t方差贡献率\t累计贡献率")
    for k in r.sdev.index:
        print(f"{k}\t{_fmt(r.sdev[k], d)}\t{_fmt(r.variance_share[k], d)}\t{_fmt(r.cumulative_share[k], d)}")
    first = r.variance_share.iloc[0]
    print(f"权重 = 第一主成分的载荷（解释 {first:.1%} 的方差；符号取载荷之和为正的方向，可能有负权重）")
    _print_weights(r.weights, d)
    if (r.weights < 0).any():
        neg = "、".join(str(c) for c in r.weights.index[r.weights < 0])
        print(f"注意：{neg} 的权重为负（与其他指标负相关），直接用作权重前请斟酌", file=sys.stderr)
    return 0


def _topsis_weights(spec: str, table: CriteriaTable, cost: list[str]) -> tuple[pd.Series, str]:
    data = table.data
    lower = dict.fromkeys(cost, False)
    key = spec.strip().lower()
    if key == "equal":
        return pd.Series(1.0 / len(data.columns), index=data.columns), "等权"
    if key in ("entropy", "critic"):
        return _objective(key, data, lower), "熵权法" if key == "entropy" else "CRITIC 法"
    given: dict[str, float] = {}
    for part in _names(spec):
        name, _, value = part.partition("=")
        try:
            given[name.strip()] = float(value)
        except ValueError:
            given[name.strip()] = float("nan")
        if not np.isfinite(given[name.strip()]) or given[name.strip()] < 0:
            raise CriteriaFileError(f"--weights 中“{part}”应为 指标=非负数字，或 equal / entropy / critic")
    _check_known(list(given), table)
    missing = [c for c in data.columns if c not in given]
    if missing:
        raise CriteriaFileError(f"--weights 未给出指标 {', '.join(missing)} 的权重")
    w = pd.Series(given).reindex(data.columns)
    if w.sum() <= 0:
        raise CriteriaFileError("--weights 的权重之和应大于 0")
    return w / w.sum(), "给定权重（已归一化）"


def _cmd_topsis(args: argparse.Namespace, table: CriteriaTable) -> int:
    cost = _names(args.cost)
    _check_known(cost, table)
    w, how = _topsis_weights(args.weights, table, cost)
    c = topsis(table.data, w.to_dict(), benefit=dict.fromkeys(cost, False), normalisation=args.normalisation)
    rank = c.rank(ascending=False, method="min")
    d = args.decimals
    norm = "向量" if args.normalisation == "vector" else "最小—最大值"
    print(f"TOPSIS（{norm}归一化，{how}；成本型指标：{'、'.join(cost) or '无'}；{len(c)} 所学校）")
    _print_weights(w, d)
    print(f"{table.id_column}\t贴近度\t排名")
    for ident, value in c.items():
        shown = "" if np.isnan(value) else _fmt(float(value), d)
        place = "" if np.isnan(rank[ident]) else str(int(rank[ident]))
        print(f"{ident}\t{shown}\t{place}")
    return 0


def cli_weights(args: argparse.Namespace) -> int:
    try:
        if args.weights_command == "ahp":
            return _cmd_ahp(args)
        table = read_criteria(args.file, id_column=args.id_column, sheet=args.sheet)
        if args.weights_command == "pca":
            return _cmd_pca(args, table)
        if args.weights_command == "topsis":
            return _cmd_topsis(args, table)
        return _cmd_objective(args, table)
    except (EvalkitError, FileNotFoundError) as err:
        print(f"错误：{err}", file=sys.stderr)
        return 1
