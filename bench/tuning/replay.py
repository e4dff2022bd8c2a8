"""Replay a FIFO sweep's learning curves through ASHA's rule, offline, for many settings at once.

A FIFO sweep runs every trial to the end, so its trials table (`GET /api/v1/ml/tuning/:id`,
saved as JSON) holds each trial's validation metric at every round. Feeding those curves, in the
sweep's trial order and `--concurrency` at a time, to Ray Tune's own `AsyncHyperBandScheduler`
(the decisions are Ray's code; only the clock is simulated, from each trial's seconds per round)
tells what ASHA with a given grace period, reduction factor and number of brackets would have
stopped, how long it would have taken as a share of FIFO's time, and how far its best completed
trial would be from FIFO's best. It is how bench/tuning's ASHA settings were chosen (README).

    ml-service/.venv/bin/python bench/tuning/replay.py fifo-sweep.json

Brackets above one are assigned at random by Ray (`np.random`), so those settings are replayed
`--repeats` times with different seeds and the worst gap is shown beside the median.
"""

import argparse
import heapq
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from ray.tune.schedulers import AsyncHyperBandScheduler, TrialScheduler

# Seconds a trial takes to start besides its rounds (process reused; data handed over).
START_SECONDS = 0.3


@dataclass
class Curve:
    trial_id: str
    values: dict[int, float]  # round -> the sweep's metric
    seconds_per_round: float


@dataclass(order=True)
class _Report:
    at: float
    order: int
    trial: "Curve" = field(compare=False)
    round: int = field(compare=False)


class _Trial:  # what the scheduler reads of a trial
    def __init__(self, trial_id: str) -> None:
        self.trial_id = trial_id


def load_curves(path: Path) -> tuple[list[Curve], str, str]:
    sweep = json.loads(path.read_text())
    if sweep["scheduler"] != "fifo":
        raise SystemExit(f"{path}: a fifo sweep is needed (every trial run to the end)")
    histories = {history["trial_id"]: history for history in sweep["histories"]}
    curves = []
    for row in sorted(sweep["trials"], key=lambda trial: trial["trial_id"]):
        history = histories[row["trial_id"]]
        rounds = max(1, row["rounds"])
        curves.append(
            Curve(
                row["trial_id"],
                dict(zip(history["rounds"], history["values"], strict=True)),
                (row["duration_seconds"] or rounds) / rounds,
            )
        )
    return curves, sweep["metric"], sweep["mode"]


def replay(
    curves: list[Curve],
    metric: str,
    mode: str,
    grace_period: int,
    reduction_factor: float,
    brackets: int,
    concurrency: int,
    seed: int,
) -> tuple[float, int, float]:
    """(simulated seconds, rounds run, best metric among trials that ran every round)."""
    np.random.seed(seed)  # Ray assigns brackets with np.random
    rounds = max(max(curve.values) for curve in curves)
    # As the product builds it (app/tuning/sweep.py): one time step per round plus the final
    # report; a trial reports every round.
    scheduler = AsyncHyperBandScheduler(
        metric=metric,
        mode=mode,
        max_t=rounds + 1,
        grace_period=grace_period,
        reduction_factor=reduction_factor,
        brackets=brackets,
    )
    waiting = list(curves)
    reports: list[_Report] = []
    order = 0
    clock = 0.0
    ran = 0
    finals: list[float] = []

    def start(now: float) -> None:
        nonlocal order
        curve = waiting.pop(0)
        scheduler.on_trial_add(None, _Trial(curve.trial_id))  # type: ignore[arg-type]
        heapq.heappush(reports, _Report(now + START_SECONDS + curve.seconds_per_round, order, curve, 1))
        order += 1

    for _ in range(min(concurrency, len(waiting))):
        start(0.0)
    while reports:
        report = heapq.heappop(reports)
        clock = report.at
        curve, done = report.trial, report.round
        value = curve.values[done]
        action = scheduler.on_trial_result(
            None,  # type: ignore[arg-type]
            _Trial(curve.trial_id),  # type: ignore[arg-type]
            {"training_iteration": done, metric: value},
        )
        if done < rounds and action == TrialScheduler.CONTINUE:
            heapq.heappush(
                reports, _Report(clock + curve.seconds_per_round, order, curve, done + 1)
            )
            order += 1
            continue
        ran += done
        if done == rounds:
            finals.append(value)
        if waiting:
            start(clock)
    best = (min if mode == "min" else max)(finals) if finals else float("nan")
    return clock, ran, best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sweep", type=Path, help="GET /api/v1/ml/tuning/:id of a fifo sweep")
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--grace-periods", type=int, nargs="+", default=[5, 10, 20, 30, 40])
    parser.add_argument("--reduction-factors", type=float, nargs="+", default=[2, 3, 4])
    parser.add_argument("--brackets", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeats", type=int, default=20, help="seeds when brackets > 1")
    args = parser.parse_args(argv)
    curves, metric, mode = load_curves(args.sweep)
    rounds = max(max(curve.values) for curve in curves)
    fifo = [curve.values[rounds] for curve in curves if rounds in curve.values]
    fifo_best = min(fifo) if mode == "min" else max(fifo)
    fifo_seconds, _, _ = replay(curves, metric, mode, rounds + 1, 2, 1, args.concurrency, 0)
    print(f"{len(curves)} trials, {rounds} rounds, fifo best {metric} {fifo_best:.5f}")
    print("brackets  reduction  grace   time share (median, max)   gap to fifo (median, max)")
    for brackets in args.brackets:
        for factor in args.reduction_factors:
            for grace in args.grace_periods:
                runs = [
                    replay(curves, metric, mode, grace, factor, brackets, args.concurrency, seed)
                    for seed in range(args.repeats if brackets > 1 else 1)
                ]
                shares = np.array([seconds / fifo_seconds for seconds, _, _ in runs])
                gaps = np.abs(np.array([best for _, _, best in runs]) - fifo_best)
                print(
                    f"{brackets:8d}  {factor:9g}  {grace:5d}   "
                    f"{np.median(shares):10.2f} {shares.max():6.2f}           "
                    f"{np.median(gaps):10.4f} {gaps.max():7.4f}"
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
