"""The bundled demo county (青岚县, fictional): its shipped files and their seeded generator.

``evalkit/demo/data/`` holds ``registry.csv`` and ``observations_<year>.csv`` (long
Observations, see ``docs/architecture.md``), written by :func:`evalkit.demo.generator.generate`
with the default seed; ``evalkit demo generate`` rebuilds them byte for byte.

>>> demo_years()
[2022, 2023, 2024]
>>> demo_registry_path().name
'registry.csv'
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

__all__ = ["DEMO_DATA_DIR", "demo_observation_paths", "demo_registry_path", "demo_years"]

#: The folder of the shipped demo files.
DEMO_DATA_DIR = Path(str(resources.files("evalkit") / "demo" / "data"))

_OBS_FILE = re.compile(r"^observations_(\d{4})\.csv$")


def demo_registry_path() -> Path:
    """Path of the demo county's school registry (``registry.csv``)."""
    return DEMO_DATA_DIR / "registry.csv"


def demo_years() -> list[int]:
    """The years with a shipped observations file, ascending."""
    if not DEMO_DATA_DIR.is_dir():
        return []
    return sorted(int(m.group(1)) for p in DEMO_DATA_DIR.iterdir() if (m := _OBS_FILE.match(p.name)))


def demo_observation_paths(year: int | None = None) -> list[Path]:
    """Paths of the demo observation files: every year ascending, or only ``year``.

    Raises ``FileNotFoundError`` naming the available years when ``year`` has no file.
    """
    years = demo_years()
    if year is not None:
        if int(year) not in years:
            raise FileNotFoundError(
                f"演示数据没有 {year} 年的观测文件 / no demo observations for {year}; "
                f"available: {', '.join(map(str, years)) or 'none'}"
            )
        years = [int(year)]
    return [DEMO_DATA_DIR / f"observations_{y}.csv" for y in years]
