"""The ``evalkit`` command line: thin wiring from arguments to the library.

    evalkit demo                          score the bundled demo county, print its table
    evalkit score DATA… [-f FW] [-r REG] [-o OUT] [--allow-missing] [--allow KIND]
    evalkit framework check FILE…
    evalkit registry check FILE…
    evalkit validate FILE… [-f FW] [-r REG] [--year Y] [-o REPORT]
    evalkit template -f FW -r REG --year Y -o 模板.xlsx
    evalkit demo generate [--seed N] [-o DIR]
    evalkit demo generate --city 8 [--region 云州市] -o DIR   a synthetic city of demo counties
    evalkit run PARAMS.yaml [--schools …] [--year Y] [--formats html,pdf,docx] [--jobs N] [--force] [--only-failed]
                          [--allow-missing] [--allow KIND]
    evalkit run PARAMS.yaml --correction "理由"   correct a published year (on the record)
    evalkit publish outputs/2024 [--wenhao 文号]   seal a published county-year
    evalkit replay outputs/2024 [--keep DIR]       regenerate a sealed year and compare
    evalkit weights ahp MATRIX.csv… | entropy|critic|pca|topsis DATA.csv|.xlsx
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from importlib import import_module
from pathlib import Path

from evalkit.framework import DEFAULT_FRAMEWORK


def _lazy(target: str) -> Callable[[argparse.Namespace], int]:
    """``"module:function"`` imported only when the command runs (keeps start-up fast)."""
    module, func = target.split(":")

    def run(args: argparse.Namespace) -> int:
        return int(getattr(import_module(module), func)(args) or 0)

    return run


def _add_allow(p: argparse.ArgumentParser) -> None:
    p.add_argument("--allow", action="append", metavar="KIND[,KIND]",
                   help="let these score-changing warnings through, each printed and recorded: "
                        "missing_schools, name_mismatch, conflicts, rate_readings")
    p.add_argument("--allow-missing", action="store_true",
                   help="score registry schools without any data as 缺报 (= --allow missing_schools)")


def allow_kinds(args: argparse.Namespace) -> list[str]:
    """``--allow`` values plus ``missing_schools`` for ``--allow-missing``."""
    kinds = list(getattr(args, "allow", None) or [])
    if getattr(args, "allow_missing", False):
        kinds.append("missing_schools")
    return kinds


def _add_framework(p: argparse.ArgumentParser) -> None:
    p.add_argument("-f", "--framework", default=DEFAULT_FRAMEWORK,
                   help="指标体系 YAML 文件，或内置体系名称 (default: %(default)s)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="evalkit", description="中小学校党建工作质量评价 / evalkit")
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("score", help="score observation files and write the results")
    p.add_argument("files", nargs="+", help="long-format observation files (CSV or XLSX)")
    _add_framework(p)
    p.add_argument("-r", "--registry", help="school registry (CSV/XLSX)")
    p.add_argument("--year", type=int, action="append", help="only this year (repeatable)")
    p.add_argument("-o", "--output", help="results: a folder (parquet + meta.json); .xlsx: the scoreboard's "
                   "sheets for every year; .csv: its 指标明细 table")
    _add_allow(p)
    p.set_defaults(func=cmd_score)

    p = sub.add_parser("framework", help="framework files")
    fsub = p.add_subparsers(dest="framework_command", required=True)
    c = fsub.add_parser("check", help="validate framework files, listing every problem")
    c.add_argument("files", nargs="+")
    c.set_defaults(func=cmd_framework_check)

    p = sub.add_parser("registry", help="school registry files")
    rsub = p.add_subparsers(dest="registry_command", required=True)
    c = rsub.add_parser("check", help="validate registry files, listing every problem with its row")
    c.add_argument("files", nargs="+", help="registry files (CSV or XLSX)")
    c.set_defaults(func=_lazy("evalkit.cli.registry:cli_registry_check"))

    p = sub.add_parser("validate", help="check evaluators' data files and list every problem")
    p.add_argument("files", nargs="+")
    _add_framework(p)
    p.add_argument("-r", "--registry")
    p.add_argument("--year", type=int)
    p.add_argument("-o", "--output", help="write the problem list to this .xlsx or .csv")
    p.set_defaults(func=_lazy("evalkit.cli.validate:cli_validate"))

    p = sub.add_parser("template", help="write the fill-in workbook for a year")
    _add_framework(p)
    p.add_argument("-r", "--registry")
    p.add_argument("--year", type=int, required=True)
    p.add_argument("-o", "--output", required=True)
    p.set_defaults(func=_lazy("evalkit.intake.template:cli_template"), files=[])

    p = sub.add_parser("demo", help="the bundled demo county: score it (default) or regenerate it")
    p.set_defaults(func=cmd_demo)
    dsub = p.add_subparsers(dest="demo_command")
    g = dsub.add_parser("generate", help="regenerate the demo county from its seed")
    g.add_argument("--seed", type=int)
    g.add_argument("-o", "--output")
    g.add_argument("--city", type=int, help="a synthetic city of N demo counties (40-60 schools each)")
    g.add_argument("--region", help="the city's or province's name (with --city)")
    g.set_defaults(func=_lazy("evalkit.demo.city:cli_generate_any"))

    p = sub.add_parser("run", help="the annual assessment: every report of a run file")
    p.add_argument("params", help="run file (YAML), e.g. params/demo.yaml")
    p.add_argument("--schools", help="comma-separated school ids")
    p.add_argument("--year", type=int)
    p.add_argument("--formats", help="comma-separated: html,pdf,docx")
    p.add_argument("--jobs", type=int)
    p.add_argument("--force", action="store_true")
    p.add_argument("--only-failed", action="store_true")
    p.add_argument("--cluster", help="local | dask-local:N | tcp://scheduler:8786 (overrides executor:)")
    p.add_argument("--correction", metavar="理由",
                   help="correct a published (sealed) year: recompute, record what changed, write the 更正说明")
    _add_allow(p)
    p.set_defaults(func=_lazy("evalkit.cli.run:cli_run"))

    p = sub.add_parser("publish", help="seal a published county-year (its inputs kept, the year marked published)")
    p.add_argument("folder", help="the year's output folder, e.g. outputs/2024")
    p.add_argument("--wenhao", help="文号 of the 通报 (default: the run file's issuer.doc_number)")
    p.set_defaults(func=_lazy("evalkit.cli.record:cli_publish"))

    p = sub.add_parser("replay", help="regenerate a sealed year from its sealed inputs and compare")
    p.add_argument("folder", help="the sealed year's output folder, e.g. outputs/2024")
    p.add_argument("--keep", help="regenerate into this folder (default: a temporary one, removed)")
    p.set_defaults(func=_lazy("evalkit.cli.record:cli_replay"))

    from evalkit.cli.weights import add_parser as add_weights_parser

    add_weights_parser(sub)
    return parser


def _version() -> str:
    from evalkit import __version__

    return f"evalkit {__version__}"


def cmd_framework_check(args: argparse.Namespace) -> int:
    from evalkit.framework import FrameworkError, load_framework

    failed = 0
    for ref in args.files:
        try:
            fw = load_framework(ref)
        except FrameworkError as err:
            failed += 1
            print(err, file=sys.stderr)
            continue
        print(f"✓ {ref}: {fw.id} {fw.version} — {len(fw.areas)} 个领域 {len(fw.indicators)} 项指标，"
              f"满分 {fw.total_points:g} 分 / OK")
    return 1 if failed else 0


def cmd_score(args: argparse.Namespace) -> int:
    """Read the files through intake (stops with every error listed), score, write."""
    from evalkit.api import score_files
    from evalkit.framework import FrameworkError
    from evalkit.intake.registry import RegistryError
    from evalkit.intake.result import IntakeError
    from evalkit.observations import ObservationsError

    registry = args.registry
    if not registry:  # a filled template remembers its registry, as evalkit validate reads it
        from evalkit.cli.validate import remembered_registry

        ok, found = remembered_registry(args.files)
        if not ok:
            return 1
        if found is not None:
            registry = found[1]
            print(f"使用模板 {found[0]} 中保存的学校名册（{len(registry)} 所学校）；用 -r 可另行指定名册。",
                  file=sys.stderr)
    try:
        results = score_files(args.files, args.framework, registry, years=args.year, allow=allow_kinds(args))
    except (FrameworkError, ObservationsError, IntakeError, RegistryError) as err:
        print(err, file=sys.stderr)
        return 1
    for note in results.meta.get("allowed_notes", []):
        print(note, file=sys.stderr)
    _write_results(results, args.output)
    return 0


def _write_results(results, output: str | None) -> None:  # type: ignore[no-untyped-def]
    """Print the county table, or write the results: ``.xlsx`` the scoreboard's sheets and
    Chinese headers (every year, a 年度 column first) — and, for a framework with a pipeline,
    one sheet per stage (:mod:`evalkit.scoring.stages`) —, ``.csv`` its 指标明细 table (said so),
    anything else a Results folder. Spreadsheets carry no formula from data."""
    if output is None:
        print_county_table(results)
        return
    out = Path(output)
    suffix = out.suffix.lower()
    if suffix in (".csv", ".xlsx"):
        from evalkit.publish.scoreboard import results_sheets

        sheets = results_sheets(results, grade_order=_grade_order(results))
        if suffix == ".xlsx" and "stages" in results.extra:
            from evalkit.scoring.stages import STAGE_TITLES, stage_frames

            for stage, frame in stage_frames(results.extra["stages"]).items():
                sheets[STAGE_TITLES[stage]] = frame
        if suffix == ".xlsx":
            from evalkit.io.xlsx_writer import write_workbook

            write_workbook(sheets, out)
            print(f"已写出 {out}：工作表 {'、'.join(sheets)} / written")
        else:
            from evalkit.io.csv_writer import write_csv

            detail = sheets["指标明细"].frame
            write_csv(detail, out)
            print(
                f"已写出 {out}：只含“指标明细”表（每所学校每项指标一行，共 {len(detail)} 行）；"
                "总表和各领域得分请用 -o 文件名.xlsx 导出 / wrote the indicator detail table only"
            )
        return
    results.save(out)
    print(f"已写出 / written: {out}")


def print_county_table(results, year: int | None = None) -> None:  # type: ignore[no-untyped-def]
    import pandas as pd

    for y in [year] if year else results.years:
        table = results.county_table(y)
        print(f"\n{results.meta.get('framework_name', '')} — {y} 年评价结果（{len(table)} 所学校）")
        with pd.option_context("display.max_rows", None, "display.width", 200,
                               "display.unicode.east_asian_width", True):
            print(table.to_string(index=False))
        counts = table["等次"].value_counts()
        print("等次分布：" + "，".join(f"{g} {counts.get(g, 0)} 所" for g in _grade_order(results)))


def _grade_order(results) -> list[str]:  # type: ignore[no-untyped-def]
    from evalkit.errors import EvalkitError
    from evalkit.framework import load_framework

    try:
        return load_framework(results.meta["framework_id"]).grade_order
    except EvalkitError:  # a framework that is not shipped: the grades in order of appearance
        return list(dict.fromkeys(results.schools["grade"]))


def cmd_demo(args: argparse.Namespace) -> int:
    """Score the bundled demo county and print the latest year's county table."""
    from evalkit.api import score_files

    results = score_files()
    print_county_table(results, results.years[-1])
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; never shows a traceback (see :mod:`evalkit.cli.guard` for the exit codes)."""
    from evalkit.cli.guard import guarded
    from evalkit.runtime.lean_imports import skip_unused

    skip_unused()  # before any command imports papermill or nbconvert
    parser = build_parser()
    args = parser.parse_args(argv)
    return guarded(lambda: args.func(args), argv)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
