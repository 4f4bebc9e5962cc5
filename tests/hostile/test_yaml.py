"""Hostile YAML: bombs, deep and self-referencing documents, odd encodings, files that are not files.

Every framework and run file goes through :mod:`evalkit.io.yaml_load`. Each case asserts its exact
outcome: refused with a Chinese message naming what is wrong (and the line), exit status 1
(``framework check``) or 2 (``run``), no Python traceback — or, for legitimate variants (aliases
used sparingly, a BOM, UTF-16 with BOM), read to exactly the shipped framework.

Bombs are loaded in a fresh Python process that reports the work the loader did — nodes composed,
nodes visited by the expansion check, objects constructed — and its peak RSS (``VmHWM`` of
``/proc/self/status``; ``ru_maxrss`` would carry over the pytest process's peak through
``fork``/``exec``). The work is counted, not timed, so the bounds do not depend on the machine:
a bomb is refused after work proportional to its few hundred nodes on disk, before anything is
constructed; the 300 MB memory bound is a safety bound (before the bounded loader the 9-level
bomb below did not finish and grew by gigabytes).
The billion-laughs construction is the classic one (OWASP, "XML External Entity" / YAML
variants: 9 levels × 9 references = 9⁹ ≈ 3.9·10⁸ leaves from a 10-line file).
"""

from __future__ import annotations

import codecs
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from evalkit.framework import FrameworkError, builtin_framework_path, load_framework
from evalkit.io.yaml_load import MAX_DEPTH, MAX_NODES, MAX_YAML_BYTES, YamlInputError, load_yaml_text
from evalkit.planner.runfile import RunFileError, load_run_file

SHIPPED = builtin_framework_path()
BOUND_MB = 300
BOUND_NODES = 1_000  # nodes composed or visited while refusing a bomb (each bomb below has fewer than 300 on disk)


# --------------------------------------------------------------------------- helpers


def billion_laughs(levels: int = 9, fan: int = 9) -> str:
    """The alias bomb: ``a`` holds ``fan`` strings, every next level ``fan`` aliases of the last."""
    lines = ["a: &a [" + ", ".join(['"lol"'] * fan) + "]"]
    for prev, name in zip("abcdefghijklmnop", "bcdefghijklmnop"[: levels - 1], strict=False):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * fan) + "]")
    return "\n".join(lines) + "\n"


def evalkit_cli(*args: str, cwd: Path | None = None, fresh: bool = False) -> subprocess.CompletedProcess:
    """``evalkit ARGS``: in a fresh process with ``fresh`` or ``cwd`` (one test per command does
    so, as users run it), else in this process (``main``, its output captured), same result."""
    if fresh or cwd is not None:
        # the timeout is a guard against a hang, not an assertion
        return subprocess.run(
            [sys.executable, "-m", "evalkit.cli.app", *args], capture_output=True, text=True, cwd=cwd, timeout=120
        )
    import contextlib
    import io

    from evalkit.cli.app import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return subprocess.CompletedProcess(["evalkit", *args], code, out.getvalue(), err.getvalue())


_MEASURE = textwrap.dedent(
    """
    import json, resource, sys
    from evalkit.io import yaml_load
    from evalkit.planner.runfile import RunFileError, load_run_file
    from evalkit.framework import FrameworkError, load_framework
    kind, path = sys.argv[1], sys.argv[2]
    work = {"composed": 0, "visited": 0, "constructed": 0}

    def counting(name, function):
        def counted(*args, **kwargs):
            work[name] += 1
            return function(*args, **kwargs)
        return counted

    loader = yaml_load._BoundedLoader
    loader.compose_node = counting("composed", loader.compose_node)
    loader.construct_document = counting("constructed", loader.construct_document)
    yaml_load._children = counting("visited", yaml_load._children)
    try:
        (load_framework if kind == "framework" else load_run_file)(path)
        message = None
    except (FrameworkError, RunFileError) as err:
        message = str(err)
    # VmHWM: this process image's peak RSS (ru_maxrss would keep the forking parent's peak
    # across exec, i.e. the pytest process's)
    try:
        status = open("/proc/self/status").read()
        peak_mb = int(status.split("VmHWM:")[1].split()[0]) / 1024
    except (OSError, IndexError):
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"message": message, "peak_mb": peak_mb, **work}))
    """
)


