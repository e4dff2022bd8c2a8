"""Wire shapes of the EDA endpoints: profile and compare requests, profiles, alerts.

Percentages are 0-100; fractions (correlations, imbalance) are 0-1. Statistics a column cannot
have (the mean of an empty column, the skewness of a constant) are null, never NaN.
"""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.datasets.schemas import DatasetSource

ProfileKind = Literal[
    "numeric", "categorical", "boolean", "datetime", "text", "identifier", "unsupported"
]
AlertType = Literal[
    "CONSTANT",
    "ZEROS",
    "HIGH_CORRELATION",
    "HIGH_CARDINALITY",
    "UNSUPPORTED",
    "DUPLICATES",
    "SKEWED",
    "IMBALANCE",
    "MISSING",
    "INFINITE",
    "TYPE_DATE",
    "UNIQUE",
    "CONSTANT_LENGTH",
    "UNIFORM",
    "NON_STATIONARY",
    "SEASONAL",
    "EMPTY",
    "TARGET_LEAKAGE",
    "IDENTIFIER",
]
AssociationMeasure = Literal["pearson", "cramers_v", "correlation_ratio"]
CorrelationMethod = Literal["pearson", "spearman", "cramers_v", "correlation_ratio"]
CORRELATION_METHODS: tuple[CorrelationMethod, ...] = (
    "pearson", "spearman", "cramers_v", "correlation_ratio",
)  # fmt: skip


class SampleSpec(BaseModel):
    """Profile a uniform random sample instead of every row (reservoir sampling in DuckDB)."""

    model_config = ConfigDict(extra="forbid")

    rows: int = Field(ge=1, le=100_000_000, description="rows in the sample")
    random_state: int | None = Field(
        None, ge=0, le=2**31 - 1, description="seed; the same seed draws the same sample"
    )


class AlertThresholds(BaseModel):
    """When an alert fires. Defaults are ydata-profiling 4.x's (`config_default.yaml` and
    `model/alerts.py`): a percentage alert fires above 1 % (`alert_value`: p > 0.01), SKEWED
    above |20|, HIGH_CARDINALITY above 50 distinct, IMBALANCE above 0.5, UNIFORM when the
    chi-square test against a uniform distribution has p > 0.999, HIGH_CORRELATION at 0.9.
    The two pre-training alerts and the series tests are this service's own."""

    model_config = ConfigDict(extra="forbid")

    missing_percent: float = Field(1.0, ge=0, le=100, description="MISSING above this % missing")
    zeros_percent: float = Field(1.0, ge=0, le=100, description="ZEROS above this % zeros")
    infinite_percent: float = Field(
        1.0, ge=0, le=100, description="INFINITE above this % of ±inf values"
    )
    duplicates_percent: float = Field(
        0.0, ge=0, le=100, description="DUPLICATES above this % of duplicate rows"
    )
    skewness: float = Field(20.0, ge=0, description="SKEWED when |skewness| is above this")
    cardinality: int = Field(50, ge=1, description="HIGH_CARDINALITY above this many categories")
    imbalance: float = Field(0.5, ge=0, le=1, description="IMBALANCE above this imbalance score")
    uniform_p_value: float = Field(
        0.999, ge=0, le=1, description="UNIFORM when the chi-square p-value is above this"
    )
    correlation: float = Field(
        0.9, ge=0, le=1, description="HIGH_CORRELATION at or above this |association|"
    )
    target_leakage: float = Field(
        0.95, ge=0, le=1, description="TARGET_LEAKAGE at or above this association with the target"
    )
    stationarity_significance: float = Field(
        0.05,
        gt=0,
        lt=1,
        description="NON_STATIONARY when the ADF test's p-value is at or above this",
    )
    seasonality_autocorrelation: float = Field(
        0.5,
        gt=0,
        le=1,
        description="SEASONAL when the differenced series' autocorrelation peaks at or above this",
    )


