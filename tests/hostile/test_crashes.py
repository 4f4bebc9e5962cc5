"""No traceback reaches a user: every ``evalkit`` command answers what the user caused with a
Chinese message naming the file (or path) and a documented exit code (``evalkit.errors``), and
anything unexpected with one line naming a log file that holds the traceback (exit 70).

Commands run in-process through :func:`evalkit.cli.app.main` (the console script's entry), except
where the process itself matters (a closed pipe).
"""

from __future__ import annotations

import errno
import io
import subprocess
import sys
import warnings
from pathlib import Path

import pandas as pd
import pytest
from hostile_files import DEMO, ROOT, demo_rows, write_csv

from evalkit import charts
from evalkit.cli.app import main
from evalkit.cli.guard import guarded, os_message
from evalkit.errors import EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_USAGE, EvalkitError, log_dir

FIVE = {"001", "002", "003", "004", "005"}


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    rc = main(list(args))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return rc, out, err


@pytest.fixture(scope="module")
def five(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_csv(tmp_path_factory.mktemp("five") / "five.csv", demo_rows(2024, FIVE))


@pytest.fixture
def a_file(tmp_path: Path) -> Path:
    """A plain file, used where a folder is expected."""
    path = tmp_path / "报告"
    path.write_text("not a folder", encoding="utf-8")
    return path


# --------------------------------------------------------------------------- data files users pass


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "找不到文件"),
        ("", "文件是空的"),
        ("school_id,year,indicator_id,item,source,rater,value,evidence\n", "文件中没有读到任何评价数据"),
        ("姓名,电话\n张三,123\n", "文件中没有读到任何评价数据"),
        ("dir", "这是一个文件夹，不是文件"),
    ],
    ids=["missing", "empty", "header_only", "unrelated_columns", "folder"],
)
def test_score_refuses_files_without_data_naming_them(capsys, tmp_path: Path, content: str | None,
                                                      message: str) -> None:
    path = tmp_path / "数据.csv"
    if content == "dir":
        path.mkdir()
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    rc, _, err = cli(capsys, "score", str(path))
    assert rc == 1
    assert f"文件 数据.csv：{message}" in err


def test_validate_lists_an_unreadable_file_among_the_others(capsys, tmp_path: Path, five: Path) -> None:
    (tmp_path / "加密.xlsx").write_bytes((ROOT / "tests" / "fixtures" / "files" / "encrypted.xlsx").read_bytes())
    rc, out, _ = cli(capsys, "validate", str(five), str(tmp_path / "加密.xlsx"))
    assert rc == 1
    assert "== 文件 " + str(tmp_path / "加密.xlsx") + " ==" in out and "设有打开密码" in out
    assert "读入观测 438 条" in out  # the readable file is still read


def test_score_with_a_one_megabyte_school_id_gives_a_short_located_message(capsys, tmp_path: Path) -> None:
    rows = demo_rows(2024, FIVE)
    rows[2][0] = "9" * 1_000_000
    path = write_csv(tmp_path / "big.csv", rows)
    rc, _, err = cli(capsys, "score", str(path), "-r", str(DEMO / "registry.csv"))
    assert rc == 1 and len(err) < 10_000  # not the 1 MB id (the other schools have no data: listed too)
    assert "文件 big.csv 单元格 A3：学校 9999999999999999999999999999999999999999…（共 1000000 字）" in err


# --------------------------------------------------------------------------- output paths


def test_score_output_inside_a_file_is_refused_naming_the_path(capsys, five: Path, a_file: Path) -> None:
    rc, _, err = cli(capsys, "score", str(five), "-o", str(a_file / "结果.csv"))
    assert rc == EXIT_USAGE
    assert f"无法读写 {a_file}" in err and "这里需要一个文件夹，但已有同名的文件" in err


