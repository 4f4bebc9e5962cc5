"""What the robustness analysis perturbs: the run file's ``robustness:`` block.

Example (every field optional; these are the defaults)::

    robustness:
      replications: 1000      # Monte Carlo replications
      seed: 20240101          # same seed, same data → same intervals
      weights: uniform        # off | uniform (each weight × U(1 ± weight_spread), renormalised) | dirichlet
      weight_spread: 0.2
      dirichlet_concentration: 100   # κ of Dirichlet(κ w / Σw): larger = closer to the declared weights
      raters: true            # bootstrap the raters of every item marked by several raters
      aggregation: false      # arithmetic ↔ geometric mean at every node, half of the replications
      missing: false          # zero_flag ↔ reweight for missing indicators, half of the replications
      sensitivity: 500        # replications per input for the first-order indices; 0: none

``robustness: null`` (or ``false``) in a run file switches the analysis off.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class RobustnessConfig(BaseModel):
    """See the module docstring."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    replications: int = Field(default=1000, ge=1, le=1_000_000)
    seed: int = Field(default=20240101, ge=0)
    weights: Literal["off", "uniform", "dirichlet"] = "uniform"
    weight_spread: float = Field(default=0.2, ge=0, lt=1)
    dirichlet_concentration: float = Field(default=100.0, gt=0)
    raters: bool = True
    aggregation: bool = False
    missing: bool = False
    sensitivity: int = Field(default=500, ge=0)

    @classmethod
    def off(cls) -> RobustnessConfig:
        """Nothing perturbed: every replication is the published result."""
        return cls(weights="off", raters=False, aggregation=False, missing=False, sensitivity=0)

    def describe(self) -> str:
        """What is varied, in Chinese: ``指标权重（±20%）、评分人差异``."""
        parts = []
        if self.weights == "uniform":
            parts.append(f"指标权重（±{self.weight_spread:.0%}）")
        elif self.weights == "dirichlet":
            parts.append("指标权重（狄利克雷分布）")
        if self.raters:
            parts.append("评分人差异")
        if self.aggregation:
            parts.append("汇总方法")
        if self.missing:
            parts.append("缺失数据处理方式")
        return "、".join(parts)