class ProfileRequest(BaseModel):
    """What to profile and how."""

    model_config = ConfigDict(extra="forbid")

    dataset: DatasetSource
    target_column: str | None = Field(
        None, max_length=300, description="column a model would predict: association and balance"
    )
    time_column: str | None = Field(
        None,
        max_length=300,
        description="orders the rows as a time series: numeric columns get NON_STATIONARY and "
        "SEASONAL checks",
    )
    sample: SampleSpec | None = Field(
        None, description="profile a random sample; all rows if unset"
    )
    bins: int = Field(50, ge=2, le=500, description="histogram bins (ydata's default: 50)")
    top_values: int = Field(10, ge=1, le=100, description="most frequent values listed per column")
    correlations: list[CorrelationMethod] = Field(
        default_factory=lambda: list(CORRELATION_METHODS),
        description="correlation matrices to compute (ydata-profiling's correlations.<name>."
        "calculate); [] computes none, as ydata's minimal mode. HIGH_CORRELATION, leakage alerts "
        "and target associations need them",
    )
    thresholds: AlertThresholds = Field(default_factory=AlertThresholds)

    @field_validator("correlations")
    @classmethod
    def _unique(cls, value: list[CorrelationMethod]) -> list[CorrelationMethod]:
        if len(set(value)) != len(value):
            raise ValueError("each correlation method once")
        return value


class Histogram(BaseModel):
    """Equal-width bins: `counts[i]` values in [edges[i], edges[i+1]) (the last bin closed)."""

    edges: list[float]
    counts: list[int]


class TimeHistogram(BaseModel):
    """Equal-width bins over time; edges are ISO 8601 timestamps."""

    edges: list[str]
    counts: list[int]


class ValueCount(BaseModel):
    value: str | float | bool | None = Field(description="the value (numbers and text as they are)")
    count: int
    percent: float = Field(description="share of the non-missing values, 0-100")


class NumericStats(BaseModel):
    """Over non-missing values (NaN counts as missing, as in pandas). Sample (n-1) std and
    variance, linear-interpolated quantiles, bias-corrected skewness and excess kurtosis: the
    definitions of pandas' `std`, `quantile`, `skew` and `kurt`."""

    min: float | None
    max: float | None
    mean: float | None
    std: float | None
    variance: float | None
    p5: float | None
    p25: float | None
    median: float | None
    p75: float | None
    p95: float | None
    iqr: float | None
    skewness: float | None
    kurtosis: float | None
    sum: float | None
    zeros: int
    zeros_percent: float
    negatives: int
    negatives_percent: float
    infinite: int
    infinite_percent: float
    histogram: Histogram | None = Field(description="over finite values; null when all are equal")


class CategoryStats(BaseModel):
    top: list[ValueCount] = Field(description="most frequent values, most frequent first")
    other_count: int = Field(description="non-missing values outside `top`")
    imbalance: float | None = Field(
        description="1 - entropy / log(categories): 0 balanced, 1 one category (ydata's score)"
    )


class TextStats(BaseModel):
    """Lengths in characters of the non-missing values."""

    min_length: int | None
    max_length: int | None
    mean_length: float | None
    parses_as_date: bool = Field(description="every non-missing value reads as a date/timestamp")


class DatetimeStats(BaseModel):
    min: str | None
    max: str | None
    histogram: TimeHistogram | None


class ColumnProfile(BaseModel):
    name: str
    type: str = Field(description="DuckDB type")
    kind: ProfileKind
    count: int = Field(description="non-missing values")
    missing: int
    missing_percent: float
    distinct: int | None = Field(description="exact distinct non-missing values")
    distinct_percent: float | None = Field(description="distinct / non-missing, 0-100")
    numeric: NumericStats | None = None
    categories: CategoryStats | None = None
    text: TextStats | None = None
    datetime: DatetimeStats | None = None


class DatasetStats(BaseModel):
    rows: int
    columns: int
    duplicate_rows: int = Field(description="rows equal to an earlier row (pandas `duplicated()`)")
    duplicate_rows_percent: float
    missing_cells: int
    missing_cells_percent: float
    size_bytes: int = Field(
        description="in-memory size: rows x fixed widths + the bytes of variable-width values"
    )


class CorrelationMatrix(BaseModel):
    """`values[i][j]` relates `rows[i]` to `columns[j]`; null where undefined (a constant)."""

    rows: list[str]
    columns: list[str]
    values: list[list[float | None]]


class Correlations(BaseModel):
    pearson: CorrelationMatrix | None = Field(description="numeric x numeric")
    spearman: CorrelationMatrix | None = Field(description="numeric x numeric, on ranks")
    cramers_v: CorrelationMatrix | None = Field(
        description="categorical x categorical, bias-corrected (Bergsma 2013)"
    )
    correlation_ratio: CorrelationMatrix | None = Field(
        description="categorical rows x numeric columns: η"
    )


class Association(BaseModel):
    column: str
    measure: AssociationMeasure
    value: float | None


class TargetPoint(BaseModel):
    feature_value: str | float | bool | None = Field(
        description="a category, or the lower edge of a bin of a numeric feature"
    )
    target_value: str | float | bool | None = Field(
        description="a class of the target; null when `value` is the target's mean"
    )
    value: float | None
    rows: int = Field(description="rows of the feature group")