def test_score_output_folder_that_is_a_file_is_refused(capsys, five: Path, a_file: Path) -> None:
    rc, _, err = cli(capsys, "score", str(five), "-o", str(a_file))
    assert rc == EXIT_USAGE and a_file.read_text(encoding="utf-8") == "not a folder"
    assert err == f"错误 / error: 不能写入 {a_file}：这是一个已有的文件；评分结果要写入一个文件夹，请换一个名称\n"


def test_score_never_replaces_a_folder_of_other_files(capsys, five: Path, tmp_path: Path) -> None:
    documents = tmp_path / "文档"
    documents.mkdir()
    (documents / "工作总结.docx").write_bytes(b"precious")
    rc, _, err = cli(capsys, "score", str(five), "-o", str(documents))
    assert rc == EXIT_USAGE and "这个文件夹已有其他内容" in err and str(documents) in err
    assert [p.name for p in tmp_path.iterdir() if p.name != "five.csv"] == ["文档"]
    assert (documents / "工作总结.docx").read_bytes() == b"precious"
    rc, _, _ = cli(capsys, "score", str(five), "-o", str(tmp_path / "结果"))
    assert rc == 0
    rc, _, _ = cli(capsys, "score", str(five), "-o", str(tmp_path / "结果"))  # its own results: replaced
    assert rc == 0 and (tmp_path / "结果" / "meta.json").is_file()


def test_validate_report_inside_a_file_is_refused(capsys, five: Path, a_file: Path) -> None:
    rc, out, err = cli(capsys, "validate", str(five), "-o", str(a_file / "问题.xlsx"))
    assert rc == EXIT_USAGE and f"无法读写 {a_file}" in err
    assert "读入观测 438 条" in out  # the check itself was done and printed


def test_template_inside_a_file_is_refused(capsys, a_file: Path) -> None:
    rc, _, err = cli(capsys, "template", "--year", "2024", "-r", str(DEMO / "registry.csv"),
                     "-o", str(a_file / "模板.xlsx"))
    assert rc == EXIT_USAGE and f"无法读写 {a_file}" in err


def test_demo_generate_into_a_file_is_refused(capsys, a_file: Path) -> None:
    rc, _, err = cli(capsys, "demo", "generate", "-o", str(a_file / "demo"))
    assert rc == EXIT_USAGE and str(a_file) in err


def test_run_with_an_output_folder_inside_a_file_is_refused(capsys, tmp_path: Path, five: Path,
                                                            a_file: Path) -> None:
    nb = ROOT / "notebooks"
    run_file = tmp_path / "run.yaml"
    run_file.write_text(
        f"year: 2024\ndata:\n  - {five}\nnotebooks:\n  school_report: {nb / 'school_report.ipynb'}\n"
        f"formats: [ipynb]\noutput: {a_file / 'out'}\n",
        encoding="utf-8",
    )
    rc, _, err = cli(capsys, "run", str(run_file), "--schools", "001")
    assert rc == EXIT_USAGE
    assert f"无法读写 {a_file / 'out'}" in err and "路径中有一段是文件而不是文件夹" in err


# --------------------------------------------------------------------------- the guard itself


