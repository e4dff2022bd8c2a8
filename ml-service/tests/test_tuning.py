"""Tuning sweeps through the API, on the real Ray Tune, XGBoost and MLflow (the demo churn
table, 5,000 rows)."""

import time

import pytest
import ray
from fastapi.testclient import TestClient
from mlflow.tracking import MlflowClient

from app.config import Settings
from tests.conftest import churn_config, tenant_headers, wait_for_status

ENDED = {"completed", "failed", "cancelled"}


# A forecasting sweep of the demo daily revenue (its last 14 days are the test tail).
REVENUE = {
    "algorithm": "arima",
    "task_type": "forecasting",
    "target_column": "revenue",
    "dataset": {"source": "table", "table": "ml_features.daily_revenue"},
    "time_column": "date",
    "horizon": 14,
    "frequency": "D",
    "hyperparameters": {},
    "split": {"strategy": "random", "test_size": 0.2, "random_state": 42},
}


def sweep_config(**overrides: object) -> dict:
    config = churn_config(name="churn-sweep", hyperparameters={"n_estimators": 30})
    config.update(overrides)
    return config


def submit(client: TestClient, config: dict, tenant: str = "acme-corp") -> dict:
    response = client.post("/api/v1/tuning", json=config, headers=tenant_headers(tenant))
    assert response.status_code == 202, response.text
    return response.json()


def wait_for(
    client: TestClient, sweep_id: str, statuses: set[str], timeout: float = 240
) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        sweep = client.get(f"/api/v1/tuning/{sweep_id}", headers=tenant_headers()).json()
        if sweep["status"] in statuses:
            return sweep
        if time.monotonic() > deadline:
            raise AssertionError(f"sweep {sweep_id} still {sweep['status']}: {sweep}")
        time.sleep(0.5)


