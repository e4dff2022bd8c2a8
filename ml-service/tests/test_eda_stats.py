"""Profile statistics and alerts against pandas/scipy on small invented tables (no Ray, no app)."""

import math
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats

from app.datasets.schemas import DatasetSource
from app.datasets.warehouse import WarehouseManager
from app.eda.compare import compare_sources
from app.eda.schemas import AlertThresholds, Profile, ProfileRequest
from app.eda.service import EdaService
from app.eda.stats import cramers_v
from app.eda.store import EdaStore
from app.errors import InvalidFieldError

TENANT = "stats-tenant"


def _invented() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n = 400
    x = rng.normal(10, 3, n)
    x[[3, 50, 77]] = np.nan
    return pd.DataFrame(
        {
            "x": x,
            "y": 2 * np.nan_to_num(x) + rng.normal(0, 1, n),
            "count": rng.poisson(3, n).astype(np.int64),
            "skewed": rng.lognormal(0, 2.5, n),
            "colour": rng.choice(["red", "green", "blue"], n, p=[0.6, 0.3, 0.1]),
            "size": rng.choice(["S", "M", "L", "XL"], n),
            "flag": rng.random(n) < 0.3,
            "day": pd.date_range("2024-01-01", periods=n, freq="D"),
        }
    )


@pytest.fixture
def warehouses(tmp_path: Path) -> WarehouseManager:
    return WarehouseManager(tmp_path / "wh")


@pytest.fixture
def service(tmp_path: Path, warehouses: WarehouseManager) -> EdaService:
    return EdaService(warehouses, EdaStore(tmp_path / "eda.sqlite"))


def _load(warehouses: WarehouseManager, frames: dict[str, pd.DataFrame]) -> None:
    def work(connection: duckdb.DuckDBPyConnection) -> None:
        for name, frame in frames.items():
            connection.register("frame", frame)
            connection.execute(f'CREATE OR REPLACE TABLE "{name}" AS SELECT * FROM frame')
            connection.unregister("frame")

    warehouses.write(TENANT, work)


def _profile(service: EdaService, table: str, **request: object) -> Profile:
    return service.profile(
        TENANT,
        ProfileRequest(dataset=DatasetSource(source="table", table=table), **request),  # type: ignore[arg-type]
    )


def _column(profile: Profile, name: str):
    return next(column for column in profile.columns if column.name == name)


def test_numeric_statistics_agree_with_pandas(
    service: EdaService, warehouses: WarehouseManager
) -> None:
    frame = _invented()
    _load(warehouses, {"t": frame})
    profile = _profile(service, "t")
    assert profile.table.rows == len(frame)
    assert profile.sampled is False
    for name in ("x", "y", "count", "skewed"):
        series, stats = frame[name], _column(profile, name)
        assert stats.kind == "numeric"
        assert stats.count == series.count()
        assert stats.missing == series.isna().sum()
        assert stats.distinct == series.nunique()
        numbers = stats.numeric
        assert numbers is not None
        for ours, theirs in [
            (numbers.mean, series.mean()),
            (numbers.std, series.std()),
            (numbers.variance, series.var()),
            (numbers.min, series.min()),
            (numbers.max, series.max()),
            (numbers.p5, series.quantile(0.05)),
            (numbers.p25, series.quantile(0.25)),
            (numbers.median, series.median()),
            (numbers.p75, series.quantile(0.75)),
            (numbers.p95, series.quantile(0.95)),
            (numbers.skewness, series.skew()),
            (numbers.kurtosis, series.kurt()),
            (numbers.sum, series.sum()),
        ]:
            assert ours == pytest.approx(theirs, rel=1e-9, abs=1e-12), name
        assert numbers.zeros == (series == 0).sum()
        assert numbers.negatives == (series < 0).sum()
        counts, edges = np.histogram(series.dropna(), bins=50)
        assert numbers.histogram is not None
        assert numbers.histogram.counts == counts.tolist()
        assert numbers.histogram.edges == pytest.approx(edges.tolist())


