"""Transformations of feature set features, computed in DuckDB: checks against the source's
schema, fitting on the version's source, and the SQL that computes each feature.

A version's statistics (mean/std, min/max, categories, frequencies, bin edges) are fitted once,
on the source as it was when the version was made, and stored in the version
(`FeatureSetVersion.fitted`); every later export and training set of that version uses the
stored values, so version 1 computes the same way after the source or the definition changed.
Formulas follow scikit-learn's StandardScaler (population std), MinMaxScaler, OneHotEncoder
(unknown → all zeros), OrdinalEncoder and KBinsDiscretizer (outer bins open-ended).

Window aggregates are not computed here per source row but at the time asked for
(`window_select`): an as-of join to a per-row aggregate would count the N days before the
entity's latest event, not the N days before the training row's time.
"""

import duckdb

from app.datasets import sql
from app.errors import InvalidFieldError
from app.features.schemas import FeatureSpec, FittedFeature, WindowTransform

# DuckDB types Feast has a value type for (feast.type_map.pa_to_feast_value_type). TINYINT and
# SMALLINT are widened to INTEGER on export (lossless); anything else (DECIMAL, unsigned, nested)
# is refused for a plain feature rather than converted, so no value changes unasked.
FEAST_TYPES = {"BOOLEAN", "INTEGER", "BIGINT", "FLOAT", "DOUBLE", "VARCHAR", "TIMESTAMP"}
WIDENED_TO_INTEGER = {"TINYINT", "SMALLINT"}
_NUMERIC = (
    "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
    "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", "DECIMAL",
)  # fmt: skip
_TIME = ("TIMESTAMP", "DATE")
MAX_ONE_HOT_CATEGORIES = 50
MAX_CATEGORIES = 1000
# DuckDB's date_part names where ours (pandas' / ISO) differ.
_DATE_PARTS = {"dayofweek": "isodow", "dayofyear": "doy"}


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _number(value: float) -> str:
    # repr round-trips a float exactly; the cast keeps DuckDB from reading it as DECIMAL.
    return f"CAST({value!r} AS DOUBLE)"


def feature_name(feature: FeatureSpec) -> str:
    """The feature's name: given, or the column (plain, one-hot), or `<column>_<transform>`."""
    if feature.name:
        return feature.name
    transform = feature.transform
    assert feature.column is not None  # checked: only a `sql` feature has no column
    if transform is None or transform.type == "one_hot":
        # one-hot's columns are `<name>_<category>` already: `plan_basic`, not `plan_one_hot_basic`
        return feature.column
    if isinstance(transform, WindowTransform):
        suffix = f"{transform.aggregation}_{transform.days}d"
    elif transform.type == "date_part":
        suffix = transform.part
    else:
        suffix = transform.type
    return f"{feature.column}_{suffix}"


def is_window(feature: FeatureSpec) -> bool:
    return isinstance(feature.transform, WindowTransform)