def test_a_grid_over_three_depths_runs_exactly_three_trials(
    client: TestClient, settings: Settings
) -> None:
    sweep = submit(
        client,
        sweep_config(
            search="grid",
            search_space={"max_depth": {"type": "grid", "values": [2, 4, 6]}},
        ),
    )
    assert sweep["sweep_id"].startswith("sweep-")
    assert (sweep["metric"], sweep["mode"]) == ("log_loss", "min")
    done = wait_for(client, sweep["sweep_id"], ENDED)
    assert done["status"] == "completed", done["error"]
    trials = done["trials"]
    assert sorted(trial["params"]["max_depth"] for trial in trials) == [2, 4, 6]
    assert {trial["status"] for trial in trials} == {"completed"}
    assert {trial["rounds"] for trial in trials} == {30}
    # The final validation metrics of the evaluation, not only the per-round ones.
    assert {"log_loss", "auc_roc", "accuracy", "f1_score"} <= set(trials[0]["metrics"])
    best = min(trials, key=lambda trial: trial["metrics"]["log_loss"])
    assert done["best_trial"]["trial_id"] == best["trial_id"]
    histories = {history["trial_id"]: history for history in done["histories"]}
    assert histories[best["trial_id"]]["rounds"] == list(range(1, 31))
    assert done["progress"]["trials_completed"] == 3
    # One MLflow parent run with a child run per trial.
    mlflow = MlflowClient(settings.tracking_uri)
    parent = mlflow.get_run(done["mlflow_run_id"])
    assert parent.info.status == "FINISHED"
    assert parent.data.tags["best_trial_id"] == best["trial_id"]
    children = mlflow.search_runs(
        [parent.info.experiment_id],
        filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'",
    )
    assert len(children) == 3
    child = next(run for run in children if run.data.tags["trial_id"] == best["trial_id"])
    assert len(mlflow.get_metric_history(child.info.run_id, "log_loss_by_round")) == 30
    # The generic jobs API shows the same job, under its kind.
    job = client.get(f"/api/v1/jobs/{sweep['sweep_id']}", headers=tenant_headers()).json()
    assert job["kind"] == "tuning"
    # The charts, built from the trials table: each as its Vega-Lite spec and as a PNG.
    charts_url = f"/api/v1/tuning/{sweep['sweep_id']}/charts"
    listed = client.get(charts_url, headers=tenant_headers()).json()
    assert [chart["name"] for chart in listed["charts"]] == [
        "optimisation_history",
        "parallel_coordinates",
        "parameter_importance",
        "learning_curves",
    ]
    importance = client.get(f"{charts_url}/parameter_importance", headers=tenant_headers())
    assert importance.json()["data"]["values"] == [{"parameter": "max_depth", "importance": 1.0}]
    history = client.get(f"{charts_url}/optimisation_history", headers=tenant_headers()).json()
    assert min(point["best"] for point in history["data"]["values"]) == pytest.approx(
        best["metrics"]["log_loss"], rel=1e-5
    )
    png = client.get(
        f"{charts_url}/learning_curves", headers=tenant_headers(Accept="image/png")
    )
    assert png.headers["content-type"] == "image/png"
    assert png.content.startswith(b"\x89PNG")
    assert client.get(f"{charts_url}/roc_curve", headers=tenant_headers()).status_code == 404

    # Train-best: a training job of the best trial on the full training split, registered.
    response = client.post(
        f"/api/v1/tuning/{sweep['sweep_id']}/train-best",
        json={"register": {"model_name": "churn-tuned"}},
        headers=tenant_headers(**{"X-Actor": "ana"}),
    )
    assert response.status_code == 202, response.text
    assert response.json()["tuned_by"] == {
        "sweep_id": sweep["sweep_id"],
        "trial_id": best["trial_id"],
    }
    trained = wait_for_status(client, response.json()["job_id"], ENDED)
    assert trained["status"] == "completed", trained["error"]
    # Evaluated on the untouched test split: 20 % of 5,000 rows.
    assert trained["data_summary"]["test_samples"] == 1000
    registered = trained["registered_version"]
    assert registered["model_name"] == "churn-tuned"
    version = client.get(
        f"/api/v1/registry/models/churn-tuned/versions/{registered['version']}",
        headers=tenant_headers(),
    ).json()
    assert version["job_id"] == trained["job_id"]
    assert version["tags"]["sweep_id"] == sweep["sweep_id"]
    assert version["tags"]["trial_id"] == best["trial_id"]
    assert f'"max_depth": {best["params"]["max_depth"]}' in version["tags"]["hyperparameters"]
    run = mlflow.get_run(trained["mlflow_run_id"])
    assert run.data.tags["sweep_id"] == sweep["sweep_id"]
    assert run.data.params["max_depth"] == str(best["params"]["max_depth"])


def test_asha_stops_the_weak_trials_early(client: TestClient) -> None:
    sweep = submit(
        client,
        sweep_config(
            hyperparameters={"n_estimators": 60},
            search="random",
            num_samples=8,
            max_concurrent_trials=2,
            search_space={"learning_rate": {"type": "loguniform", "lower": 0.001, "upper": 0.5}},
            scheduler={"type": "asha", "grace_period": 3, "reduction_factor": 3},
        ),
    )
    done = wait_for(client, sweep["sweep_id"], ENDED)
    assert done["status"] == "completed", done["error"]
    statuses = [trial["status"] for trial in done["trials"]]
    assert len(statuses) == 8
    stopped = [trial for trial in done["trials"] if trial["status"] == "stopped_early"]
    assert stopped, statuses
    assert all(trial["rounds"] < 60 for trial in stopped)
    assert "completed" in statuses
    assert done["progress"]["trials_stopped_early"] == len(stopped)
    # The learning curves mark each stopped trial at the round it was cut.
    curves = client.get(
        f"/api/v1/tuning/{sweep['sweep_id']}/charts/learning_curves", headers=tenant_headers()
    ).json()
    cuts = {point["trial_id"]: point["round"] for point in curves["layer"][1]["data"]["values"]}
    assert cuts == {trial["trial_id"]: trial["rounds"] for trial in stopped}


