"""``make lab`` (scripts/lab.sh) started for real on a copy of the project: it prints an address
that works, with its token, and the token is in no process's argument list (what ``ps`` shows
other users). The copy's ``.venv`` links to the running interpreter's environment."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
URL = re.compile(r"http://127\.0\.0\.1:(\d+)/lab\?token=([A-Za-z0-9_-]+)")


@pytest.fixture()
def lab(tmp_path: Path):  # type: ignore[no-untyped-def]
    if not (Path(sys.prefix) / "bin" / "jupyter").exists():
        pytest.fail(f"jupyter is not installed in {sys.prefix}: make setup installs it")
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "lab.sh", tmp_path / "scripts" / "lab.sh")
    (tmp_path / "notebooks").mkdir()
    shutil.copy(ROOT / "notebooks" / "school_report.ipynb", tmp_path / "notebooks")
    (tmp_path / ".venv").symlink_to(Path(sys.prefix))
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
           "JUPYTER_CONFIG_DIR": str(tmp_path / "config"), "JUPYTER_TOKEN": ""}
    env.pop("LAB_PORT", None)
    proc = subprocess.Popen(["bash", "scripts/lab.sh"], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    lines: list[str] = []
    found = threading.Event()

    def read() -> None:
        for line in proc.stdout:  # type: ignore[union-attr]
            lines.append(line)
            if URL.search(line):
                found.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        # a guard against a hung start, not a speed requirement
        assert found.wait(120) or proc.poll() is not None, "".join(lines)
        yield tmp_path, proc, lines
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as err:
        return err.code, b""


def _argument_lists() -> list[str]:
    out = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            out.append(cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace"))
        except OSError:
            continue
    return out


def test_make_lab_prints_a_working_address_and_keeps_the_token_out_of_ps(lab) -> None:  # type: ignore[no-untyped-def]
    folder, proc, lines = lab
    printed = [m for line in lines if (m := URL.search(line))]
    assert printed and proc.poll() is None, "".join(lines)  # printed while the server runs
    port, token = printed[-1].group(1), printed[-1].group(2)
    assert len(token) >= 32  # 24 random bytes, URL-safe base64
    status, body = _get(f"http://127.0.0.1:{port}/api/status?token={token}")
    assert status == 200 and "started" in json.loads(body)
    assert _get(f"http://127.0.0.1:{port}/api/status")[0] == 403  # no token, no entry
    assert _get(printed[-1].group(0))[0] == 200  # the printed address itself opens JupyterLab
    lab_args = [a for a in _argument_lists() if "jupyter" in a and f"--ServerApp.port={port}" in a]
    assert lab_args  # the server is found by its arguments ...
    assert not [a for a in _argument_lists() if token in a]  # ... and the token is in no argument list
    assert (folder / "lab" / "school_report.ipynb").is_file()  # the working copy, not notebooks/