def check(index: int, feature: FeatureSpec, types: dict[str, str]) -> None:
    """422 naming `features[index]…` when the feature does not fit the source's columns."""
    field = f"features[{index}]"
    transform = feature.transform
    if transform is not None and transform.type == "sql":
        if feature.column is not None:
            raise InvalidFieldError(
                f"{field}.column", "a `sql` feature takes no column: its expression names them"
            )
        if not feature.name:
            raise InvalidFieldError(f"{field}.name", "a `sql` feature needs a name")
        return
    if feature.column is None:
        raise InvalidFieldError(f"{field}.column", "required (only a `sql` feature has none)")
    if feature.column not in types:
        raise InvalidFieldError(f"{field}.column", f"the source has no column {feature.column!r}")
    column_type = types[feature.column].upper()
    if transform is None:
        if column_type not in FEAST_TYPES | WIDENED_TO_INTEGER:
            raise InvalidFieldError(
                f"{field}.column",
                f"{feature.column!r} is {column_type}, which Feast has no type for; use a `sql` "
                "source that casts it (e.g. to DOUBLE, BIGINT or VARCHAR)",
            )
        return
    numeric = column_type.startswith(_NUMERIC)
    if transform.type in ("standard", "min_max", "bin") and not numeric:
        raise InvalidFieldError(
            f"{field}.transform",
            f"{transform.type} needs a numeric column; {feature.column!r} is {column_type}",
        )
    if (
        isinstance(transform, WindowTransform)
        and transform.aggregation != "count"
        and not numeric
    ):
        raise InvalidFieldError(
            f"{field}.transform.aggregation",
            f"{transform.aggregation} needs a numeric column; {feature.column!r} is {column_type}",
        )
    if transform.type == "date_part" and not column_type.startswith(_TIME):
        raise InvalidFieldError(
            f"{field}.transform",
            f"date_part needs a DATE or TIMESTAMP column; {feature.column!r} is {column_type}",
        )
    if transform.type == "bin":
        if (transform.edges is None) == (transform.bins is None):
            raise InvalidFieldError(f"{field}.transform", "give exactly one of `edges` and `bins`")
        if transform.edges is not None and any(
            low >= high for low, high in zip(transform.edges, transform.edges[1:], strict=False)
        ):
            raise InvalidFieldError(f"{field}.transform.edges", "must be strictly increasing")
    if (
        transform.type == "ordinal"
        and transform.categories is not None
        and len(set(transform.categories)) != len(transform.categories)
    ):
        raise InvalidFieldError(f"{field}.transform.categories", "a category is listed twice")


def _expression_type(
    connection: duckdb.DuckDBPyConnection, select: str, expression: str, field: str
) -> str:
    """The type of a `sql` feature's expression; the statement passes the SQL sandbox's check
    (one read-only SELECT) and any DuckDB error is a 422 naming the expression."""
    query = sql.checked_select(f"SELECT ({expression}) AS value FROM {sql.wrap(select)}", field)
    try:
        return str(connection.sql(f"SELECT * FROM ({query}) LIMIT 0").types[0]).upper()
    except duckdb.Error as error:
        raise InvalidFieldError(field, str(error).strip().splitlines()[0]) from None