def test_pbt_clones_the_better_trial_and_resumes_from_its_checkpoint(
    client: TestClient, settings: Settings
) -> None:
    # Two trials, a learning rate far too small and a good one: at the perturbation step (round
    # 4 of 6) the slow one is in the bottom half and continues from the fast one's booster.
    # (LightGBM's resume: tests/test_tuning_pbt.py.)
    sweep = submit(
        client,
        sweep_config(
            hyperparameters={"n_estimators": 6},
            search="grid",
            search_space={"learning_rate": {"type": "grid", "values": [0.002, 0.5]}},
            max_concurrent_trials=2,
            scheduler={"type": "pbt", "perturbation_interval": 4, "quantile_fraction": 0.5},
        ),
    )
    done = wait_for(client, sweep["sweep_id"], ENDED)
    assert done["status"] == "completed", done["error"]
    assert done["scheduler"] == "pbt"
    trials = {trial["trial_id"]: trial for trial in done["trials"]}
    assert [trial["status"] for trial in trials.values()] == ["completed", "completed"]
    assert {trial["rounds"] for trial in trials.values()} == {6}
    exploited = [trial for trial in trials.values() if trial["perturbations"]]
    assert exploited, trials
    for trial in exploited:
        first = trial["perturbations"][0]
        assert first["cloned_trial_id"] in trials and first["cloned_trial_id"] != trial["trial_id"]
        assert first["round"] % 4 == 0 and first["cloned_round"] % 4 == 0
        # The row's params are the last configuration the trial continued with.
        assert trial["params"] == trial["perturbations"][-1]["params"]
        # Resumed from the checkpoint: the rounds after the exploit go on from the cloned
        # booster's round, they do not start again at 1.
        history = next(h for h in done["histories"] if h["trial_id"] == trial["trial_id"])
        rounds = history["rounds"]
        assert rounds.count(1) == 1
        cut = rounds.index(first["round"]) + 1
        assert rounds[cut] == first["cloned_round"] + 1
        assert rounds[-1] == 6
    # The weak start was cloned: its final loss is near the strong trial's, not stuck where a
    # learning rate of 0.002 leaves it after 6 rounds (~0.68).
    assert all(trial["metrics"]["log_loss"] < 0.6 for trial in trials.values()), trials
    # Its MLflow child run logs the final params and says it was exploited.
    mlflow = MlflowClient(settings.tracking_uri)
    parent = mlflow.get_run(done["mlflow_run_id"])
    children = mlflow.search_runs(
        [parent.info.experiment_id],
        filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'",
    )
    child = next(run for run in children if run.data.tags["trial_id"] == exploited[0]["trial_id"])
    assert child.data.tags["perturbations"] == str(len(exploited[0]["perturbations"]))
    assert child.data.params["learning_rate"] == str(exploited[0]["params"]["learning_rate"])
    # Tune's experiment folder with the pbt checkpoints is gone once the sweep has ended.
    assert not (settings.ray_results_dir / sweep["sweep_id"]).exists()


def test_lightgbm_and_the_network_are_tuned_round_by_round(client: TestClient) -> None:
    boosted = submit(
        client,
        sweep_config(
            algorithm="lightgbm",
            hyperparameters={"n_estimators": 20},
            num_samples=2,
            metric="auc_roc",
        ),
    )
    # List-valued hidden_layers searched as a choice over lists; the two sweeps run at once, and
    # each sweep's trials must run its own algorithm on its own data.
    network = submit(
        client,
        sweep_config(
            algorithm="neural_network",
            hyperparameters={"epochs": 4},
            search="grid",
            search_space={"hidden_layers": {"type": "grid", "values": [[8], [16, 8]]}},
        ),
    )
    done = wait_for(client, boosted["sweep_id"], ENDED)
    assert done["status"] == "completed", done["error"]
    assert [trial["rounds"] for trial in done["trials"]] == [20, 20]
    assert set(done["trials"][0]["params"]) == {
        "learning_rate", "num_leaves", "min_child_samples", "subsample", "colsample_bytree",
    }  # fmt: skip
    history = done["histories"][0]
    assert history["rounds"] == list(range(1, 21))
    assert all(0.5 < value <= 1 for value in history["values"])
    done = wait_for(client, network["sweep_id"], ENDED)
    assert done["status"] == "completed", done["error"]
    assert sorted(trial["params"]["hidden_layers"] for trial in done["trials"]) == [[8], [16, 8]]
    assert {trial["rounds"] for trial in done["trials"]} == {4}
    # The epoch loss of a classifier is its validation log_loss, round by round.
    assert all(len(history["values"]) == 4 for history in done["histories"])
    assert all("log_loss" in trial["metrics"] for trial in done["trials"])