def test_correlations_agree_with_pandas_and_scipy(
    service: EdaService, warehouses: WarehouseManager
) -> None:
    frame = _invented()
    _load(warehouses, {"t": frame})
    profile = _profile(service, "t")
    numeric = ["x", "y", "count", "skewed"]
    pearson = profile.correlations.pearson
    assert pearson is not None and pearson.columns == numeric
    expected = frame[numeric].corr()
    np.testing.assert_allclose(pearson.values, expected.to_numpy(), rtol=1e-9)
    # Spearman on complete columns equals pandas' (pandas ranks pairwise-complete rows).
    complete = ["y", "count", "skewed"]
    spearman = profile.correlations.spearman
    assert spearman is not None
    got = np.array(spearman.values)[np.ix_([1, 2, 3], [1, 2, 3])]
    np.testing.assert_allclose(got, frame[complete].corr(method="spearman").to_numpy(), rtol=1e-9)

    cramers = profile.correlations.cramers_v
    assert cramers is not None and set(cramers.columns) == {"colour", "size", "flag"}
    i, j = cramers.columns.index("colour"), cramers.columns.index("size")
    table = pd.crosstab(frame["colour"], frame["size"]).to_numpy()
    assert cramers.values[i][j] == pytest.approx(cramers_v(table.astype(float)))

    ratio = profile.correlations.correlation_ratio
    assert ratio is not None
    for category in ("colour", "size"):
        for number in numeric:
            both = frame[[category, number]].dropna()
            grand = both[number].mean()
            groups = both.groupby(category)[number]
            between = (groups.count() * (groups.mean() - grand) ** 2).sum()
            total = ((both[number] - grand) ** 2).sum()
            value = ratio.values[ratio.rows.index(category)][ratio.columns.index(number)]
            assert value == pytest.approx(math.sqrt(between / total), rel=1e-9)


def test_cramers_v_is_the_bias_corrected_estimator() -> None:
    # Bergsma (2013) on a table computed by hand: chi2 from scipy, corrections per the paper.
    table = np.array([[30.0, 10.0], [10.0, 30.0]])
    chi2 = scipy_stats.chi2_contingency(table, correction=False)[0]
    n = table.sum()
    phi2 = max(0.0, chi2 / n - 1 / (n - 1))
    corrected = 2 - 1 / (n - 1)
    assert cramers_v(table) == pytest.approx(math.sqrt(phi2 / (corrected - 1)))
    assert cramers_v(np.array([[5.0, 5.0]])) is None


def test_categories_text_dates_and_dataset_counts(
    service: EdaService, warehouses: WarehouseManager
) -> None:
    frame = _invented()
    duplicated = pd.concat([frame, frame.iloc[:5]], ignore_index=True)
    _load(warehouses, {"t": duplicated})
    profile = _profile(service, "t", top_values=2)
    assert profile.table.duplicate_rows == duplicated.duplicated().sum() == 5
    assert profile.table.missing_cells == duplicated.isna().sum().sum()
    colour = _column(profile, "colour")
    assert colour.kind == "categorical"
    counts = duplicated["colour"].value_counts()
    assert colour.categories is not None
    assert [(v.value, v.count) for v in colour.categories.top] == list(counts.items())[:2]
    assert colour.categories.other_count == counts.iloc[2:].sum()
    assert colour.text is not None and colour.text.min_length == 3 and colour.text.max_length == 5
    assert _column(profile, "flag").kind == "boolean"
    day = _column(profile, "day")
    assert day.kind == "datetime" and day.datetime is not None
    assert day.datetime.min is not None and day.datetime.min.startswith("2024-01-01")
    assert day.datetime.histogram is not None and sum(day.datetime.histogram.counts) == len(
        duplicated
    )


def _alert_types(profile: Profile, column: str | None = None) -> set[str]:
    return {
        alert.type
        for alert in profile.alerts
        if column is None or (alert.columns and alert.columns[0] == column)
    }