def fit(
    connection: duckdb.DuckDBPyConnection, select: str, index: int, feature: FeatureSpec
) -> FittedFeature:
    """What the feature needs from the version's source, computed in DuckDB over every row."""
    name = feature_name(feature)
    fitted = FittedFeature(name=name, columns=[name])
    transform = feature.transform
    if transform is None or isinstance(transform, WindowTransform):
        return fitted
    field = f"features[{index}]"
    source = sql.wrap(select)
    if transform.type == "sql":
        expression_type = _expression_type(
            connection, select, transform.expression, f"{field}.transform.expression"
        )
        if expression_type not in FEAST_TYPES | WIDENED_TO_INTEGER:
            raise InvalidFieldError(
                f"{field}.transform.expression",
                f"is {expression_type}, which Feast has no type for; CAST it (e.g. to DOUBLE)",
            )
        return fitted
    assert feature.column is not None
    column = sql.quote(feature.column)
    if transform.type in ("standard", "min_max"):
        mean, std, low, high = connection.execute(
            f"SELECT avg({column}), stddev_pop({column}), min({column}), max({column}) "
            f"FROM {source}"
        ).fetchone()  # type: ignore[misc]
        if mean is None or (transform.type == "standard" and not std) or low == high:
            raise InvalidFieldError(
                f"{field}.column",
                f"{feature.column!r} has no values or only one value in the source: "
                f"{transform.type} scaling would divide by zero",
            )
        if transform.type == "standard":
            return fitted.model_copy(update={"mean": float(mean), "std": float(std)})
        return fitted.model_copy(update={"min": float(low), "max": float(high)})
    if transform.type == "bin":
        edges = transform.edges
        if edges is None:
            assert transform.bins is not None
            edges = _fitted_edges(connection, source, column, transform.bins, transform.strategy)
            if len(edges) < 2:
                raise InvalidFieldError(
                    f"{field}.column",
                    f"{feature.column!r} has no values or only one value in the source: "
                    "no bins can be fitted",
                )
        return fitted.model_copy(update={"edges": edges})
    if transform.type == "date_part":
        return fitted
    # one_hot, frequency, ordinal: the categories as text, sorted, with their share of the rows.
    limit = MAX_ONE_HOT_CATEGORIES if transform.type == "one_hot" else MAX_CATEGORIES
    rows = connection.execute(
        f"SELECT CAST({column} AS VARCHAR) AS category, count(*) / "
        f"(SELECT count(*) FROM {source}) AS share FROM {source} "
        f"WHERE {column} IS NOT NULL GROUP BY category ORDER BY category LIMIT {limit + 1}"
    ).fetchall()
    if len(rows) > limit:
        hint = "; use `frequency` or `ordinal`" if transform.type == "one_hot" else ""
        raise InvalidFieldError(
            f"{field}.transform",
            f"{feature.column!r} has more than {limit} categories for {transform.type}{hint}",
        )
    if transform.type == "one_hot":
        categories = [row[0] for row in rows]
        columns = [f"{name}_{category}" for category in categories]
        return fitted.model_copy(update={"categories": categories, "columns": columns})
    if transform.type == "frequency":
        return fitted.model_copy(
            update={
                "categories": [row[0] for row in rows],
                "frequencies": [float(row[1]) for row in rows],
            }
        )
    categories = transform.categories or [row[0] for row in rows]
    return fitted.model_copy(update={"categories": categories})


def _fitted_edges(
    connection: duckdb.DuckDBPyConnection, source: str, column: str, bins: int, strategy: str
) -> list[float]:
    if strategy == "uniform":
        low, high = connection.execute(
            f"SELECT min({column}), max({column}) FROM {source}"
        ).fetchone()  # type: ignore[misc]
        if low is None or low == high:
            return []
        width = (float(high) - float(low)) / bins
        return [float(low) + width * step for step in range(bins)] + [float(high)]
    quantiles = ", ".join(repr(step / bins) for step in range(bins + 1))
    (edges,) = connection.execute(
        f"SELECT quantile_cont(CAST({column} AS DOUBLE), [{quantiles}]) FROM {source}"
    ).fetchone()  # type: ignore[misc]
    # Equal quantiles (a skewed column) would make empty bins: KBinsDiscretizer drops them too.
    return sorted({float(edge) for edge in edges or []})