def test_a_sweep_starts_from_a_training_job_or_a_registered_version(client: TestClient) -> None:
    base = churn_config(
        name="churn-base", hyperparameters={"n_estimators": 8, "max_depth": 4, "subsample": 0.9}
    )
    job = client.post("/api/v1/training/submit", json=base, headers=tenant_headers()).json()
    assert wait_for_status(client, job["job_id"], ENDED)["status"] == "completed"
    response = client.post(
        "/api/v1/tuning/from-base",
        json={
            "base_job_id": job["job_id"],
            "search": "grid",
            "search_space": {"max_depth": {"type": "grid", "values": [2, 3]}},
        },
        headers=tenant_headers(),
    )
    assert response.status_code == 202, response.text
    sweep = response.json()
    assert sweep["base"] == {"job_id": job["job_id"], "model_name": None, "version": None}
    assert (sweep["name"], sweep["algorithm"], sweep["metric"]) == (
        "churn-base-sweep",
        "xgboost",
        "log_loss",
    )
    done = wait_for(client, sweep["sweep_id"], ENDED)
    assert done["status"] == "completed", done["error"]
    # The base's n_estimators stays fixed; its max_depth gives way to the searched one.
    assert sorted(trial["params"]["max_depth"] for trial in done["trials"]) == [2, 3]
    assert {trial["rounds"] for trial in done["trials"]} == {8}

    registered = client.post(
        "/api/v1/registry/models/churn-base/versions",
        json={"job_id": job["job_id"]},
        headers=tenant_headers(),
    )
    assert registered.status_code == 201, registered.text
    version = registered.json()["version"]
    response = client.post(
        "/api/v1/tuning/from-base",
        json={
            "base_model": {"model_name": "churn-base", "version": version},
            "name": "churn-from-v",
            "num_samples": 1,
            "hyperparameters": {"n_estimators": 3},
        },
        headers=tenant_headers(),
    )
    assert response.status_code == 202, response.text
    assert response.json()["base"] == {
        "job_id": job["job_id"],
        "model_name": "churn-base",
        "version": version,
    }
    done = wait_for(client, response.json()["sweep_id"], ENDED)
    assert done["status"] == "completed", done["error"]
    # The default space (max_depth and subsample among it) on top of the base; 3 rounds.
    assert {"max_depth", "subsample", "learning_rate"} <= set(done["trials"][0]["params"])
    assert done["trials"][0]["rounds"] == 3

    refusals = [
        ({"base_job_id": "train-0123456789ab"}, "base_job_id", "does not exist"),
        ({"base_model": {"model_name": "churn-base", "version": "99"}}, "base_model",
         "has no version 99"),
    ]  # fmt: skip
    for body, field, words in refusals:
        refused = client.post("/api/v1/tuning/from-base", json=body, headers=tenant_headers())
        assert refused.status_code == 422, refused.text
        errors = {error["field"]: error["message"] for error in refused.json()["errors"]}
        assert words in errors[field], errors
    # Another tenant's job is no base.
    theirs = client.post(
        "/api/v1/tuning/from-base",
        json={"base_job_id": job["job_id"]},
        headers=tenant_headers("globex"),
    )
    assert theirs.status_code == 422
    both = client.post(
        "/api/v1/tuning/from-base",
        json={"base_job_id": job["job_id"], "base_model": {"model_name": "x", "version": "1"}},
        headers=tenant_headers(),
    )
    assert both.status_code == 422
    assert "exactly one of base_job_id and base_model" in both.text


