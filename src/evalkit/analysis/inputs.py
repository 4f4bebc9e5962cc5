"""From a report notebook's string parameters to the Results and Framework it shows.

The parameter contract of the batch runner: ``scores`` (folder of saved Results, ``""`` =
score the demo county now), ``data`` (comma-separated observation files, ``""`` = demo),
``framework`` (name or path), ``registry`` (path, ``""`` = none / demo).

>>> parse_paths("")
>>> parse_paths(" a.csv, b.xlsx ,")
['a.csv', 'b.xlsx']
"""

from __future__ import annotations

from pathlib import Path

from evalkit.framework import DEFAULT_FRAMEWORK, Framework, load_framework, resolve_framework_path
from evalkit.results import Results

__all__ = ["parse_paths", "preload_framework", "report_inputs"]

_PRELOADED: dict[str, tuple[tuple[int, int, int], Framework]] = {}


def _stamp(path: Path) -> tuple[int, int, int]:
    st = path.stat()
    return (st.st_size, st.st_mtime_ns, st.st_ino)


def preload_framework(framework: str = DEFAULT_FRAMEWORK) -> bool:
    """Load ``framework`` (name or path) now and keep it in this process: :func:`report_inputs`
    then uses it while its file is unchanged. The batch runner's kernel template calls this once
    per worker before it forks the reports' kernels; nothing else preloads. (Frameworks are
    frozen models, and a forked kernel's changes stay in that kernel.) Returns whether it was
    read (``False``: already in memory and unchanged)."""
    path = resolve_framework_path(framework or DEFAULT_FRAMEWORK)
    key = str(path.resolve())
    stamp = _stamp(path)
    if key in _PRELOADED and _PRELOADED[key][0] == stamp:
        return False
    _PRELOADED[key] = (stamp, load_framework(path))
    return True


def _framework(framework: str) -> Framework:
    """``load_framework(framework)``, or the preloaded one when its file is unchanged."""
    if _PRELOADED:
        try:
            path = resolve_framework_path(framework)
            hit = _PRELOADED.get(str(path.resolve()))
            if hit is not None and hit[0] == _stamp(path):
                return hit[1]
        except (OSError, ValueError):
            pass
    return load_framework(framework)


def parse_paths(text: str) -> list[str] | None:
    """Comma-separated paths → list (blanks dropped); ``None`` when there are none."""
    paths = [p.strip() for p in str(text or "").split(",") if p.strip()]
    return paths or None


def report_inputs(
    year: int, scores: str = "", data: str = "", framework: str = DEFAULT_FRAMEWORK, registry: str = ""
) -> tuple[Results, Framework]:
    """The Results (every year up to ``year``) and the Framework of a report.

    Raises ``ValueError`` (Chinese and English) when saved scores were made with another
    framework than ``framework``: its suggestions and names would not match the scores.
    """
    from evalkit.api import load_results

    fw = _framework(framework or DEFAULT_FRAMEWORK)
    results = load_results(
        int(year), scores=scores or None, data=parse_paths(data), framework=fw, registry=registry or None
    )
    made_with = results.meta.get("framework_id")
    if made_with and made_with != fw.id:
        raise ValueError(
            f"评分结果使用的指标体系为 {made_with}，与参数 framework={fw.id} 不一致 / "
            "scores were made with another framework"
        )
    return results, fw