def measured_load(kind: str, path: Path) -> dict:
    """Load a framework or run file in a fresh process: its message, peak RSS (MB) and the loader's work:
    ``composed`` (nodes composed from the text, aliases included), ``visited`` (nodes whose children the
    expansion check listed), ``constructed`` (documents turned into Python data)."""
    out = subprocess.run(
        [sys.executable, "-c", _MEASURE, kind, str(path)], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def refused_early(got: dict) -> bool:
    """The loader refused after work bounded by the file's own size, and constructed nothing."""
    return got["composed"] < BOUND_NODES and got["visited"] < BOUND_NODES and got["constructed"] == 0


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def run_file_text(tmp_path: Path) -> str:
    """A valid run file's text (a data file and a notebook that exist)."""
    (tmp_path / "obs.csv").write_text("school_id,year,indicator_id,value\n", encoding="utf-8")
    (tmp_path / "nb.ipynb").write_text("{}", encoding="utf-8")
    return "year: 2024\ndata: [obs.csv]\nnotebooks:\n  school_report: nb.ipynb\noutput: 输出\n"


# --------------------------------------------------------------------------- bombs


def test_billion_laughs_framework_is_refused_fast_and_small(tmp_path):
    bomb = write(tmp_path / "bomb.yaml", billion_laughs())
    got = measured_load("framework", bomb)
    assert "十亿笑" in got["message"] and f"超过 {MAX_NODES:,} 个节点" in got["message"]
    # f (line 6) is the first to pass the bound: 1 + 9·(1 + 9·(1 + 9·(1 + 9·(1 + 9·10)))) = 597,871 nodes
    assert "(yaml) (第 6 行)" in got["message"]
    assert refused_early(got) and got["peak_mb"] < BOUND_MB, got


def test_billion_laughs_run_file_is_refused_fast_and_small(tmp_path):
    bomb = write(tmp_path / "run.yaml", run_file_text(tmp_path) + billion_laughs())
    got = measured_load("run", bomb)
    assert "十亿笑" in got["message"] and "运行文件" in got["message"]
    assert refused_early(got) and got["peak_mb"] < BOUND_MB, got


def test_framework_check_answers_a_bomb_with_a_message_and_exit_1(tmp_path):
    bomb = write(tmp_path / "bomb.yaml", billion_laughs())
    out = evalkit_cli("framework", "check", str(bomb), fresh=True)
    assert out.returncode == 1
    assert "十亿笑" in out.stderr and "Traceback" not in out.stderr + out.stdout


def test_run_answers_a_bomb_with_a_message_and_exit_2(tmp_path):
    bomb = write(tmp_path / "run.yaml", billion_laughs())
    out = evalkit_cli("run", str(bomb), fresh=True)
    assert out.returncode == 2
    assert "十亿笑" in out.stderr and "Traceback" not in out.stderr + out.stdout
    assert not (tmp_path / "outputs").exists()


def test_merge_key_bomb_is_refused(tmp_path):
    # the same explosion through mappings and merge keys (<<: *x)
    lines = ["a: &a {k0: lol, k1: lol, k2: lol, k3: lol, k4: lol, k5: lol, k6: lol, k7: lol}"]
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ", ".join([f"{{<<: *{prev}}}"] * 8) + "]")
    got = measured_load("framework", write(tmp_path / "merge.yaml", "\n".join(lines) + "\n"))
    assert "十亿笑" in got["message"]
    assert refused_early(got) and got["peak_mb"] < BOUND_MB, got


def test_deeply_nested_flow_document_is_refused_without_recursion_error(tmp_path):
    deep = write(tmp_path / "deep.yaml", "areas: " + "[" * 100_000 + "]" * 100_000 + "\n")
    got = measured_load("framework", deep)
    assert f"嵌套超过 {MAX_DEPTH} 层" in got["message"] and "RecursionError" not in got["message"]
    assert refused_early(got) and got["peak_mb"] < BOUND_MB, got


def test_deeply_nested_block_document_names_the_line_where_it_gets_too_deep():
    text = "".join("  " * i + f"k{i}:\n" for i in range(200))
    with pytest.raises(YamlInputError) as info:
        load_yaml_text(text)
    # the root mapping is level 1, so the mapping that is level 51 starts at line 51
    assert info.value.problem.line == MAX_DEPTH + 1
    assert info.value.problem.path == "(yaml)"


def test_depth_up_to_the_limit_still_reads():
    text = "[" * MAX_DEPTH + "1" + "]" * MAX_DEPTH
    data = load_yaml_text(text)
    for _ in range(MAX_DEPTH - 1):
        data = data[0]
    assert data == [1]


@pytest.mark.parametrize(
    ("text", "anchor", "line"),
    [("a: &x [*x]\n", "x", 1), ("top:\n  b: &loop\n    c: *loop\n", "loop", 2), ("&r {k: [*r]}\n", "r", 1)],
)
def test_self_referencing_anchor_is_refused_with_its_name_and_line(tmp_path, text, anchor, line):
    with pytest.raises(FrameworkError) as info:
        load_framework(write(tmp_path / "self.yaml", text))
    (problem,) = info.value.problems
    assert problem.path == "(yaml)" and problem.line == line
    assert problem.message.startswith(f"锚点“&{anchor}”在自身内部被引用（*{anchor}）")


def test_self_referencing_framework_on_the_command_line_has_no_traceback(tmp_path):
    out = evalkit_cli("framework", "check", str(write(tmp_path / "self.yaml", "areas: &x [*x]\n")))
    assert out.returncode == 1
    assert "自身内部被引用" in out.stderr and "Traceback" not in out.stderr