def test_the_same_seed_picks_the_same_trials_and_another_tenant_sees_none(
    client: TestClient,
) -> None:
    # TPE past its 10 random start-up trials, two at a time: the model's picks must not depend
    # on which of two running trials ended first.
    config = sweep_config(
        hyperparameters={"n_estimators": 5},
        search="tpe",
        num_samples=12,
        max_concurrent_trials=2,
        random_state=7,
    )
    first = wait_for(client, submit(client, config)["sweep_id"], ENDED)
    second = wait_for(client, submit(client, config)["sweep_id"], ENDED)

    def picks(sweep: dict) -> list:
        return sorted(sorted(trial["params"].items()) for trial in sweep["trials"])

    # Five continuous parameters: unseeded sampling would never repeat them.
    assert picks(first) == picks(second)
    # Default space: XGBoost's five parameters.
    assert set(first["trials"][0]["params"]) == {
        "learning_rate",
        "max_depth",
        "subsample",
        "colsample_bytree",
        "min_child_weight",
    }
    other = tenant_headers("globex")
    assert client.get(f"/api/v1/tuning/{first['sweep_id']}", headers=other).status_code == 404
    assert client.get("/api/v1/tuning", headers=other).json() == []
    assert client.delete(f"/api/v1/tuning/{first['sweep_id']}", headers=other).status_code == 404
    listed = client.get("/api/v1/tuning?status=completed", headers=tenant_headers()).json()
    assert first["sweep_id"] in {sweep["sweep_id"] for sweep in listed}


def test_patch_changes_the_trials_running_at_once_and_in_all(client: TestClient) -> None:
    sweep = submit(
        client,
        sweep_config(
            hyperparameters={"n_estimators": 2000, "learning_rate": 0.01},
            num_samples=1,
            max_concurrent_trials=1,
            search_space={"max_depth": {"type": "randint", "lower": 6, "upper": 10}},
        ),
    )
    url = f"/api/v1/tuning/{sweep['sweep_id']}"
    deadline = time.monotonic() + 180
    while True:
        progress = client.get(url, headers=tenant_headers()).json()["progress"]
        if progress and progress["trials_running"] >= 1:
            break
        assert time.monotonic() < deadline, progress
        time.sleep(0.3)
    assert (progress["max_concurrent_trials"], progress["trials_total"]) == (1, 1)
    other = client.patch(url, json={"max_concurrent_trials": 2}, headers=tenant_headers("globex"))
    assert other.status_code == 404
    # Raised past the one trial the searcher was asked for at the start, two at a time.
    raised = client.patch(
        url, json={"max_concurrent_trials": 2, "num_samples": 4}, headers=tenant_headers()
    )
    assert raised.status_code == 200, raised.text
    assert raised.json()["progress"]["max_concurrent_trials"] == 2
    assert raised.json()["progress"]["trials_total"] == 4
    most = 0
    while True:
        body = client.get(url, headers=tenant_headers()).json()
        if body["progress"]:
            most = max(most, body["progress"]["trials_running"])
        if most >= 2 or body["status"] in ENDED:
            break
        assert time.monotonic() < deadline + 120, body["progress"]
        time.sleep(0.2)
    # Two trials ran side by side once the sweep allowed it.
    assert most == 2
    below = client.patch(url, json={"num_samples": 1}, headers=tenant_headers())
    assert below.status_code == 422
    assert "trials started already" in below.json()["errors"][0]["message"]
    # Lowered again: the sweep ends after three trials, not four.
    lowered = client.patch(url, json={"num_samples": 3}, headers=tenant_headers())
    assert lowered.status_code == 200, lowered.text
    done = wait_for(client, sweep["sweep_id"], ENDED)
    assert done["status"] == "completed", done["error"]
    assert [trial["status"] for trial in done["trials"]] == ["completed"] * 3
    assert done["progress"]["trials_total"] == 3
    ended = client.patch(url, json={"max_concurrent_trials": 1}, headers=tenant_headers())
    assert ended.status_code == 409
    nothing = client.patch(url, json={}, headers=tenant_headers())
    assert nothing.status_code == 422