def test_alerts_fire_on_the_data_that_should_fire_them(
    service: EdaService, warehouses: WarehouseManager
) -> None:
    n = 600
    rng = np.random.default_rng(1)
    label = rng.integers(0, 2, n)
    frame = pd.DataFrame(
        {
            "customer_id": [f"C{i:04d}" for i in range(n)],
            "constant": ["same"] * n,
            "zeros": np.where(np.arange(n) % 2 == 0, 0.0, np.arange(n) * 1.5),
            "mostly_missing": [1.0 if i % 3 else None for i in range(n)],
            "spiky": np.r_[rng.normal(size=n - 1), 1e6],
            "infinite": np.r_[np.arange(n - 10.0), np.full(10, np.inf)],
            "rare": np.where(np.arange(n) < 590, "common", "rare"),
            "many": [f"v{i % 60}" for i in range(n)],
            "date_text": [f"2024-02-{1 + i % 28:02d}" for i in range(n)],
            "uniform": np.linspace(1, 2, n),
            "leak": label * 10 + rng.normal(0, 0.01, n),
            "label": label,
        }
    )
    _load(warehouses, {"alerts": frame, "empty": frame.iloc[:0]})
    profile = _profile(service, "alerts", target_column="label")
    assert {"UNIQUE", "IDENTIFIER"} <= _alert_types(profile, "customer_id")
    assert "CONSTANT" in _alert_types(profile, "constant")
    assert "ZEROS" in _alert_types(profile, "zeros")
    assert "MISSING" in _alert_types(profile, "mostly_missing")
    assert "SKEWED" in _alert_types(profile, "spiky")
    assert "INFINITE" in _alert_types(profile, "infinite")
    assert "IMBALANCE" in _alert_types(profile, "rare")
    assert "HIGH_CARDINALITY" in _alert_types(profile, "many")
    assert {"TYPE_DATE", "CONSTANT_LENGTH"} <= _alert_types(profile, "date_text")
    assert "UNIFORM" in _alert_types(profile, "uniform")
    leak = [alert for alert in profile.alerts if alert.type == "TARGET_LEAKAGE"]
    assert [alert.columns for alert in leak] == [["leak", "label"]]
    assert leak[0].value is not None and leak[0].value >= 0.95 and leak[0].threshold == 0.95
    assert profile.target is not None and profile.target.associations[0].column == "leak"
    assert [v.count for v in profile.target.class_balance or []] == sorted(
        np.bincount(label).tolist(), reverse=True
    )
    missing = next(a for a in profile.alerts if a.type == "MISSING")
    assert missing.value == pytest.approx(100 * frame["mostly_missing"].isna().mean())
    assert missing.threshold == 1.0

    stricter = _profile(
        service,
        "alerts",
        thresholds=AlertThresholds(missing_percent=50, zeros_percent=60, cardinality=100),
    )
    assert "MISSING" not in _alert_types(stricter)
    assert "ZEROS" not in _alert_types(stricter)
    assert "HIGH_CARDINALITY" not in _alert_types(stricter)

    assert _alert_types(_profile(service, "empty")) >= {"EMPTY"}

    twice = pd.concat([frame, frame], ignore_index=True)
    _load(warehouses, {"twice": twice})
    duplicates = [a for a in _profile(service, "twice").alerts if a.type == "DUPLICATES"]
    assert duplicates and duplicates[0].value == pytest.approx(50.0)


def test_spearman_ranks_each_column_over_its_present_values(
    service: EdaService, warehouses: WarehouseManager
) -> None:
    # x has missing values: each column is ranked over its own present values (ties share
    # their mean rank), then Pearson's r of the ranks over each pair's complete rows, which is
    # pandas' rank() followed by corr().
    frame = _invented()
    _load(warehouses, {"t": frame})
    spearman = _profile(service, "t", correlations=["spearman"]).correlations.spearman
    assert spearman is not None
    numeric = ["x", "y", "count", "skewed"]
    expected = frame[numeric].rank().corr().to_numpy()
    np.testing.assert_allclose(spearman.values, expected, rtol=1e-9)


def test_a_query_whose_row_order_changes_is_profiled_on_one_reading_of_its_rows(
    service: EdaService, warehouses: WarehouseManager
) -> None:
    # ORDER BY random() returns the rows in a new order each time the query runs: the profile
    # reads them once, so columns still line up row by row (Spearman would be ~0 otherwise).
    frame = _invented()
    _load(warehouses, {"t": frame})
    shuffled = service.profile(
        TENANT,
        ProfileRequest(
            dataset=DatasetSource(source="sql", query="SELECT * FROM t ORDER BY random()")
        ),
    )
    table = _profile(service, "t")
    assert shuffled.correlations.spearman is not None and table.correlations.spearman is not None
    np.testing.assert_allclose(
        shuffled.correlations.spearman.values, table.correlations.spearman.values, rtol=1e-9
    )
    assert shuffled.table.duplicate_rows == 0


def test_correlations_are_computed_only_when_asked(
    service: EdaService, warehouses: WarehouseManager
) -> None:
    rng = np.random.default_rng(3)
    a = rng.normal(size=300)
    _load(warehouses, {"corr": pd.DataFrame({"a": a, "b": 3 * a, "c": rng.normal(size=300)})})
    minimal = _profile(service, "corr", correlations=[])
    assert minimal.correlations.model_dump() == {
        "pearson": None, "spearman": None, "cramers_v": None, "correlation_ratio": None
    }  # fmt: skip
    assert "HIGH_CORRELATION" not in _alert_types(minimal)
    assert _column(minimal, "a").numeric == _column(_profile(service, "corr"), "a").numeric
    only = _profile(service, "corr", correlations=["pearson"]).correlations
    assert only.pearson is not None and only.spearman is None
    with pytest.raises(ValueError, match="each correlation method once"):
        ProfileRequest(
            dataset=DatasetSource(source="table", table="corr"), correlations=["pearson"] * 2
        )


