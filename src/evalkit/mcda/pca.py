"""PCA weights (主成分分析权重), as COINr's ``get_PCA()`` computes them (COINr ≥ 1.0,
``R/PCA.R``; Becker et al., *Environ. Model. Softw.* 2021, doi:10.1016/j.envsoft.2021.105208).

With rows ``i`` (schools, units) and columns ``j`` (criteria):

1. rows with a missing value on any criterion are dropped (COINr: ``stats::na.omit``);
2. each column is standardised, ``z_ij = (x_ij − mean_j) / sd_j`` with the sample standard
   deviation (``n − 1``) — ``prcomp(center = TRUE, scale = TRUE)``, i.e. PCA on the
   correlation matrix;
3. the principal components are the right singular vectors of ``Z`` (the eigenvectors of the
   correlation matrix), in order of decreasing variance; component ``k`` has standard deviation
   ``s_k / √(n − 1)`` (``s_k`` the singular values) and explains the share
   ``λ_k / Σ λ`` of the variance (``λ_k = sd_k²``, ``Σ λ`` = the number of criteria);
4. **the weights are the loadings of the first component** (``rotation[, 1]`` in R): a unit
   vector, which can have negative entries and is not scaled to sum 1 — COINr's own choice
   ("the loadings of the first principal component are taken as the weights").

PCA fixes a component's axis only up to its sign (R returns whatever LAPACK gives). Here the sign
is chosen so that the loadings sum to ≥ 0 (most weights positive), which may be the opposite of
the sign R prints. A constant column has no standard deviation and is refused, as ``prcomp``
refuses it ("cannot rescale a constant/zero column to unit variance").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from evalkit.errors import EvalkitError


class PCADataError(EvalkitError):
    """A table PCA cannot take: fewer than two complete rows or criteria, or a constant column."""


@dataclass(frozen=True)
class PCAResult:
    """``weights``: the first component's loadings per criterion; ``sdev``: each component's
    standard deviation; ``variance_share``: the share of the total variance each explains;
    ``loadings``: criteria × components (columns ``PC1``…); ``n_rows`` / ``n_dropped``: the
    complete rows used and the rows dropped for missing values."""

    weights: pd.Series
    sdev: pd.Series
    variance_share: pd.Series
    loadings: pd.DataFrame
    n_rows: int
    n_dropped: int

    @property
    def cumulative_share(self) -> pd.Series:
        return self.variance_share.cumsum()


def pca_weights(frame: pd.DataFrame) -> PCAResult:
    """PCA of the columns of ``frame`` and the first component's loadings as weights (see the
    module docstring).

    Two criteria with correlation r = 2.5 / √6.333 = 0.9934: eigenvalues 1 ± r, so PC1
    explains (1 + r) / 2 = 0.9967 and its loadings are (1, 1) / √2.

    >>> r = pca_weights(pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [2.0, 4.0, 7.0]}))
    >>> r.weights.round(4).tolist(), r.variance_share.round(4).tolist()
    ([0.7071, 0.7071], [0.9967, 0.0033])
    """
    x = frame.astype(float)
    complete = x.dropna()
    n, p = complete.shape
    if p < 2:
        raise PCADataError(f"主成分分析至少需要 2 个指标，只有 {p} 个")
    if n < 2:
        raise PCADataError(f"主成分分析至少需要 2 行完整数据，只有 {n} 行（含缺失值的行不参与）")
    sd = complete.std(ddof=1)
    constant = [str(c) for c in sd.index[~(sd > 0)]]
    if constant:
        raise PCADataError(f"指标 {', '.join(constant)} 各行取值相同，无法标准化，不能做主成分分析")
    z = ((complete - complete.mean()) / sd).to_numpy()
    _u, s, vt = np.linalg.svd(z, full_matrices=False)
    sdev = s / np.sqrt(n - 1)
    k = len(sdev)
    names = [f"PC{i + 1}" for i in range(k)]
    signs = np.where(vt.sum(axis=1) < 0, -1.0, 1.0)
    rotation = (vt * signs[:, None]).T  # criteria × components
    var = sdev**2
    return PCAResult(
        weights=pd.Series(rotation[:, 0], index=frame.columns, name="weight"),
        sdev=pd.Series(sdev, index=names, name="sdev"),
        variance_share=pd.Series(var / var.sum(), index=names, name="variance_share"),
        loadings=pd.DataFrame(rotation, index=frame.columns, columns=names),
        n_rows=n,
        n_dropped=len(x) - n,
    )