def test_cancel_stops_every_trial(client: TestClient) -> None:
    total_cpus = ray.cluster_resources()["CPU"]
    sweep = submit(
        client,
        sweep_config(
            hyperparameters={"n_estimators": 5000, "learning_rate": 0.01},
            num_samples=20,
            max_concurrent_trials=2,
            search_space={"max_depth": {"type": "randint", "lower": 8, "upper": 12}},
        ),
    )
    deadline = time.monotonic() + 120
    while True:
        running = client.get(f"/api/v1/tuning/{sweep['sweep_id']}", headers=tenant_headers())
        progress = running.json()["progress"]
        if progress and progress["trials_running"] >= 1:
            break
        assert time.monotonic() < deadline, running.json()
        time.sleep(0.3)
    cancelled = client.delete(f"/api/v1/tuning/{sweep['sweep_id']}", headers=tenant_headers())
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    # Every trial's CPU is back: Tune stopped the trials and released their placement groups.
    deadline = time.monotonic() + 30
    while ray.available_resources().get("CPU", 0) < total_cpus:
        assert time.monotonic() < deadline, ray.available_resources()
        time.sleep(0.5)
    again = client.delete(f"/api/v1/tuning/{sweep['sweep_id']}", headers=tenant_headers())
    assert again.status_code == 409
    charts = client.get(f"/api/v1/tuning/{sweep['sweep_id']}/charts", headers=tenant_headers())
    assert charts.status_code == 409