def columns(
    feature: FeatureSpec, fitted: FittedFeature, types: dict[str, str], sql_type: str
) -> list[tuple[str, str]]:
    """(output column, DuckDB expression over the source row) of a feature that is not a
    window aggregate. `sql_type` is the DuckDB type of a `sql` feature's expression."""
    transform = feature.transform
    if transform is not None and transform.type == "sql":
        expression = f"({transform.expression})"
        if sql_type in WIDENED_TO_INTEGER:
            expression = f"CAST({expression} AS INTEGER)"
        return [(fitted.name, expression)]
    assert feature.column is not None
    column = sql.quote(feature.column)
    if transform is None:
        if types[feature.column].upper() in WIDENED_TO_INTEGER:
            return [(fitted.name, f"CAST({column} AS INTEGER)")]
        return [(fitted.name, column)]
    value = f"CAST({column} AS DOUBLE)"
    text = f"CAST({column} AS VARCHAR)"
    if transform.type == "standard":
        assert fitted.mean is not None and fitted.std is not None
        return [(fitted.name, f"({value} - {_number(fitted.mean)}) / {_number(fitted.std)}")]
    if transform.type == "min_max":
        assert fitted.min is not None and fitted.max is not None
        span = fitted.max - fitted.min
        return [(fitted.name, f"({value} - {_number(fitted.min)}) / {_number(span)}")]
    if transform.type == "bin":
        assert fitted.edges is not None
        inner = fitted.edges[1:-1]
        counted = " + ".join(f"CAST({value} >= {_number(edge)} AS INTEGER)" for edge in inner)
        # a NULL value stays NULL: the comparisons are NULL and so is their sum
        return [(fitted.name, f"CAST({counted or f'{value} * 0'} AS INTEGER)")]
    if transform.type == "date_part":
        part = _DATE_PARTS.get(transform.part, transform.part)
        return [(fitted.name, f"CAST(date_part({_literal(part)}, {column}) AS BIGINT)")]
    assert fitted.categories is not None
    if transform.type == "one_hot":
        return [
            (output, f"CAST(coalesce({text} = {_literal(category)}, false) AS INTEGER)")
            for output, category in zip(fitted.columns, fitted.categories, strict=True)
        ]
    if transform.type == "frequency":
        assert fitted.frequencies is not None
        cases = " ".join(
            f"WHEN {_literal(category)} THEN {_number(share)}"
            for category, share in zip(fitted.categories, fitted.frequencies, strict=True)
        )
        return [(fitted.name, f"CASE {text} {cases} ELSE CAST(0 AS DOUBLE) END")]
    cases = " ".join(
        f"WHEN {_literal(category)} THEN {position}"
        for position, category in enumerate(fitted.categories)
    )
    return [(fitted.name, f"CAST(CASE {text} {cases} END AS INTEGER)")]


def expression_type(
    connection: duckdb.DuckDBPyConnection, select: str, index: int, feature: FeatureSpec
) -> str:
    """The DuckDB type of a `sql` feature's expression ('' for any other feature)."""
    transform = feature.transform
    if transform is None or transform.type != "sql":
        return ""
    return _expression_type(
        connection, select, transform.expression, f"features[{index}].transform.expression"
    )


def window_select(
    entities: str,
    row_column: str,
    time_column: str,
    source_select: str,
    join_keys: list[str],
    timestamp_column: str,
    windows: list[tuple[str, FeatureSpec]],
) -> str:
    """One row per entity row (`row_column`) with each window aggregate over the entity's source
    rows in (t - days, t], t the entity row's `time_column`: a range join in DuckDB, never a
    source row after t."""
    longest = max(feature.transform.days for _, feature in windows)  # type: ignore[union-attr]
    source_time = f"CAST(s.{sql.quote(timestamp_column)} AS TIMESTAMP)"
    entity_time = f"e.{sql.quote(time_column)}"
    keys = " AND ".join(f"s.{sql.quote(key)} = e.{sql.quote(key)}" for key in join_keys)
    aggregates = []
    for output, feature in windows:
        transform = feature.transform
        assert isinstance(transform, WindowTransform) and feature.column is not None
        value = f"s.{sql.quote(feature.column)}"
        within = f"{source_time} > {entity_time} - INTERVAL {transform.days} DAY"
        if transform.aggregation == "count":
            aggregate = f"count({value}) FILTER (WHERE {within})"
        else:
            function = "avg" if transform.aggregation == "mean" else transform.aggregation
            aggregate = f"CAST({function}({value}) FILTER (WHERE {within}) AS DOUBLE)"
        aggregates.append(f"{aggregate} AS {sql.quote(output)}")
    return (
        f"SELECT e.{sql.quote(row_column)}, {', '.join(aggregates)} FROM {entities} AS e "
        f"LEFT JOIN (\n{source_select}\n) AS s "
        f"ON {keys} AND {source_time} <= {entity_time} "
        f"AND {source_time} > {entity_time} - INTERVAL {longest} DAY "
        f"GROUP BY e.{sql.quote(row_column)} ORDER BY e.{sql.quote(row_column)}"
    )
