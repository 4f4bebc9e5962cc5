"""Benchmark: where the CPU of one ``evalkit run`` goes, by the role of each process.

Runs ``evalkit run`` (the demo county's run file by default, ``--force``, into a fresh
folder; formats ``ipynb,html,pdf`` unless ``--formats`` says otherwise) and reads
``/proc/<pid>/stat`` of every descendant ten times a second. Each process's CPU (user +
system) at its last reading is summed by role:

- **main**: the ``evalkit`` process (scoring, robustness tables, scoreboard, documents, plan,
  recording results);
- **fork server**: multiprocessing's fork server (its imports, once);
- **workers**: the pool's worker processes (papermill's engine, HTML, PDF, Word);
- **kernel templates**: ``python …/evalkit/runtime/kernelfork.py`` (their imports, and one
  ``fork`` per report);
- **report processes**: the processes forked from a template, one per report (its cells);
- **pandoc**: the long-lived ``pandoc lua`` of each process that writes Word files;
- **other**: e.g. the ``ldconfig`` and ``gcc`` that ``ctypes.util.find_library`` starts while
  WeasyPrint is imported (too short-lived to be read: their CPU is in the total only).

A report process lives about a second; the CPU it used after its last reading (at most
0.1 s of its life) is missed, so the sum is a little below the run's total, which is printed
beside it (``RUSAGE_CHILDREN`` of this process after the run: every descendant reaped).
Printed also: when the first process was forked from a template (seconds from the start; a
report's process is forked ahead, as soon as its template is ready), i.e. how long the run's
front — imports, scoring, worker and template start — lasted.

    .venv/bin/python benchmarks/bench_cpu_roles.py
    .venv/bin/python benchmarks/bench_cpu_roles.py --formats ipynb,html,pdf,docx

Times drift with the machine (docs/benchmarks.md): compare shares, or alternate runs.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from bench_batch import become_subreaper, reap_orphans, run_file_copy  # as the batch benchmark does

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
TICK = os.sysconf("SC_CLK_TCK")


def _processes() -> dict[int, tuple[int, str, float]]:
    """pid -> (parent pid, command line, CPU seconds) of every process now."""
    out = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            cmd = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        out[int(entry)] = (int(fields[1]), cmd, (int(fields[11]) + int(fields[12])) / TICK)
    return out


def _descendants(root: int, procs: dict[int, tuple[int, str, float]]) -> set[int]:
    found, frontier = set(), {root}
    while frontier:
        frontier = {pid for pid, (parent, _, _) in procs.items() if parent in frontier and pid not in found}
        found |= frontier
    return found | ({root} if root in procs else set())


def _is_template(cmd: str) -> bool:
    """A kernel template's command line (``python …/evalkit/runtime/kernelfork.py R W``), which
    the report processes forked from it keep."""
    return "evalkit/runtime/kernelfork.py" in cmd or "evalkit.runtime.kernelfork" in cmd


def _role(pid: int, root: int, seen: dict[int, tuple[int, str, float]]) -> str:
    parent, cmd, _ = seen[pid]
    parent_cmd = seen[parent][1] if parent in seen else ""
    if pid == root:
        return "main"
    if "pandoc" in cmd.split(" ", 1)[0]:
        return "pandoc"
    if "forkserver" in cmd:
        return "fork server" if "forkserver" not in parent_cmd else "workers"
    if _is_template(cmd):
        return "kernel templates" if not _is_template(parent_cmd) else "report processes"
    return "other"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--run-file", type=Path, default=ROOT / "params" / "demo.yaml")
    parser.add_argument("--formats", default="ipynb,html,pdf")
    args = parser.parse_args(argv)
    become_subreaper()  # orphans (the fork server) are reaped here, so RUSAGE_CHILDREN counts them
    work = Path(tempfile.mkdtemp(prefix="bench-cpu-roles-"))
    try:
        cmd = [str(BIN / "evalkit"), "run", str(run_file_copy(args.run_file, work)), "--force",
               "--formats", args.formats]
        t0 = time.monotonic()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        seen: dict[int, tuple[int, str, float]] = {}
        first_fork = None
        while proc.poll() is None:
            procs = _processes()
            for pid in _descendants(proc.pid, procs):
                parent, line, cpu = procs[pid]
                if not line and pid in seen:  # a process that has ended: its command line is gone
                    line = seen[pid][1]
                seen[pid] = (parent, line, cpu)
            if first_fork is None and any(_role(p, proc.pid, seen) == "report processes" for p in seen):
                first_fork = time.monotonic() - t0
            time.sleep(0.1)
        wall = time.monotonic() - t0
        reap_orphans()
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        total = usage.ru_utime + usage.ru_stime
        roles: dict[str, float] = defaultdict(float)
        counts: dict[str, int] = defaultdict(int)
        for pid, (_, _, cpu) in seen.items():
            role = _role(pid, proc.pid, seen)
            roles[role] += cpu
            counts[role] += 1
        print(f"evalkit run ({args.formats}): wall {wall:.1f} s, CPU {total:.1f} s (all descendants), exit "
              f"{proc.returncode}; first process forked from a template after {first_fork or float('nan'):.1f} s")
        for role, cpu in sorted(roles.items(), key=lambda kv: -kv[1]):
            print(f"  {role:<18}{counts[role]:>5} processes {cpu:>8.1f} s  {100 * cpu / total:>5.1f} %")
        print(f"  {'(read)':<18}{'':>15}{sum(roles.values()):>8.1f} s")
        return proc.returncode
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
