"""What the report notebooks show: comparisons, strengths and weaknesses, trends, what-if.

Functions take a :class:`~evalkit.results.Results` (all years up to the report's year) and
return DataFrames with English column names; :mod:`evalkit.publish.present` turns them into
HTML with Chinese headers. Modules:

- :mod:`~evalkit.analysis.school` — one school, one year (headline, areas against the county,
  strengths and weaknesses, points lost, bonus and veto details);
- :mod:`~evalkit.analysis.county` — the county in one year (grades, distributions, groups,
  improvers, vetoes, systemic weaknesses, data-quality notes);
- :mod:`~evalkit.analysis.trend` — one school over the years;
- :mod:`~evalkit.analysis.comparable` — comparing years scored under different frameworks
  (score rate or common indicators, and the sentence saying so);
- :mod:`~evalkit.analysis.whatif` — re-weighting the areas;
- :mod:`~evalkit.analysis.weights` — the weights derived by AHP, entropy or CRITIC;
- :mod:`~evalkit.analysis.examples` — a tiny hand-made Results for examples and tests.

>>> from evalkit.analysis import example_results, headline
>>> headline(example_results(), "003", 2024).grade
'差'
"""

from __future__ import annotations

from evalkit.analysis.comparable import comparison_basis, comparison_note, framework_change, score_rate
from evalkit.analysis.county import (
    area_matrix,
    area_shares,
    area_summary,
    biggest_changes,
    changes,
    grade_distribution,
    group_comparison,
    indicator_shares,
    missing_reports,
    ranking,
    read_intake_notes,
    scoring_notes,
    systemic_weaknesses,
    veto_schools,
)
from evalkit.analysis.examples import example_results
from evalkit.analysis.history import changes_note, history_sentence, history_status, new_schools, start_year
from evalkit.analysis.inputs import parse_paths, report_inputs
from evalkit.analysis.school import (
    Headline,
    area_comparison,
    bonus_details,
    headline,
    indicator_comparison,
    indicator_table,
    points_lost,
    public_view,
    strengths_weaknesses,
    veto_details,
)
from evalkit.analysis.trend import area_trend, has_history, persistent_weaknesses, school_trend, trend_notes
from evalkit.analysis.weights import uses_derived_weights, weight_methods
from evalkit.analysis.whatif import area_weights, reweight_ranking

__all__ = [
    "Headline",
    "area_comparison",
    "area_matrix",
    "area_shares",
    "area_summary",
    "area_trend",
    "area_weights",
    "biggest_changes",
    "bonus_details",
    "changes",
    "changes_note",
    "comparison_basis",
    "comparison_note",
    "example_results",
    "framework_change",
    "grade_distribution",
    "group_comparison",
    "has_history",
    "headline",
    "history_sentence",
    "history_status",
    "indicator_comparison",
    "indicator_shares",
    "indicator_table",
    "missing_reports",
    "new_schools",
    "parse_paths",
    "persistent_weaknesses",
    "points_lost",
    "public_view",
    "ranking",
    "read_intake_notes",
    "report_inputs",
    "reweight_ranking",
    "school_trend",
    "score_rate",
    "scoring_notes",
    "start_year",
    "strengths_weaknesses",
    "systemic_weaknesses",
    "trend_notes",
    "uses_derived_weights",
    "veto_details",
    "veto_schools",
    "weight_methods",
]