def test_high_correlation_names_both_columns(
    service: EdaService, warehouses: WarehouseManager
) -> None:
    rng = np.random.default_rng(3)
    a = rng.normal(size=300)
    frame = pd.DataFrame({"a": a, "b": 3 * a + rng.normal(0, 0.01, 300), "c": rng.normal(size=300)})
    _load(warehouses, {"corr": frame})
    alerts = [a for a in _profile(service, "corr").alerts if a.type == "HIGH_CORRELATION"]
    assert [alert.columns for alert in alerts] == [["a", "b"]]
    assert alerts[0].value == pytest.approx(frame["a"].corr(frame["b"]))


def test_series_checks_need_a_time_column(
    service: EdaService, warehouses: WarehouseManager
) -> None:
    days = pd.date_range("2023-01-01", periods=400, freq="D")
    rng = np.random.default_rng(5)
    frame = pd.DataFrame(
        {
            "day": days,
            "walk": np.cumsum(rng.normal(size=400)) + np.arange(400) * 0.5,
            "weekly": 10 * np.sin(2 * np.pi * np.arange(400) / 7) + rng.normal(0, 0.5, 400),
        }
    )
    _load(warehouses, {"series": frame})
    assert not {"NON_STATIONARY", "SEASONAL"} & _alert_types(_profile(service, "series"))
    profile = _profile(service, "series", time_column="day")
    assert "NON_STATIONARY" in _alert_types(profile, "walk")
    assert "SEASONAL" in _alert_types(profile, "weekly")
    assert "NON_STATIONARY" not in _alert_types(profile, "weekly")


def test_samples_only_when_asked_and_repeats_with_the_seed(
    service: EdaService, warehouses: WarehouseManager
) -> None:
    _load(warehouses, {"t": _invented()})
    first = _profile(service, "t", sample={"rows": 100, "random_state": 4})
    second = _profile(service, "t", sample={"rows": 100, "random_state": 4})
    assert first.sampled and first.table.rows == 100
    assert _column(first, "x").numeric == _column(second, "x").numeric
    whole = _profile(service, "t", sample={"rows": 10_000})
    assert not whole.sampled and whole.table.rows == 400


def test_refuses_unknown_columns_and_bad_sources(
    service: EdaService, warehouses: WarehouseManager
) -> None:
    _load(warehouses, {"t": _invented()})
    with pytest.raises(InvalidFieldError) as error:
        _profile(service, "t", target_column="nope")
    assert error.value.field == "target_column"
    with pytest.raises(InvalidFieldError) as error:
        service.profile(
            TENANT,
            ProfileRequest(dataset=DatasetSource(source="sql", query="DELETE FROM t")),
        )
    assert error.value.field == "dataset.query"
    with pytest.raises(InvalidFieldError) as error:
        service.profile(
            TENANT,
            ProfileRequest(dataset=DatasetSource(source="sql", query="SELECT nope FROM t")),
        )
    assert error.value.field == "dataset.query"


def test_compare_statistics_agree_with_scipy(warehouses: WarehouseManager) -> None:
    rng = np.random.default_rng(11)
    reference = pd.DataFrame({"v": rng.normal(0, 1, 700), "c": rng.choice(["a", "b", "c"], 700)})
    current = pd.DataFrame(
        {"v": rng.normal(0.3, 1.2, 500), "c": rng.choice(["a", "b", "c", "d"], 500)}
    )
    _load(warehouses, {"ref": reference, "cur": current})
    _, _, drifts, _ = warehouses.read_sources(
        TENANT,
        {
            "reference": DatasetSource(source="table", table="ref"),
            "current": DatasetSource(source="table", table="cur"),
        },
        lambda connection, selects: compare_sources(
            connection, selects["reference"], selects["current"], None
        ),
    )
    numeric, categorical = drifts
    ks = scipy_stats.ks_2samp(reference["v"], current["v"], method="asymp")
    assert numeric.ks_statistic == pytest.approx(ks.statistic, rel=1e-12)
    assert numeric.ks_p_value == pytest.approx(ks.pvalue, rel=1e-6)
    assert numeric.wasserstein == pytest.approx(
        scipy_stats.wasserstein_distance(reference["v"], current["v"]), rel=1e-9
    )
    table = pd.crosstab(
        pd.concat([reference["c"], current["c"]]),
        np.r_[np.zeros(700), np.ones(500)],
    ).to_numpy()
    chi2, p_value = scipy_stats.chi2_contingency(table.T)[:2]
    assert categorical.chi_square == pytest.approx(chi2) and categorical.chi_square_p_value == (
        pytest.approx(p_value)
    )
    assert categorical.drifted  # a new category "d" with a quarter of the rows
