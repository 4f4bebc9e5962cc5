"""A synthetic city (or province) of demo counties, for tests and benchmarks:
``evalkit demo generate --city 8 -o /tmp/city``.

Each county is made like the demo county (:mod:`evalkit.demo.generator`: the same kinds of
schools, latent quality, events and observation rows) with its own seed, its own name (the
demo schools' "青岚" replaced by the county's), 40–60 schools (the demo's 48 cut short, or
extended with more village primaries) and a county-wide quality offset, so counties differ.
One county in eight (the 6th, 14th, …) has poor data: about a fifth of its schools lack one or
two indicators' rows, which intake and scoring flag as missing data.

Written into ``out_dir``: ``<county>/registry.csv`` and ``<county>/observations_<year>.csv`` per
county, and ``city.yaml`` — a run file listing the counties (``output: outputs``, formats html;
the repository's notebooks by absolute path). Everything is a pure function of the seed.

A 100-county province (~5,000 schools): ``evalkit demo generate --city 100 --region 云岭省 -o
/data/province`` (about 10,000 school reports and trends per year).
"""

from __future__ import annotations

import argparse
import random
from dataclasses import replace
from pathlib import Path

from evalkit.demo import generator as g

CITY = "云州市"
_HEADS = "东西南北中安平永长新宁清和丰太昌兴泰福德"
_TAILS = "川岭阳江山源城河湖溪林州原桥泉坪"


def county_names(n: int) -> list[str]:
    """``n`` distinct fictional county names (东川县, 西岭县, …; every fifth a 区)."""
    names = []
    for i in range(n):
        head = _HEADS[i % len(_HEADS)]
        tail = _TAILS[(i // len(_HEADS) + 3 * i) % len(_TAILS)]
        names.append(f"{head}{tail}{'区' if i % 5 == 4 else '县'}")
    if len(set(names)) != n:  # pragma: no cover - 20 × 16 combinations cover 320 counties
        raise ValueError("too many counties")
    return names


def county_schools(seed: int, index: int, name: str, sizes: tuple[int, int] = (40, 60)) -> list[g.School]:
    """The schools of county ``index`` (``sizes``: 40–60, ids 001…), named after ``name``."""
    rng = random.Random(f"evalkit-city:{seed}:{index}")
    n = rng.randint(*sizes)
    offset = rng.gauss(0.0, 0.35)
    short = name[:-1]
    base = g.build_county(seed + index)
    schools = []
    for i in range(n):
        template = base[i % len(base)]
        sid = f"{i + 1:03d}"
        school_name = template.name.replace("青岚", short)
        if i >= len(base):
            school_name = f"{template.township}{short}第{i - len(base) + 1}村小学"
            template = replace(template, kind="village", school_type="小学")
        schools.append(replace(template, school_id=sid, name=school_name, offset=template.offset + offset,
                               branch=template.branch.replace(template.name, school_name).replace("青岚", short)))
    return schools


def simulate_county(
    seed: int, index: int, name: str, years: tuple[int, ...], sizes: tuple[int, int] = (40, 60)
) -> tuple[list[g.School], dict]:
    """The county's schools and its observation rows per year (as :func:`generator.simulate`)."""
    schools = county_schools(seed, index, name, sizes)
    county_seed = seed + index
    span = list(range(min(g.FIRST_YEAR, min(years)), max(years) + 1))
    states = {s.school_id: g._simulate_states(s, county_seed, span) for s in schools}
    honours: dict[str, int] = {}
    plans = {year: g._plan_year(county_seed, year, schools, states, honours) for year in span}
    rows = {
        year: [row for s in schools for row in g._school_year_rows(s, year, states[s.school_id][year], plans[year],
                                                                   county_seed)]
        for year in sorted(years)
    }
    if index % 8 == 5:  # a county with poor data: some schools lack an indicator or two
        rng = random.Random(f"evalkit-city-gaps:{seed}:{index}")
        gaps = {(s.school_id, ind) for s in schools if rng.random() < 0.2
                for ind in rng.sample(["A2", "B3", "C4", "D2", "E2"], rng.randint(1, 2))}
        rows = {y: [r for r in rs if (r[0], r[2]) not in gaps] for y, rs in rows.items()}
    return schools, rows


def generate_city(
    out_dir: str | Path, counties: int = 8, seed: int = g.DEFAULT_SEED, years: tuple[int, ...] = (2023, 2024),
    region: str = CITY, notebooks: Path | None = None, sizes: tuple[int, int] = (40, 60),
) -> Path:
    """Write the city into ``out_dir`` (see the module docstring); return the run file's path."""
    out = Path(out_dir)
    nb = (notebooks or Path(__file__).resolve().parents[3] / "notebooks").resolve()
    lines = [
        f"# {region}（合成数据，种子 {seed}）：evalkit run {out / 'city.yaml'} [--cluster dask-local:2]",
        f"year: {max(years)}",
        f"region: {region}",
        "framework: shiquan-party-building",
        "notebooks:",
        f"  school_report: {nb / 'school_report.ipynb'}",
        f"  county_summary: {nb / 'county_summary.ipynb'}",
        f"  region_summary: {nb / 'region_summary.ipynb'}",
        "formats: [ipynb, html]",
        "output: outputs",
        "counties:",
    ]
    for index, name in enumerate(county_names(counties)):
        schools, rows = simulate_county(seed, index, name, years, sizes)
        folder = out / name
        folder.mkdir(parents=True, exist_ok=True)
        registry = [(s.school_id, s.name, s.school_type, s.township, s.pupils, s.staff, s.party_members, s.branch,
                     min(years), "") for s in schools]
        g._write_atomic(folder / "registry.csv", g._csv_text(g.REGISTRY_COLUMNS, registry))
        for year, year_rows in rows.items():
            g._write_atomic(folder / f"observations_{year}.csv", g._csv_text(g.OBSERVATION_COLUMNS, year_rows))
        lines += [f"  - name: {name}", f"    registry: {name}/registry.csv", "    data:"]
        lines += [f"      - {name}/observations_{year}.csv" for year in sorted(rows)]
        lines += ["    issuer:", f"      county: {name}", f"      body: {name}教育局"]
    run_file = out / "city.yaml"
    g._write_atomic(run_file, "\n".join(lines) + "\n")
    return run_file


def cli_generate_city(args: argparse.Namespace) -> int:
    """``evalkit demo generate --city N [--region 名称] [--seed S] -o DIR``."""
    seed = g.DEFAULT_SEED if getattr(args, "seed", None) is None else int(args.seed)
    out = Path(getattr(args, "output", None) or "city")
    run_file = generate_city(out, int(args.city), seed, region=getattr(args, "region", None) or CITY)
    print(f"合成区域已生成（{args.city} 个县，种子 {seed}）/ synthetic region written: {run_file}")
    return 0


def cli_generate_any(args: argparse.Namespace) -> int:
    """``evalkit demo generate``: the demo county, or with ``--city N`` a synthetic region."""
    if getattr(args, "city", None):
        return cli_generate_city(args)
    return g.cli_generate(args)
