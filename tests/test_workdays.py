"""Working days of the publicity period across China's statutory holidays and 调休 workdays.

The holidays and make-up workdays used here are those of the State Council's notices:
- 国务院办公厅关于2024年部分节假日安排的通知（国办发明电〔2023〕7号，2023年10月25日）, item 七:
  国庆节 10月1日至7日放假调休，共7天；9月29日（星期日）、10月12日（星期六）上班。
- 国务院办公厅关于2025年部分节假日安排的通知（国办发明电〔2024〕12号，2024年11月12日）, item 二:
  春节 1月28日（农历除夕、周二）至2月4日（农历正月初七、周二）放假调休，共8天；
  1月26日（周日）、2月8日（周六）上班。
(as printed in 人民日报 2023-10-26 第06版 and on 中国政府网; checked against the wording quoted
by cctv.cn on 2024-11-12.) Every expected end date below is counted by hand from those notices.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from evalkit.planner.runfile import Issuer, Publicity, RunFileError, load_run_file
from evalkit.publish.documents.publicity import publicity_period
from evalkit.publish.documents.workdays import (
    WorkdayCalendarError,
    add_working_days,
    calendar_years,
    is_working_day,
)

D = dt.date


def test_national_day_2024_holidays_and_make_up_days() -> None:
    assert [is_working_day(D(2024, 10, d)) for d in range(1, 8)] == [False] * 7  # Tue 1st – Mon 7th off
    assert is_working_day(D(2024, 9, 29))  # a Sunday, worked
    assert is_working_day(D(2024, 10, 12))  # a Saturday, worked
    assert not is_working_day(D(2024, 10, 13))  # the Sunday after is an ordinary Sunday


def test_spring_festival_2025_holidays_and_make_up_days() -> None:
    assert not any(is_working_day(D(2025, 1, 28) + dt.timedelta(days=k)) for k in range(8))  # 28 Jan – 4 Feb
    assert is_working_day(D(2025, 1, 26))  # Sunday, worked
    assert is_working_day(D(2025, 2, 8))  # Saturday, worked
    assert is_working_day(D(2025, 1, 27)) and is_working_day(D(2025, 2, 5))


def test_publicity_period_across_national_day_2024() -> None:
    # Fri 27 Sep (1), Sun 29 Sep 调休 (2), Mon 30 Sep (3), 1–7 Oct off, Tue 8 Oct (4), Wed 9 Oct (5).
    # Monday to Friday alone would have ended on Thu 3 Oct, inside the holiday.
    assert add_working_days(D(2024, 9, 27), 5) == D(2024, 10, 9)
    # Tue 8 – Fri 11 Oct (4), Sat 12 Oct 调休 (5); Monday to Friday alone: Mon 14 Oct.
    assert add_working_days(D(2024, 10, 8), 5) == D(2024, 10, 12)
    # starting inside the holiday: the first working day is Tue 8 Oct
    assert add_working_days(D(2024, 10, 1), 1) == D(2024, 10, 8)


def test_publicity_period_across_spring_festival_2025() -> None:
    # Fri 24 Jan (1), Sun 26 Jan 调休 (2), Mon 27 Jan (3), 28 Jan – 4 Feb off, Wed 5 (4), Thu 6 Feb (5).
    # Monday to Friday alone would have ended on Thu 30 Jan, inside the holiday.
    assert add_working_days(D(2025, 1, 24), 5) == D(2025, 2, 6)
    # Wed 5, Thu 6, Fri 7 Feb (3), Sat 8 Feb 调休 (4)
    assert add_working_days(D(2025, 2, 5), 4) == D(2025, 2, 8)


def test_the_run_files_publicity_block_uses_the_calendar() -> None:
    issuer = Issuer(county="青岚县", body="青岚县教育体育局", date=D(2025, 1, 24))
    period = publicity_period(issuer, Publicity(days=5))
    assert (period.start, period.end, period.days) == (D(2025, 1, 24), D(2025, 2, 6), 5)


def test_the_calendar_covers_the_years_evalkit_is_used_for() -> None:
    first, last = calendar_years()
    assert first <= 2024 and last >= 2026


def test_a_period_beyond_the_calendar_is_refused_and_asks_for_the_end_date() -> None:
    last = calendar_years()[1]
    start = D(last, 12, 28)
    with pytest.raises(WorkdayCalendarError) as err:
        add_working_days(start, 10)
    message = str(err.value)
    assert f"{last + 1}年" in message and "end" in message and "运行文件" in message
    # a declared end is taken as it is, beyond the calendar too
    issuer = Issuer(county="青岚县", body="青岚县教育体育局", date=start)
    period = publicity_period(issuer, Publicity(days=10, end=D(last + 1, 1, 15)))
    assert period.end == D(last + 1, 1, 15) and period.days is None


RUN = """
year: 2024
data: [data.csv]
registry: registry.csv
notebooks:
  school_report: report.ipynb
output: out
issuer:
  county: 青岚县
  body: 青岚县教育体育局
  date: {date}
publicity:
  days: 10
{end}"""


def test_the_run_file_is_refused_before_any_report_when_the_period_leaves_the_calendar(tmp_path: Path) -> None:
    for name in ("data.csv", "registry.csv", "report.ipynb"):
        (tmp_path / name).write_text("x\n", encoding="utf-8")
    last = calendar_years()[1]
    run = tmp_path / "run.yaml"
    run.write_text(RUN.format(date=f"{last}-12-28", end=""), encoding="utf-8")
    with pytest.raises(RunFileError, match=r"publicity.*写明公示结束日期（end: "):
        load_run_file(run)
    run.write_text(RUN.format(date=f"{last}-12-28", end=f"  end: {last + 1}-01-15\n"), encoding="utf-8")
    assert load_run_file(run).publicity.end == D(last + 1, 1, 15)
