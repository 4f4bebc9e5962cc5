"""``evalkit weights``: derive weights from the command line.

    evalkit weights ahp MATRIX.csv [MATRIX2.csv …] [--method geometric]
    evalkit weights entropy DATA.csv [--normalisation minmax] [--lower-better C1,C2]
    evalkit weights critic DATA.csv [--lower-better C1,C2]

An AHP matrix CSV is square with criterion ids in its first row and first column (the corner
cell is ignored); cells are numbers or fractions (``1/3``). Several files are several experts'
matrices, combined by the element-wise geometric mean. The command prints the weights, λmax,
CI, RI and CR and exits with status 1 when CR ≥ 0.1 (or a file is unusable).

A DATA CSV has one row per school: a first column of ids (any non-numeric column is an id
column) and one numeric column per criterion.
"""

from __future__ import annotations

import argparse
import sys
from fractions import Fraction
from pathlib import Path

import pandas as pd

from evalkit.errors import EvalkitError
from evalkit.mcda import ahp, objective


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``weights`` on the top-level sub-parsers."""
    p = sub.add_parser("weights", help="derive weights: AHP matrices, entropy, CRITIC")
    wsub = p.add_subparsers(dest="weights_command", required=True)
    a = wsub.add_parser("ahp", help="weights and consistency of pairwise comparison matrices (CSV)")
    a.add_argument("files", nargs="+", help="one CSV per expert (combined by geometric mean)")
    a.add_argument("--method", choices=["eigenvector", "geometric"], default="eigenvector")
    for name, help_ in (("entropy", "entropy weights of a data table (CSV)"), ("critic", "CRITIC weights (CSV)")):
        d = wsub.add_parser(name, help=help_)
        d.add_argument("file")
        d.add_argument("--lower-better", default="", help="comma-separated criteria where lower is better")
        if name == "entropy":
            d.add_argument("--normalisation", choices=["sum", "minmax"], default="sum")
    p.set_defaults(func=cli_weights)



class CriteriaFileError(EvalkitError):
    """A criteria table ``evalkit weights`` cannot read (empty, not a CSV)."""


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


def read_data(path: str | Path) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path, encoding="utf-8-sig")
    except pd.errors.EmptyDataError:
        raise CriteriaFileError(f"{path} 是空文件") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as err:
        raise CriteriaFileError(f"{path} 无法按 UTF-8 CSV 读取 / cannot read: {err}") from None
    numeric = frame.apply(pd.to_numeric, errors="coerce")
    ids = [c for c in frame.columns if numeric[c].isna().all() and frame[c].notna().any()]
    return numeric.drop(columns=ids)


def print_ahp(result: ahp.AHPResult, out=None) -> None:  # type: ignore[no-untyped-def]
    out = out or sys.stdout
    method = "特征向量法" if result.method == "eigenvector" else "几何平均法"
    experts = f"，{result.n_experts} 位专家判断矩阵按几何平均合成" if result.n_experts > 1 else ""
    print(f"层次分析法（{method}{experts}）", file=out)
    print("指标\t权重", file=out)
    for name, w in zip(result.criteria, result.weights, strict=True):
        print(f"{name}\t{w:.4f}", file=out)
    print(f"最大特征值 λmax = {result.lambda_max:.4f}", file=out)
    print(f"一致性指标 CI = {result.ci:.4f}", file=out)
    print(f"随机一致性指标 RI = {result.ri:.2f}", file=out)
    print(f"一致性比率 CR = {result.cr:.4f}", file=out)


def cli_weights(args: argparse.Namespace) -> int:
    try:
        if args.weights_command == "ahp":
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
            print_ahp(result)
            if not result.consistent:
                print(f"未通过一致性检验：{ahp.InconsistentMatrix(result)}", file=sys.stderr)
                return 1
            print("通过一致性检验（CR < 0.1）")
            return 0
        data = read_data(args.file)
        lower = {c.strip(): False for c in args.lower_better.split(",") if c.strip()}
        unknown = sorted(set(lower) - set(data.columns))
        if unknown:
            print(f"{args.file} 中没有指标 {', '.join(unknown)}", file=sys.stderr)
            return 1
        if args.weights_command == "entropy":
            w = objective.entropy_weights(data, normalisation=args.normalisation, higher_is_better=lower)
            print(f"熵权法（{'按列求和' if args.normalisation == 'sum' else '最小—最大值'}归一化，{len(data)} 所学校）")
        else:
            w = objective.critic_weights(data, higher_is_better=lower)
            print(f"CRITIC 法（最小—最大值归一化，{len(data)} 所学校）")
        print("指标\t权重")
        for name, value in w.items():
            print(f"{name}\t{value:.4f}")
        return 0
    except (EvalkitError, FileNotFoundError) as err:
        print(f"错误：{err}", file=sys.stderr)
        return 1
