"""Reading a CSV file so that no value changes without saying so.

DuckDB's `read_csv` reads and sniffs the file (delimiter, quoting, header, numbers); what it would
otherwise guess silently is decided here and reported:

- Two-label columns (`Yes`/`No`, `T`/`F`, `y`/`n`) stay text: they are the user's labels, and
  their predictions and reports must say them back. Only a column of `true`/`false` literals
  (any case) becomes BOOLEAN.
- Dates are never guessed: DuckDB's sniffer reads `02/01/2021` as 2 January without a word. Here
  a text column becomes DATE or TIMESTAMP only when exactly one day/month order reads every
  value (ISO `2021-01-02`, or a day above 12 somewhere); when both orders read every value the
  column stays text and the answer says so (send `date_format` to read it as dates).
- A file read as one column whose header holds `;`, `|` or a tab was misread (wrong delimiter):
  refused with 422 rather than stored as one wide text column.

Every coercion from text (to BOOLEAN, DATE, TIMESTAMP, or a number read with a decimal or
thousands separator, or an explicit type) is listed in the upload's answer with its reason.
"""

import json
import re
from dataclasses import dataclass, field
from typing import Any

import duckdb
from pydantic import BaseModel, Field

from app.datasets import sql
from app.datasets.schemas import Coercion, TextNote
from app.errors import InvalidFieldError

# What the sniffer may choose by itself; BOOLEAN, DATE and TIMESTAMP are decided below instead.
AUTO_TYPES = ["BIGINT", "DOUBLE", "VARCHAR"]
# DuckDB types a caller may ask for in column_types (DECIMAL(p,s) too).
EXPLICIT_TYPES = {
    "BOOLEAN", "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
    "UINTEGER", "UBIGINT", "FLOAT", "REAL", "DOUBLE", "VARCHAR", "TEXT", "DATE", "TIME",
    "TIMESTAMP", "TIMESTAMPTZ", "TIMESTAMP WITH TIME ZONE",
}  # fmt: skip
_DECIMAL = re.compile(r"DECIMAL\(\s*\d{1,2}\s*,\s*\d{1,2}\s*\)")
ENCODINGS = ("utf-8", "latin-1", "utf-16")
# Day/month orders that can read the same text; the first of each pair is day first.
_DATE_ORDERS = [
    ("%d/%m/%Y", "%m/%d/%Y"),
    ("%d.%m.%Y", "%m.%d.%Y"),
    ("%d-%m-%Y", "%m-%d-%Y"),
]
_TIMES = ["", " %H:%M", " %H:%M:%S"]
# Text that may be a date: digits, a separator, digits, a separator, digits, maybe a time.
_DATE_SHAPE = r"^\s*\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?\s*$"
PREVIEW_ROWS = 5


class CsvOptions(BaseModel):
    """How to read a CSV file; every field optional (DuckDB's sniffer decides the rest)."""

    delimiter: str | None = None
    header: bool = True
    decimal_separator: str = "."
    thousands_separator: str | None = None
    null_markers: list[str] | None = None
    date_format: str | None = None
    timestamp_format: str | None = None
    column_types: dict[str, str] = Field(default_factory=dict)
    encoding: str = "utf-8"
    # Filled in from DuckDB's sniffer (never from the form): see sniffed_columns.
    quote: str | None = None
    escape: str | None = None


@dataclass
class ReadReport:
    coerced: list[Coercion] = field(default_factory=list)
    kept_as_text: list[TextNote] = field(default_factory=list)
    delimiter: str | None = None


def parse_json_field(name: str, text: str | None, kind: type) -> Any:
    """A form field holding JSON (`null_markers` a list of strings, `column_types` an object of
    strings); 422 naming the field otherwise."""
    if text is None:
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        value = None
    items = value.values() if isinstance(value, dict) else value
    if not isinstance(value, kind) or not all(isinstance(item, str) for item in items):
        shape = "a JSON array of strings" if kind is list else "a JSON object of strings"
        raise InvalidFieldError(name, f"must be {shape}")
    return value


def checked_type(column: str, duckdb_type: str) -> str:
    normalised = " ".join(duckdb_type.upper().split())
    if normalised in EXPLICIT_TYPES or _DECIMAL.fullmatch(normalised):
        return normalised
    raise InvalidFieldError(
        f"column_types.{column}",
        f"{duckdb_type} is not a DuckDB type this upload takes; use one of "
        f"{', '.join(sorted(EXPLICIT_TYPES))} or DECIMAL(p,s)",
    )