def test_unexpected_error_prints_one_line_and_logs_the_traceback(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("EVALKIT_LOG_DIR", str(tmp_path / "logs"))

    def defect() -> int:
        return {}["missing"]  # a KeyError no user can cause

    err = io.StringIO()
    assert guarded(defect, ["score", "x.csv"], stderr=err) == EXIT_INTERNAL
    [log] = list((tmp_path / "logs").iterdir())
    assert err.getvalue() == (f"evalkit 内部错误，请把日志文件 {log} 发给维护人员 / internal error, "
                              f"traceback in {log}\n")
    text = log.read_text(encoding="utf-8")
    assert "command: evalkit score x.csv" in text
    assert "Traceback (most recent call last)" in text and "KeyError: 'missing'" in text


def _demo_run_file(folder: Path, data: Path) -> Path:
    run_file = folder / "run.yaml"
    run_file.write_text(
        f"year: 2024\ndata:\n  - {data}\nregistry: {DEMO / 'registry.csv'}\n"
        f"notebooks:\n  school_report: {ROOT / 'notebooks' / 'school_report.ipynb'}\n"
        f"formats: [ipynb]\noutput: {folder / 'out'}\n",
        encoding="utf-8",
    )
    return run_file


def test_a_value_error_inside_evalkit_run_is_a_defect_not_a_user_error(tmp_path: Path, monkeypatch, capsys) -> None:
    """A ValueError from evalkit's own code (planted in the planner, after scoring) is a defect:
    exit 70 and a log file, never "错误：…" with exit 2 (the CLI catches EvalkitError only)."""
    import evalkit.planner.year as year

    monkeypatch.setenv("EVALKIT_LOG_DIR", str(tmp_path / "logs"))

    def planted(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise ValueError("planted defect")

    monkeypatch.setattr(year, "plan_year", planted)
    run_file = _demo_run_file(tmp_path, DEMO / "observations_2024.csv")
    rc, _, err = cli(capsys, "run", str(run_file), "--schools", "001")
    assert rc == EXIT_INTERNAL
    [log] = list((tmp_path / "logs").iterdir())
    assert f"evalkit 内部错误，请把日志文件 {log}" in err and "错误 / error" not in err
    assert "ValueError: planted defect" in log.read_text(encoding="utf-8")


def test_a_data_error_in_evalkit_run_exits_1_with_its_cell_in_chinese(tmp_path: Path, capsys) -> None:
    """The same data error gives the same exit code in ``run`` as in ``score`` (README: 1 errors
    in the data), with intake's Chinese message naming the file and cell."""
    rows = demo_rows(2024)
    value = rows[0].index("value")
    target = next(r for r in rows[1:] if r[value] not in ("", "是", "否"))  # a number or a label
    target[value] = "很多"
    data = write_csv(tmp_path / "obs.csv", rows)
    run_file = _demo_run_file(tmp_path, data)
    rc, _, err = cli(capsys, "run", str(run_file))
    assert rc == 1
    assert "obs.csv" in err and "很多" in err
    assert not (tmp_path / "out").exists()  # stopped before anything was written
    assert cli(capsys, "score", str(data), "-r", str(DEMO / "registry.csv"))[0] == 1


def test_unexpected_error_with_an_unwritable_log_folder_still_gives_one_line(tmp_path: Path, monkeypatch) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("", encoding="utf-8")
    monkeypatch.setenv("EVALKIT_LOG_DIR", str(blocker / "logs"))
    err = io.StringIO()
    assert guarded(lambda: 1 // 0, [], stderr=err) == EXIT_INTERNAL
    assert err.getvalue().count("\n") == 1
    assert err.getvalue().startswith("evalkit 内部错误（ZeroDivisionError: integer division or modulo by zero）")


def test_log_folder_defaults_to_the_user_cache(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.delenv("EVALKIT_LOG_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert log_dir() == tmp_path / "evalkit" / "logs"


def test_user_errors_keep_their_message_and_code() -> None:
    class Bad(EvalkitError):
        exit_code = 7

    err = io.StringIO()
    assert guarded(lambda: (_ for _ in ()).throw(Bad("运行文件有问题")), [], stderr=err) == 7
    assert err.getvalue() == "错误 / error: 运行文件有问题\n"


def test_interrupt_exits_130() -> None:
    def interrupted() -> int:
        raise KeyboardInterrupt

    err = io.StringIO()
    assert guarded(interrupted, [], stderr=err) == EXIT_INTERRUPTED and err.getvalue() == "已中断 / interrupted\n"


@pytest.mark.parametrize(
    ("code", "reason"),
    [(errno.EACCES, "没有读写权限"), (errno.ENOSPC, "磁盘空间不足"), (errno.ENOTDIR, "路径中有一段是文件而不是文件夹")],
)
def test_file_system_errors_are_named_in_chinese(code: int, reason: str) -> None:
    assert os_message(OSError(code, "x", "/data/结果.csv")) == f"无法读写 /data/结果.csv：{reason}"


def test_closed_pipe_stops_quietly() -> None:
    evalkit = Path(sys.executable).with_name("evalkit")
    proc = subprocess.run(f"'{evalkit}' score '{DEMO}/observations_2024.csv' | head -c 10", shell=True,
                          capture_output=True, executable="/bin/bash")
    assert proc.stderr == b"" and len(proc.stdout) == 10


def test_every_user_facing_error_class_derives_from_evalkit_error() -> None:
    from evalkit.charts.fonts import CJKFontNotFoundError
    from evalkit.errors import UnreadableFileError
    from evalkit.framework import FrameworkError
    from evalkit.intake.gate import GateError
    from evalkit.intake.registry import RegistryError
    from evalkit.intake.result import IntakeError
    from evalkit.io.yaml_load import YamlInputError
    from evalkit.mcda.ahp import InconsistentMatrix, MatrixError
    from evalkit.observations import ObservationsError
    from evalkit.planner.confine import OutsideOutputError
    from evalkit.planner.names import UnsafePathError
    from evalkit.planner.run import RunError
    from evalkit.planner.runfile import RunFileError

    classes = [UnsafePathError, RunError, RunFileError, UnreadableFileError, CJKFontNotFoundError, FrameworkError,
               IntakeError, ObservationsError, RegistryError, OutsideOutputError, GateError, YamlInputError,
               MatrixError, InconsistentMatrix]
    assert [c.__name__ for c in classes if not issubclass(c, EvalkitError)] == []
    assert {c.exit_code for c in classes} == {1, 2}
    assert IntakeError.exit_code == ObservationsError.exit_code == 1 and RunFileError.exit_code == 2


# --------------------------------------------------------------------------- names reaching charts


HOSTILE_NAMES = ["$x^$", r"$\undefinedcommand{x}$", "城关\x07一小", "一小\u202e\u200b", "a$b$c^d_e"]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_charts_draw_hostile_school_names_as_plain_text(name: str) -> None:
    from evalkit.analysis import area_comparison, example_results

    results = example_results()
    fig = charts.radar(area_comparison(results, "001", 2024), school_name=name)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a missing glyph would be a warning
        assert charts.to_png(fig)[:4] == b"\x89PNG"
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend[0] == charts.plain(name) and "\x07" not in legend[0]
    assert legend[0].count("$") == name.count("$")  # shown as typed, not as TeX


def test_county_charts_draw_hostile_names() -> None:
    up = pd.DataFrame({"school_id": ["001"], "school_name": ["$x^$"], "change": [3.0]})
    down = pd.DataFrame({"school_id": ["002"], "school_name": ["二小\x1b[31m"], "change": [-2.0]})
    fig = charts.changes(up, down)
    assert charts.to_png(fig)[:4] == b"\x89PNG"
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == ["二小[31m", "$x^$"]
    moves = pd.DataFrame({"school_id": ["001"], "school_name": ["$\\frac{1}{0}$"], "rank": [1], "new_rank": [2],
                          "rank_change": [-1]})
    assert charts.to_png(charts.reweight(moves, highlight=["001"]))[:4] == b"\x89PNG"


def test_scoring_no_observations_is_a_user_error_not_a_pandas_error() -> None:
    from evalkit.framework import load_framework
    from evalkit.observations import COLUMNS, ObservationsError
    from evalkit.scoring import score

    fw = load_framework("shiquan-party-building")
    with pytest.raises(ObservationsError, match="没有任何观测数据可评分"):
        score(pd.DataFrame(columns=COLUMNS), fw)
    one = pd.DataFrame([{"school_id": "001", "year": 2024, "indicator_id": "A1", "value": 13.0}])
    with pytest.raises(ObservationsError, match=r"所选年度 \[2023\] 没有任何观测数据"):
        score(one, fw, years=[2023])
