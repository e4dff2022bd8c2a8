"""Population Based Training (Jaderberg et al., 2017) on Ray Tune's PopulationBasedTraining: every
`perturbation_interval` rounds, a trial in the bottom `quantile_fraction` of the running trials
continues from the model of one in the top fraction ("exploit") with that trial's
hyperparameters perturbed ("explore").

PBT needs a trial that can be checkpointed and resumed with other hyperparameters. A boosting
model can: the booster is saved every `perturbation_interval` rounds (with that round's report,
as Tune's function-trainable checkpoint contract asks: `tune.report(metrics, checkpoint=...)`),
and the trial resumed from it (`tune.get_checkpoint()`) adds its remaining rounds to the same
booster with the new learning rate, depths or sampling. A random forest (trees of one fixed
configuration added in steps), a linear model or a forecaster (one fit each) have no rounds to
resume with new values; the network would need its optimiser state and layer layout kept across
a resume, which its training loop does not do (yet).
"""

from typing import Any

from ray.tune.experiment import Trial
from ray.tune.schedulers import PopulationBasedTraining

from app.tuning.schemas import ParameterSpace, SchedulerConfig
from app.tuning.spaces import tune_domain
from app.tuning.trial import ROUND_KEY

# Algorithms whose trial resumes from a checkpoint with new hyperparameters.
PBT_ALGORITHMS = {"xgboost", "lightgbm"}
# Hyperparameters a resumed trial keeps (not perturbed, only inherited with the cloned model):
# the rounds, as PBT compares trials at the same round.
NOT_PERTURBED = {"n_estimators"}


def perturbed(space: dict[str, ParameterSpace]) -> list[str]:
    """The searched hyperparameters PBT perturbs."""
    return [name for name in space if name not in NOT_PERTURBED]


def hyperparam_mutations(space: dict[str, ParameterSpace]) -> dict[str, Any]:
    """Ray's `hyperparam_mutations` from the sweep's search space: choice and grid values as a
    list (Ray moves to a neighbouring value, or resamples), numeric domains as Tune domains (Ray
    multiplies by 0.8 or 1.2, or resamples). A multiplied value can leave the domain;
    `within_space` brings it back."""
    return {
        name: list(domain.values) if domain.values is not None else tune_domain(domain)
        for name, domain in space.items()
        if name in perturbed(space)
    }


def within_space(space: dict[str, ParameterSpace]) -> Any:
    """Ray's `custom_explore_fn`: a perturbed number clipped to its domain's bounds and rounded
    to its `q` (Ray's multiplication knows neither), so every configuration PBT makes is one the
    space allows and the catalog accepts."""

    def explore(config: dict[str, Any]) -> dict[str, Any]:
        for name, domain in space.items():
            if domain.lower is None or domain.upper is None or name not in config:
                continue
            value = min(max(config[name], domain.lower), domain.upper)
            if domain.q is not None:
                value = round(value / domain.q) * domain.q
                value = min(max(value, domain.lower), domain.upper)
            config[name] = round(value) if domain.type == "randint" else value
        return config

    return explore


class TrackedPBT(PopulationBasedTraining):
    """Ray's PBT, telling `on_exploit(trial_id, round, cloned_trial_id, cloned_round, config)` about
    each exploit so the trials table can say which trial was cloned and into what.

    Ray 2.60 records an exploit only in log files (`pbt_global.txt`) and the trial's experiment
    tag; `_exploit` is where it happens (a private method: re-check it on a Ray upgrade)."""

    def __init__(self, on_exploit: Any, **settings: Any) -> None:
        super().__init__(**settings)
        self._on_exploit = on_exploit

    def _exploit(self, tune_controller: Any, trial: Trial, trial_to_clone: Trial) -> None:
        # The result being decided on (Tune calls its callbacks, the trials table among them,
        # only after the scheduler decided).
        own = self._trial_state[trial].last_result or {}
        super()._exploit(tune_controller, trial, trial_to_clone)
        cloned = self._trial_state[trial_to_clone].last_result or {}
        self._on_exploit(
            trial.trial_id,
            own.get(ROUND_KEY),
            trial_to_clone.trial_id,
            cloned.get(ROUND_KEY),
            dict(trial.config),
        )


def pbt_scheduler(
    settings: SchedulerConfig, space: dict[str, ParameterSpace], on_exploit: Any
) -> TrackedPBT:
    """PBT with time counted in rounds (the trial's own `round`, which a resumed trial
    continues from the cloned model's)."""
    return TrackedPBT(
        on_exploit,
        time_attr=ROUND_KEY,
        perturbation_interval=settings.perturbation_interval,
        burn_in_period=settings.burn_in_period,
        hyperparam_mutations=hyperparam_mutations(space),
        quantile_fraction=settings.quantile_fraction,
        resample_probability=settings.resample_probability,
        synch=settings.synch,
        custom_explore_fn=within_space(space),
        # The pbt_*.txt policy files; the trials table records the exploits.
        log_config=False,
    )