class TargetByFeature(BaseModel):
    """The target within each group of one feature: the share of each class (categorical
    target) or the target's mean (numeric target) per category or per equal-width bin."""

    column: str
    measure: str = Field(description="what `value` is: `percent of group` or `mean of target`")
    description: str
    points: list[TargetPoint]


class TargetAnalysis(BaseModel):
    column: str
    kind: ProfileKind
    class_balance: list[ValueCount] | None = Field(
        description="each class with its count (categorical or boolean targets)"
    )
    imbalance: float | None
    associations: list[Association] = Field(description="strongest first")
    by_feature: list[TargetByFeature] = Field(
        default_factory=list, description="the target by each of its most associated features"
    )


class Alert(BaseModel):
    type: AlertType
    columns: list[str] = Field(description="the column(s) it is about; empty for the dataset")
    value: float | None = Field(description="what fired it, in the threshold's unit")
    threshold: float | None
    message: str


class MissingBlocks(BaseModel):
    """Missing values per column in consecutive row blocks, for the missing-values matrix."""

    block_rows: int
    columns: list[str]
    missing: list[list[int]] = Field(description="[block][column] missing count")


class Profile(BaseModel):
    profile_id: str
    created_at: datetime
    dataset: DatasetSource
    target_column: str | None
    time_column: str | None
    sampled: bool = Field(description="true when a sample was profiled rather than every row")
    sample: SampleSpec | None
    duration_seconds: float
    table: DatasetStats
    columns: list[ColumnProfile]
    correlations: Correlations
    target: TargetAnalysis | None
    alerts: list[Alert]
    thresholds: AlertThresholds
    missing_blocks: MissingBlocks | None


class ProfileSummary(BaseModel):
    profile_id: str
    created_at: datetime
    dataset: DatasetSource
    target_column: str | None
    sampled: bool
    rows: int
    columns: int
    alerts: int


class ProfileList(BaseModel):
    profiles: list[ProfileSummary]


class ProfileChart(BaseModel):
    name: str = Field(description="the name to fetch it by")
    title: str
    media_types: list[str] = Field(description="what Accept may ask for")


class ProfileChartList(BaseModel):
    profile_id: str
    charts: list[ProfileChart] = Field(description="in display order")


class CompareRequest(BaseModel):
    """Two tables or queries to compare column by column (e.g. last month and this month)."""

    model_config = ConfigDict(extra="forbid")

    reference: DatasetSource = Field(description="the baseline, e.g. a model's training data")
    current: DatasetSource = Field(description="the data to check against it")
    columns: list[str] | None = Field(
        None, max_length=1000, description="the columns to compare; all of the reference's if unset"
    )


class ColumnDrift(BaseModel):
    """Shift of one column, in serving's drift vocabulary (psi, ks_statistic, ks_p_value,
    drifted) plus chi-square, Wasserstein and Jensen-Shannon."""

    column: str
    kind: Literal["numeric", "categorical"]
    reference_count: int = Field(description="non-missing values in the reference")
    current_count: int
    psi: float
    ks_statistic: float | None = Field(description="two-sample Kolmogorov-Smirnov D (numbers)")
    ks_p_value: float | None
    chi_square: float | None = Field(description="chi-square of the 2 x k table (categories)")
    chi_square_p_value: float | None
    wasserstein: float | None = Field(description="Wasserstein-1 distance, in the column's unit")
    jensen_shannon: float = Field(description="Jensen-Shannon distance (base 2) over the bins")
    drifted: bool
    bins: list[str] = Field(description="reference decile bins (numbers) or categories")
    reference_shares: list[float]
    current_shares: list[float]


class SkippedColumn(BaseModel):
    column: str
    reason: str


class Comparison(BaseModel):
    comparison_id: str
    created_at: datetime
    reference: DatasetSource
    current: DatasetSource
    reference_rows: int
    current_rows: int
    thresholds: dict[str, float] = Field(description="serving's drift thresholds")
    drifted_columns: list[str]
    columns: list[ColumnDrift]
    skipped: list[SkippedColumn]
    charts: list[str] = Field(description="names for GET …/comparisons/{id}/charts/{name}")


class ComparisonSummary(BaseModel):
    comparison_id: str
    created_at: datetime
    reference: DatasetSource
    current: DatasetSource
    drifted_columns: list[str]


class ComparisonList(BaseModel):
    comparisons: list[ComparisonSummary]
