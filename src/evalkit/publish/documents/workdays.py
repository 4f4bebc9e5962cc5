"""Working days in China: Monday to Friday, minus the statutory holidays, plus the 调休 make-up days.

The calendar is the one the State Council publishes each year (国务院办公厅关于某年部分节假日
安排的通知), as kept by the ``chinesecalendar`` package (LKI/chinese-calendar, updated each year
when the notice appears). A day is a working day when that calendar says so: a weekday that is
not a holiday (国庆 2024: 1–7 October off), or a weekend day worked in exchange (调休: Sunday
29 September and Saturday 12 October 2024). Years the calendar does not hold yet are refused
(:class:`WorkdayCalendarError`), never guessed: the run file then gives the end date itself.

>>> add_working_days(dt.date(2024, 9, 27), 3)  # Fri 27th, Sun 29th (调休), Mon 30th
datetime.date(2024, 9, 30)
"""

from __future__ import annotations

import datetime as dt

import chinese_calendar

from evalkit.errors import EvalkitError

__all__ = ["WorkdayCalendarError", "add_working_days", "calendar_years", "is_working_day"]


class WorkdayCalendarError(EvalkitError):
    """A day outside the years of the holiday calendar: its working days are not known."""

    def __init__(self, day: dt.date, start: dt.date | None = None, days: int | None = None):
        first, last = calendar_years()
        self.day = day
        what = (f"自{_cn(start)}起{days}个工作日的公示期跨入{day.year}年" if start is not None
                else f"{_cn(day)}")
        super().__init__(
            f"{what}，超出法定节假日日历的年份（只知{first}—{last}年的放假和调休安排），无法推算工作日；"
            "请在运行文件的 publicity 中写明公示结束日期（end: YYYY-MM-DD）"
            f" / {day.isoformat()} is beyond the holiday calendar ({first}-{last}): "
            f"give publicity.end in the run file"
        )


def _cn(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def calendar_years() -> tuple[int, int]:
    """The first and last year whose holidays and 调休 days the installed calendar holds."""
    known = chinese_calendar.holidays.keys()
    return min(known).year, max(known).year


def is_working_day(day: dt.date) -> bool:
    """``True`` on a working day: a weekday that is no holiday, or a 调休 weekend day.

    >>> is_working_day(dt.date(2024, 10, 12))  # a Saturday worked for 国庆 2024
    True
    >>> is_working_day(dt.date(2024, 10, 7))  # a Monday inside 国庆 2024
    False
    """
    first, last = calendar_years()
    if not first <= day.year <= last:
        raise WorkdayCalendarError(day)
    return bool(chinese_calendar.is_workday(day))


def add_working_days(start: dt.date, days: int) -> dt.date:
    """The last day of a period of ``days`` working days beginning on ``start`` (counted when it
    is a working day): each day after ``start`` is taken in turn, and the ``days``-th working day
    (:func:`is_working_day`) ends the period.

    >>> add_working_days(dt.date(2024, 12, 20), 5)  # Friday 20th, then 23rd–26th
    datetime.date(2024, 12, 26)
    >>> add_working_days(dt.date(2024, 12, 21), 1)  # a Saturday: the Monday after
    datetime.date(2024, 12, 23)
    """
    if days < 1:
        raise ValueError("days must be at least 1")
    day, left = start, days
    while True:
        try:
            working = is_working_day(day)
        except WorkdayCalendarError:
            raise WorkdayCalendarError(day, start, days) from None
        if working:
            left -= 1
            if left == 0:
                return day
        day += dt.timedelta(days=1)