def read_csv_call(path: str, options: CsvOptions, types: dict[str, str]) -> tuple[str, list]:
    """The read_csv(...) expression and its parameters. Strict: a ragged row or a broken quote
    fails the upload instead of being padded, skipped or read as one wide text column."""
    arguments = [
        "header = ?",
        # The sniffer may otherwise skip leading rows it finds irregular: silent data loss.
        "skip = 0",
        "strict_mode = true",
        "null_padding = false",
        "ignore_errors = false",
        "decimal_separator = ?",
        "encoding = ?",
        "auto_type_candidates = ?",
    ]
    candidates = list(AUTO_TYPES)
    if options.date_format:
        candidates.append("DATE")
    if options.timestamp_format:
        candidates.append("TIMESTAMP")
    parameters: list = [
        path,
        options.header,
        options.decimal_separator,
        options.encoding,
        candidates,
    ]
    optional = {
        "delim": options.delimiter,
        "thousands": options.thousands_separator,
        "nullstr": options.null_markers,
        "dateformat": options.date_format,
        "timestampformat": options.timestamp_format,
        "quote": options.quote,
        "escape": options.escape,
    }
    for name, value in optional.items():
        if value is not None:
            arguments.append(f"{name} = ?")
            parameters.append(value)
    if types:
        arguments.append("types = ?")
        parameters.append(types)
    return f"read_csv(?, {', '.join(arguments)})", parameters


def sniffed_columns(
    connection: duckdb.DuckDBPyConnection, path: str, options: CsvOptions
) -> tuple[list[tuple[str, str]], CsvOptions]:
    """The (name, type) columns as the file would be read without explicit types, and the
    options with the delimiter and quoting filled in (DuckDB's sniffer's unless given).

    Raises duckdb.Error when the file cannot be read strictly that way."""
    given = ", delim = ?" if options.delimiter else ""
    row = connection.execute(
        f"SELECT Delimiter, Quote, Escape FROM sniff_csv(?, header = ?, encoding = ?, skip = 0"
        f"{given})",
        [path, options.header, options.encoding]
        + ([options.delimiter] if options.delimiter else []),
    ).fetchone()
    delimiter, quote, escape = (row[0], row[1], row[2]) if row else (None, "", "")
    if quote in ("", "(empty)"):
        # The sniffer drops quoting when a quote is never closed, and would keep `"x` as data:
        # read with RFC 4180's double quote instead, so that such a file fails naming the line.
        quote, escape = '"', '"'
    chosen = options.model_copy(
        update={
            "delimiter": options.delimiter or delimiter,
            "quote": quote,
            "escape": None if escape in ("", "(empty)") else escape,
        }
    )
    columns = _described(connection, path, chosen)
    if options.delimiter is None and len(columns) == 1:
        for separator in (",", ";", "|", "\t"):
            if separator != chosen.delimiter and separator in columns[0][0]:
                # The sniffer falls back to one column when no delimiter reads every row (a
                # ragged row, say); reading strictly with the header's own separator makes
                # DuckDB name the line that does not fit.
                chosen = chosen.model_copy(update={"delimiter": separator})
                columns = _described(connection, path, chosen)
                break
    return columns, chosen


def _described(
    connection: duckdb.DuckDBPyConnection, path: str, options: CsvOptions
) -> list[tuple[str, str]]:
    reader, parameters = read_csv_call(path, options, {})
    rows = connection.execute(f"DESCRIBE SELECT * FROM {reader}", parameters).fetchall()
    return [(row[0], row[1]) for row in rows]


def check_not_misread(
    columns: list[tuple[str, str]], delimiter: str | None, display_name: str
) -> None:
    """Every column name holding the same one of `;`, `|` or a tab (one column named `a;b;c`, or
    `A;1` and `5;3` from a header split at decimal commas): the delimiter was not the file's."""
    for separator in (";", "|", "\t"):
        if separator != delimiter and all(separator in name for name, _ in columns):
            names = ", ".join(repr(name) for name, _ in columns)
            raise InvalidFieldError(
                "file",
                f"{display_name} was read as columns {names}, each holding {separator!r}: its "
                "fields seem separated by another delimiter; send `delimiter` (e.g. ; or | or a "
                "tab)",
            )


def explicit_types(options: CsvOptions, columns: list[tuple[str, str]]) -> dict[str, str]:
    names = {name for name, _ in columns}
    types = {}
    for column, duckdb_type in options.column_types.items():
        if column not in names:
            raise InvalidFieldError(
                f"column_types.{column}",
                f"the file has no column {column}; columns: {', '.join(sorted(names))}",
            )
        types[column] = checked_type(column, duckdb_type)
    return types


def settle_text_columns(
    connection: duckdb.DuckDBPyConnection,
    table: str,
    columns: list[tuple[str, str]],
    options: CsvOptions,
    report: ReadReport,
) -> list[str]:
    """The SELECT list turning the staging table's text columns that are unambiguously BOOLEAN
    (true/false literals), DATE or TIMESTAMP into those types; what it coerces or keeps as text
    for a reason goes into `report`. Two aggregate queries over the table."""
    text = [
        name for name, duckdb_type in columns
        if duckdb_type == "VARCHAR" and name not in options.column_types
    ]  # fmt: skip
    selected = {name: sql.quote(name) for name, _ in columns}
    if not text:
        return list(selected.values())
    shape_aggregates = []
    for name in text:
        quoted = sql.quote(name)
        shape_aggregates += [
            f"count({quoted})",
            f"count(*) FILTER (WHERE lower(trim({quoted})) IN ('true', 'false'))",
            f"count(*) FILTER (WHERE regexp_matches({quoted}, '{_DATE_SHAPE}'))",
        ]
    shapes = connection.execute(f"SELECT {', '.join(shape_aggregates)} FROM {table}").fetchone()
    assert shapes is not None
    dated = []
    for index, name in enumerate(text):
        present, literals, date_shaped = shapes[3 * index : 3 * index + 3]
        if present and literals == present:
            quoted = sql.quote(name)
            selected[name] = f"CAST(lower(trim({quoted})) AS BOOLEAN) AS {quoted}"
            report.coerced.append(
                Coercion(
                    column=name,
                    from_type="text",
                    to_type="BOOLEAN",
                    reason="every value is true or false",
                )
            )
        elif present and date_shaped == present:
            dated.append((name, present))
    if dated:
        _settle_dates(connection, table, dated, selected, report)
    return list(selected.values())


