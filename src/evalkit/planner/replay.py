"""``evalkit replay outputs/2024``: regenerate a sealed year from its sealed inputs and compare.

1. Every sealed input (``record/inputs/<sha256>``, :mod:`evalkit.planner.seal`) is checked
   against its digest; an altered or missing one is named and the replay stops (exit 1).
2. :func:`~evalkit.planner.materialize.materialized_spec`: the sealed inputs copied into a
   scratch folder (a temporary folder; the published folder is only read), the run file
   rewritten to name them.
3. The year is run (a corrected version with the same correction marks: its 通报 and 公示名单
   reissued with the same date, each report marked as its sealed manifest entry says) and
   compared with the published folder (:func:`evalkit.planner.compare.compare`).

Prints 一致 and exits 0, or each difference and exits 1.
"""

from __future__ import annotations

import io
import sys
import tempfile
from pathlib import Path
from typing import TextIO

from evalkit.planner.manifest import Manifest
from evalkit.planner.materialize import materialized_spec
from evalkit.planner.published import RECORD_DIR
from evalkit.planner.seal import SealError, read_published, verify_sealed


def replay(folder: str | Path, *, out: TextIO | None = None, keep: str | Path | None = None) -> list[str]:
    """Replay sealed ``folder`` (see the module docstring); return the differences (empty: 一致).
    ``keep``: regenerate into this folder (outside the published one) instead of a temporary one."""
    from evalkit.planner.compare import compare
    from evalkit.planner.correction import replay_correction
    from evalkit.planner.run import run_batch

    out = out or sys.stdout
    folder = Path(folder).resolve()
    seal = read_published(folder)
    if seal is None:
        raise SealError(f"{folder} 尚未公布（没有 {RECORD_DIR}/published.json），无法重放 / not sealed")
    problems = verify_sealed(folder, seal)
    if problems:
        return problems
    with tempfile.TemporaryDirectory(prefix="evalkit-replay-") as tmp:
        scratch = Path(keep).resolve() if keep else Path(tmp)
        if scratch == folder or folder in scratch.parents:
            raise SealError("重放的输出不能放在已公布的文件夹内 / the scratch folder must lie outside")
        scratch.mkdir(parents=True, exist_ok=True)
        spec = materialized_spec(folder, seal, scratch)
        print(f"按封存的 {len(seal.get('inputs') or [])} 个输入文件重新生成 {seal['year']} 年（第 "
              f"{seal.get('version', 1)} 版）…", file=out, flush=True)
        log = io.StringIO()
        sealed = Manifest.load(folder)
        report = run_batch(spec, progress=False, out=log, reissue=replay_correction(seal, sealed.reports))
        if report.exit_code != 0:
            failed = [f"{o.job.label}: {o.reason}" for o in report.outcomes if o.status == "failed"]
            return [f"重新生成失败 / the replay run failed（退出码 {report.exit_code}）", *failed]
        return compare(folder, spec.year_folder(int(seal["year"])), say=lambda line: print(line, file=out))
