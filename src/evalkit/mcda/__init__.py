"""Multi-criteria methods evaluators can defend: where weights come from and how children combine.

Each module is one method, a pure numpy/pandas function vectorised over schools (rows):

- :mod:`evalkit.mcda.ahp` — AHP (层次分析法) weights from a pairwise comparison matrix, with
  λmax, CI and CR (Saaty's random index) and the most inconsistent pair;
- :mod:`evalkit.mcda.objective` — data-driven weights: entropy (熵权法) and CRITIC;
- :mod:`evalkit.mcda.pca` — PCA weights (主成分分析): the first component's loadings, as COINr;
- :mod:`evalkit.mcda.topsis` — TOPSIS closeness to the ideal;
- :mod:`evalkit.mcda.fuzzy` — fuzzy comprehensive evaluation (模糊综合评价);
- :mod:`evalkit.mcda.treat` — the COINr / JRC-OECD data steps: min-max over the data, z-scores,
  ranks, winsorisation by skew and kurtosis, log fallback, imputation by group.

The framework uses them through :mod:`evalkit.scoring.tree`; the ``evalkit weights`` command
through :mod:`evalkit.cli.weights`.
"""
