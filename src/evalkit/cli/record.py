"""``evalkit publish`` and ``evalkit replay``: the record of a published county-year.

::

    evalkit publish outputs/2024 --wenhao "青教体发〔2024〕18号"   # seal the year after its 通报
    evalkit replay outputs/2024                                  # regenerate it and compare

See :mod:`evalkit.planner.seal` and :mod:`evalkit.planner.replay`.
"""

from __future__ import annotations

import argparse

from evalkit.planner.replay import replay
from evalkit.planner.seal import describe, publish


def cli_publish(args: argparse.Namespace) -> int:
    """Seal the year's folder; print what was sealed. A year already sealed raises
    :class:`~evalkit.planner.seal.SealError` (printed by :mod:`evalkit.cli.guard`, exit 1)."""
    seal = publish(args.folder, wenhao=args.wenhao)
    print(f"{describe(seal)}：已封存 {len(seal['inputs'])} 个输入文件和 {len(seal['outputs'])} 个结果文件的摘要"
          " / sealed")
    return 0


def cli_replay(args: argparse.Namespace) -> int:
    """Replay the sealed year; print 一致 (exit 0) or each difference (exit 1)."""
    diffs = replay(args.folder, keep=args.keep)
    if diffs:
        print("\n".join(f"不一致：{d}" for d in diffs))
        return 1
    print("一致")
    return 0