def _candidate_formats() -> list[tuple[str, str, str | None]]:
    """(format, type, the same format with day and month swapped) for every date shape tried."""
    formats: list[tuple[str, str, str | None]] = []
    for time in _TIMES:
        kind = "DATE" if not time else "TIMESTAMP"
        formats.append((f"%Y-%m-%d{time}", kind, None))
        if time:
            formats.append((f"%Y-%m-%dT{time.strip()}", kind, None))
        formats.append((f"%Y/%m/%d{time}", kind, None))
        for day_first, month_first in _DATE_ORDERS:
            formats.append((day_first + time, kind, month_first + time))
            formats.append((month_first + time, kind, day_first + time))
    return formats


def _settle_dates(
    connection: duckdb.DuckDBPyConnection,
    table: str,
    dated: list[tuple[str, int]],
    selected: dict[str, str],
    report: ReadReport,
) -> None:
    formats = _candidate_formats()
    aggregates = [
        f"count(try_strptime(trim({sql.quote(name)}), '{fmt}'))"
        for name, _ in dated
        for fmt, _, _ in formats
    ]
    counts = connection.execute(f"SELECT {', '.join(aggregates)} FROM {table}").fetchone()
    assert counts is not None
    for index, (name, present) in enumerate(dated):
        row = counts[index * len(formats) : (index + 1) * len(formats)]
        fitting = {
            fmt: (kind, swapped)
            for (fmt, kind, swapped), count in zip(formats, row, strict=True)
            if count == present
        }
        if not fitting:
            continue
        fmt, (kind, swapped) = next(iter(fitting.items()))
        if swapped is not None and swapped in fitting:
            report.kept_as_text.append(
                TextNote(
                    column=name,
                    reason=f"every value reads both as {_order(fmt)} and as {_order(swapped)} "
                    f"(e.g. 02/01/2021); kept as text — send date_format (or "
                    "timestamp_format) to read it as dates",
                )
            )
            continue
        quoted = sql.quote(name)
        selected[name] = f"CAST(strptime(trim({quoted}), '{fmt}') AS {kind}) AS {quoted}"
        why = (
            "ISO 8601 dates"
            if swapped is None
            else f"only {_order(fmt)} reads every value (a day above 12 rules out the other)"
        )
        report.coerced.append(
            Coercion(column=name, from_type="text", to_type=kind, reason=f"{why}: {fmt}")
        )


def _order(fmt: str) -> str:
    return "day/month" if fmt.index("%d") < fmt.index("%m") else "month/day"


def typed_reads(
    columns: list[tuple[str, str]], types: dict[str, str], options: CsvOptions
) -> list[Coercion]:
    """What read_csv itself converted beyond plain numbers: explicit types, the caller's date
    formats, numbers with a decimal comma or thousands separators."""
    coerced = []
    for name, duckdb_type in columns:
        if name in types:
            reason = "column_types asked for it"
        elif duckdb_type == "DATE" and options.date_format:
            reason = f"date_format {options.date_format}"
        elif duckdb_type.startswith("TIMESTAMP") and options.timestamp_format:
            reason = f"timestamp_format {options.timestamp_format}"
        elif duckdb_type == "DOUBLE" and (
            options.decimal_separator != "." or options.thousands_separator
        ):
            reason = f"numbers with decimal separator {options.decimal_separator!r}" + (
                f" and thousands separator {options.thousands_separator!r}"
                if options.thousands_separator
                else ""
            )
        else:
            continue
        coerced.append(Coercion(column=name, from_type="text", to_type=duckdb_type, reason=reason))
    return coerced


def preview_rows(
    connection: duckdb.DuckDBPyConnection, table: str, limit: int = PREVIEW_ROWS
) -> list[dict[str, Any]]:
    """The first rows as stored, JSON-safe: dates as ISO text, non-finite numbers as text."""
    cursor = connection.execute(f"SELECT * FROM {table} LIMIT {int(limit)}")
    names = [column[0] for column in cursor.description or []]
    return [
        {name: _json_value(value) for name, value in zip(names, row, strict=True)}
        for row in cursor.fetchall()
    ]


def _json_value(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)
