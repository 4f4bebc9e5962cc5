"""AHP (层次分析法): weights from a pairwise comparison matrix (Saaty 1–9 scale, reciprocal).

``A[i, j]`` says how much more important criterion ``i`` is than ``j`` (1 equal, 3 moderately,
5 strongly, 7 very strongly, 9 extremely more important; 2, 4, 6, 8 in between), and
``A[j, i] = 1 / A[i, j]``.

- **Eigenvector method** (Saaty): ``w`` is the principal right eigenvector of ``A`` scaled to
  ``Σ w = 1``; ``λmax`` its eigenvalue (numpy's LAPACK ``eig``).
- **Geometric-mean method** (row geometric means, Crawford & Williams 1985):
  ``w_i ∝ (Π_j A[i, j])^(1/n)``; ``λmax`` is estimated as ``mean_i((A w)_i / w_i)``.
- ``CI = (λmax − n) / (n − 1)``, ``CR = CI / RI(n)`` with Saaty's random index
  (:data:`RANDOM_INDEX`); matrices of order 1 and 2 are always consistent (``CR = 0``).
  ``CR ≥ 0.1`` is refused (:class:`InconsistentMatrix`).
- The **most inconsistent pair** is the judgement furthest from the ratio the weights imply:
  the ``(i, j)`` maximising ``|ln(A[i, j] · w_j / w_i)|``.
- Several experts: :func:`combine_experts` takes the element-wise geometric mean of their
  matrices (which stays reciprocal), then the weights are derived as for one matrix.

>>> r = ahp_weights([[1, 3], [1/3, 1]], ["a", "b"])
>>> [round(x, 2) for x in r.weights], r.cr
([0.75, 0.25], 0.0)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from evalkit.errors import EvalkitError

#: Saaty's random consistency index RI(n) for n = 1…15 (Saaty, *The Analytic Hierarchy Process*,
#: McGraw-Hill 1980; the values used in Chinese textbooks: 0, 0, 0.58, 0.90, 1.12, 1.24, 1.32,
#: 1.41, 1.45, 1.49, then 1.51, 1.48, 1.56, 1.57, 1.59).
RANDOM_INDEX: dict[int, float] = {
    1: 0.0, 2: 0.0, 3: 0.58, 4: 0.90, 5: 1.12, 6: 1.24, 7: 1.32, 8: 1.41, 9: 1.45, 10: 1.49,
    11: 1.51, 12: 1.48, 13: 1.56, 14: 1.57, 15: 1.59,
}

#: the largest CR accepted (exclusive): CR ≥ 0.1 is refused
CR_LIMIT = 0.1

Method = Literal["eigenvector", "geometric"]


class MatrixError(EvalkitError):
    """A matrix that is not a valid pairwise comparison matrix (Chinese message)."""


class InconsistentMatrix(EvalkitError):
    """CR ≥ 0.1: the judgements contradict each other too much to give weights."""

    def __init__(self, result: AHPResult):
        self.result = result
        a, b = result.worst_pair
        super().__init__(
            f"判断矩阵一致性比率 CR = {result.cr:.4f} ≥ {CR_LIMIT}，不能通过一致性检验；"
            f"最不一致的是 {a} 与 {b} 的比较（填写 {result.worst_value:g}，按权重应约为 {result.implied_value:.2f}）"
        )


@dataclass(frozen=True)
class AHPResult:
    """Weights (in the order of ``criteria``) and the consistency figures."""

    criteria: list[str]
    weights: list[float]
    lambda_max: float
    ci: float
    ri: float
    cr: float
    method: str
    worst_pair: tuple[str, str]
    worst_value: float
    implied_value: float
    n_experts: int = 1
    matrix: list[list[float]] = field(default_factory=list)

    @property
    def consistent(self) -> bool:
        return self.cr < CR_LIMIT

    def as_dict(self) -> dict[str, float]:
        return dict(zip(self.criteria, self.weights, strict=True))

    def to_meta(self) -> dict:
        """A JSON-able record (for ``Results.meta``)."""
        return {
            "method": "ahp", "ahp_method": self.method, "weights": self.as_dict(),
            "lambda_max": self.lambda_max, "ci": self.ci, "ri": self.ri, "cr": self.cr,
            "n_experts": self.n_experts, "worst_pair": list(self.worst_pair),
        }


def check_matrix(matrix: Sequence[Sequence[float]] | np.ndarray, criteria: Sequence[str] | None = None) -> np.ndarray:
    """The matrix as a float array; raises :class:`MatrixError` unless square, positive, with
    ones on the diagonal and reciprocal (``A[j, i] · A[i, j] = 1`` within 1 %, so ``1/3``
    written as ``0.33`` passes)."""
    try:
        a = np.asarray(matrix, dtype=float)
    except (TypeError, ValueError):
        raise MatrixError("判断矩阵含有非数字的值") from None
    if a.ndim != 2 or a.shape[0] != a.shape[1] or a.shape[0] == 0:
        raise MatrixError(f"判断矩阵应为方阵，实际为 {' × '.join(map(str, a.shape))}")
    names = list(criteria) if criteria is not None else [str(i + 1) for i in range(len(a))]
    if len(names) != len(a):
        raise MatrixError(f"判断矩阵为 {len(a)} 阶，但给出了 {len(names)} 个指标")
    if not np.isfinite(a).all() or (a <= 0).any():
        i, j = np.argwhere(~np.isfinite(a) | (a <= 0))[0]
        raise MatrixError(f"判断矩阵 {names[i]} 对 {names[j]} 的值 {a[i, j]:g} 应为正数")
    bad_diag = np.flatnonzero(np.abs(np.diag(a) - 1) > 1e-9)
    if len(bad_diag):
        k = bad_diag[0]
        raise MatrixError(f"判断矩阵对角线 {names[k]} 对 {names[k]} 应为 1，实际为 {a[k, k]:g}")
    product = a * a.T
    bad = np.argwhere(np.abs(product - 1) > 0.01)
    if len(bad):
        i, j = bad[0]
        raise MatrixError(
            f"判断矩阵不互反：{names[i]} 对 {names[j]} 为 {a[i, j]:g}，{names[j]} 对 {names[i]} 为 {a[j, i]:g}"
            f"（应为 {1 / a[i, j]:.4g}）"
        )
    return a


def combine_experts(matrices: Sequence[Sequence[Sequence[float]] | np.ndarray]) -> np.ndarray:
    """Element-wise geometric mean of several experts' matrices: ``Ā[i, j] = (Π_k A_k[i, j])^(1/K)``.

    The result is reciprocal whenever each input is (Aczél & Saaty 1983).

    >>> combine_experts([[[1, 4], [1/4, 1]], [[1, 1], [1, 1]]]).tolist()
    [[1.0, 2.0], [0.5, 1.0]]
    """
    stack = np.stack([np.asarray(m, dtype=float) for m in matrices])
    return np.exp(np.log(stack).mean(axis=0))


def random_index(n: int) -> float:
    if n not in RANDOM_INDEX:
        raise MatrixError(f"判断矩阵阶数 {n} 超出 Saaty 随机一致性指标表（1–15 阶）")
    return RANDOM_INDEX[n]


def ahp_weights(
    matrix: Sequence[Sequence[float]] | np.ndarray,
    criteria: Sequence[str] | None = None,
    *,
    method: Method = "eigenvector",
    n_experts: int = 1,
) -> AHPResult:
    """Weights, λmax, CI, RI, CR and the most inconsistent pair of one comparison matrix.

    Does not refuse an inconsistent matrix: check ``result.consistent`` or call
    :func:`require_consistent`.
    """
    a = check_matrix(matrix, criteria)
    n = len(a)
    names = list(criteria) if criteria is not None else [str(i + 1) for i in range(n)]
    if method == "eigenvector":
        values, vectors = np.linalg.eig(a)
        k = int(np.argmax(values.real))
        lam = float(values[k].real)
        w = np.abs(vectors[:, k].real)
    elif method == "geometric":
        w = np.exp(np.log(a).mean(axis=1))
        w = w / w.sum()
        lam = float(np.mean((a @ w) / w))
    else:
        raise MatrixError(f"未知的 AHP 方法“{method}”（eigenvector 或 geometric）")
    w = w / w.sum()
    ri = random_index(n)
    ci = (lam - n) / (n - 1) if n > 2 else 0.0
    ci = max(ci, 0.0) if abs(ci) < 1e-12 else ci
    cr = ci / ri if ri > 0 else 0.0
    ratio = a * w[None, :] / w[:, None]  # A[i, j] · w_j / w_i: 1 for a perfectly consistent matrix
    upper_i, upper_j = np.triu_indices(n, 1)
    if n > 1:
        k_worst = int(np.argmax(np.abs(np.log(ratio[upper_i, upper_j]))))
        i, j = int(upper_i[k_worst]), int(upper_j[k_worst])
    else:
        i = j = 0
    return AHPResult(
        criteria=names, weights=[float(x) for x in w], lambda_max=lam, ci=float(ci), ri=ri,
        cr=float(cr), method=method, worst_pair=(names[i], names[j]), worst_value=float(a[i, j]),
        implied_value=float(w[i] / w[j]), n_experts=n_experts, matrix=a.tolist(),
    )


def require_consistent(result: AHPResult) -> AHPResult:
    """``result`` if ``CR < 0.1``; else raise :class:`InconsistentMatrix`."""
    if not result.consistent:
        raise InconsistentMatrix(result)
    return result