def test_forecasters_are_tuned_on_the_tail_of_the_training_part(client: TestClient) -> None:
    sweep = submit(
        client,
        sweep_config(
            **REVENUE,
            name="revenue-sweep",
            search="grid",
            metric="mae",
            search_space={"order": {"type": "grid", "values": [[1, 1, 1], [0, 1, 1]]}},
        ),
    )
    assert (sweep["task_type"], sweep["metric"], sweep["mode"]) == ("forecasting", "mae", "min")
    done = wait_for(client, sweep["sweep_id"], ENDED)
    assert done["status"] == "completed", done["error"]
    trials = done["trials"]
    assert sorted(trial["params"]["order"] for trial in trials) == [[0, 1, 1], [1, 1, 1]]
    assert {trial["status"] for trial in trials} == {"completed"}
    assert {trial["rounds"] for trial in trials} == {1}
    assert {"rmse", "mae", "mape", "smape"} <= set(trials[0]["metrics"])
    best = min(trials, key=lambda trial: trial["metrics"]["mae"])
    assert done["best_trial"]["trial_id"] == best["trial_id"]
    # Scored on the 14 days before the test tail, not on the test tail a training job scores:
    # train-best's test metrics differ from the trial's.
    response = client.post(
        f"/api/v1/tuning/{sweep['sweep_id']}/train-best", json={}, headers=tenant_headers()
    )
    assert response.status_code == 202, response.text
    trained = wait_for_status(client, response.json()["job_id"], ENDED)
    assert trained["status"] == "completed", trained["error"]
    assert trained["tuned_by"]["trial_id"] == best["trial_id"]
    assert trained["metrics"]["mae"] != pytest.approx(best["metrics"]["mae"])
    # The default spaces of both forecasters.
    spaces = {
        entry["algorithm"]: set(entry["search_space"])
        for entry in client.get("/api/v1/tuning/spaces", headers=tenant_headers()).json()
    }
    assert spaces["prophet"] == {
        "changepoint_prior_scale", "seasonality_prior_scale", "seasonality_mode",
    }  # fmt: skip
    assert spaces["arima"] == {"order"}


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"search_space": {"depth": {"type": "choice", "values": [1]}}}, "search_space.depth",
         "has no hyperparameter depth"),
        ({"search_space": {"max_depth": {"type": "uniform", "lower": 2, "upper": 8}}},
         "search_space.max_depth", "is an integer"),
        ({"search_space": {"max_depth": {"type": "randint", "lower": 2, "upper": 80}}},
         "search_space.max_depth", "at most 20"),
        ({"search_space": {"learning_rate": {"type": "choice", "values": [0.1, 2]}}},
         "search_space.learning_rate", "value 2"),
        ({"search_space": {"max_depth": {"type": "grid", "values": [2, 4]}}},
         "search_space.max_depth", "need search grid"),
        ({"search_space": {"learning_rate": {"type": "quniform", "lower": 0.01, "upper": 0.3,
          "q": 0.02}}}, "search_space.learning_rate", "lower 0.01 is not a multiple of q 0.02"),
        ({"search": "grid", "search_space": {"subsample": {"type": "uniform", "lower": 0.5,
          "upper": 1}}}, "search_space.subsample", "grid or choice"),
        ({"metric": "rmse"}, "metric", "classification sweeps optimise"),
        ({"metric": "auc_roc", "mode": "min"}, "mode", "mode must be max"),
        ({"algorithm": "linear", "hyperparameters": {}, "scheduler": {"type": "asha"}},
         "scheduler.type", "fits in one step"),
        (REVENUE | {"algorithm": "prophet", "metric": "log_loss"}, "metric",
         "forecasting sweeps optimise mae, mape, rmse"),
        (REVENUE | {"scheduler": {"type": "median_stopping"}}, "scheduler.type",
         "fits in one step"),
        ({"algorithm": "random_forest", "hyperparameters": {}, "metric": "auc_roc"},
         "metric", "auc_roc is measured each round by"),
        ({"scaling": {"num_workers": 2}}, "scaling", "one worker"),
        ({"algorithm": "random_forest", "hyperparameters": {}, "scheduler": {"type": "pbt"}},
         "scheduler.type", "a random_forest trial cannot be resumed"),
        ({"search": "tpe", "scheduler": {"type": "pbt"}}, "search", "not with tpe"),
        ({"scheduler": {"type": "pbt", "perturbation_interval": 30}},
         "scheduler.perturbation_interval", "trials run 30 rounds"),
        ({"search_space": {"n_estimators": {"type": "randint", "lower": 10, "upper": 20}},
          "hyperparameters": {}, "scheduler": {"type": "pbt"}}, "search_space",
         "other than n_estimators"),
        ({"hyperparameters": {"max_depth": 3},
          "search_space": {"max_depth": {"type": "choice", "values": [2, 4]}}},
         "search_space.max_depth", "also fixed"),
    ],
)  # fmt: skip
def test_refuses_a_search_the_catalog_does_not_allow(
    client: TestClient, overrides: dict, field: str, words: str
) -> None:
    response = client.post(
        "/api/v1/tuning", json=sweep_config(**overrides), headers=tenant_headers()
    )
    assert response.status_code == 422, response.text
    errors = {error["field"]: error["message"] for error in response.json()["errors"]}
    assert words in errors[field], errors


def test_train_best_needs_a_completed_sweep(client: TestClient) -> None:
    missing = client.post(
        "/api/v1/tuning/sweep-0123456789ab/train-best", json={}, headers=tenant_headers()
    )
    assert missing.status_code == 404
    bad_name = client.post(
        "/api/v1/tuning/sweep-0123456789ab/train-best",
        json={"register": {"model_name": "../x"}},
        headers=tenant_headers(),
    )
    assert bad_name.status_code == 422


def test_refuses_a_malformed_domain_and_an_unknown_scheduler(client: TestClient) -> None:
    no_bounds = sweep_config(search_space={"learning_rate": {"type": "uniform", "lower": 0.1}})
    response = client.post("/api/v1/tuning", json=no_bounds, headers=tenant_headers())
    assert response.status_code == 422
    assert "needs lower and upper" in response.text
    pb2 = sweep_config(scheduler={"type": "pb2"})
    response = client.post("/api/v1/tuning", json=pb2, headers=tenant_headers())
    assert response.status_code == 422
    assert "scheduler" in response.text