def test_aliases_used_sparingly_still_read_to_the_shipped_framework(tmp_path):
    """Legitimate anchors (a shared rule) are allowed: same framework, same fingerprint."""
    data = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    rules: dict[str, dict] = {}
    shared = 0
    for area in data["areas"]:
        for ind in area["indicators"]:
            key = json.dumps(ind["rule"], sort_keys=True)
            if key in rules:
                ind["rule"] = rules[key]  # the same object: safe_dump writes &id/*id
                shared += 1
            else:
                rules[key] = ind["rule"]
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    assert shared >= 3 and "*id00" in text
    fw = load_framework(write(tmp_path / "aliased.yaml", text))
    assert fw.fingerprint == load_framework().fingerprint


def test_python_object_tags_are_refused_and_run_nothing(tmp_path):
    marker = tmp_path / "pwned"
    evil = f"!!python/object/apply:os.system ['touch {marker}']\n"
    with pytest.raises(FrameworkError) as info:
        load_framework(write(tmp_path / "evil.yaml", evil))
    assert info.value.problems[0].message.startswith("YAML 格式错误")
    assert not marker.exists()


def test_two_documents_in_one_file_are_refused_with_the_line(tmp_path):
    with pytest.raises(FrameworkError) as info:
        load_framework(write(tmp_path / "two.yaml", "id: a\n---\nid: b\n"))
    (problem,) = info.value.problems
    assert problem.path == "(yaml)" and problem.line == 2 and "single document" in problem.message


# --------------------------------------------------------------------------- files that are not YAML files


def test_oversized_yaml_file_is_refused_before_it_is_parsed(tmp_path):
    big = tmp_path / "big.yaml"
    big.write_bytes(b"# " + b"x" * MAX_YAML_BYTES + b"\n")
    got = measured_load("framework", big)
    assert f"超过 YAML 文件上限 {MAX_YAML_BYTES:,} 字节" in got["message"]
    assert got["composed"] == got["visited"] == got["constructed"] == 0  # not parsed at all
    assert got["peak_mb"] < BOUND_MB


def test_a_folder_given_as_framework_is_named_a_folder(tmp_path):
    (tmp_path / "fw.yaml").mkdir()
    out = evalkit_cli("framework", "check", str(tmp_path / "fw.yaml"))
    assert out.returncode == 1
    assert "(file): 这是一个文件夹，不是 YAML 文件" in out.stderr and "Traceback" not in out.stderr


def test_a_device_given_as_framework_is_refused_without_reading_it():
    # /dev/zero never ends: reading it would hang and fill memory
    with pytest.raises(FrameworkError) as info:
        load_framework("/dev/zero")
    assert info.value.problems[0].message.startswith("不是普通文件（设备、管道或套接字）")


def test_a_folder_given_as_run_file_is_named_a_folder(tmp_path):
    with pytest.raises(RunFileError) as info:
        load_run_file(tmp_path)
    assert [(p.path, p.message) for p in info.value.problems] == [
        ("(file)", "这是一个文件夹，不是 YAML 文件 / a folder, not a file")
    ]


# --------------------------------------------------------------------------- encodings


def test_gbk_framework_is_named_gbk_with_how_to_resave_it(tmp_path):
    gbk = write(tmp_path / "gbk.yaml", SHIPPED.read_text(encoding="utf-8"), "gbk")
    out = evalkit_cli("framework", "check", str(gbk))
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert "GBK/GB18030" in out.stderr and "另存为" in out.stderr and "UTF-8" in out.stderr
    # the first non-ASCII byte is in the comment on line 1
    assert "(file) (第 1 行): 文件不是 UTF-8 编码" in out.stderr


def test_gbk_run_file_is_named_gbk(tmp_path):
    gbk = write(tmp_path / "run.yaml", run_file_text(tmp_path), "gbk")
    with pytest.raises(RunFileError) as info:
        load_run_file(gbk)
    (problem,) = info.value.problems
    assert problem.path == "(file)" and problem.line == 5  # "output: 输出"
    assert "GBK/GB18030" in problem.message and "另存为" in problem.message


@pytest.mark.parametrize(
    ("prefix", "encoding"),
    [(codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")],
)
def test_framework_with_a_byte_order_mark_reads_as_the_shipped_one(tmp_path, prefix, encoding):
    path = tmp_path / "bom.yaml"
    path.write_bytes(prefix + SHIPPED.read_text(encoding="utf-8").encode(encoding))
    assert load_framework(path).fingerprint == load_framework().fingerprint


def test_utf16_without_bom_is_named_as_such(tmp_path):
    path = write(tmp_path / "u16.yaml", SHIPPED.read_text(encoding="utf-8"), "utf-16-le")
    with pytest.raises(FrameworkError) as info:
        load_framework(path)
    assert "不带 BOM 的 UTF-16" in info.value.problems[0].message


def test_run_file_with_bom_reads(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_bytes(codecs.BOM_UTF8 + run_file_text(tmp_path).encode("utf-8"))
    spec = load_run_file(path)
    assert spec.years == (2024,) and spec.output == (tmp_path / "输出").resolve()
