"""Turn a dataset source into one safe SELECT over the tenant's warehouse."""

import re

import duckdb

from app.datasets.schemas import DatasetSource
from app.errors import BadRequestError, InvalidFieldError

READ_ONLY_MESSAGE = "only one read-only SELECT statement is allowed"
_IDENTIFIER = r"[A-Za-z_][A-Za-z0-9_]*"
TABLE_NAME_PATTERN = re.compile(rf"^(?:({_IDENTIFIER})\.)?({_IDENTIFIER})$")


def _quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def checked_select(query: str, field: str) -> str:
    """Return the query when it is exactly one SELECT; otherwise 422 naming `field`.

    The warehouse connection is also read-only with external access disabled, so this check is
    the first of two walls: it gives a clear message before DuckDB would refuse anyway.
    """
    try:
        statements = duckdb.extract_statements(query)
    except duckdb.Error as error:
        raise InvalidFieldError(field, str(error).strip()) from None
    if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
        raise InvalidFieldError(field, READ_ONLY_MESSAGE)
    # Trailing semicolons would break the sub-query the service wraps around the statement.
    return statements[0].query.strip().rstrip(";").strip()


def table_parts(table: str, field: str) -> tuple[str, str]:
    match = TABLE_NAME_PATTERN.fullmatch(table.strip())
    if match is None:
        raise InvalidFieldError(
            field, "a table is named `schema.name` or `name` (letters, digits, _)"
        )
    return match.group(1) or "main", match.group(2)


def source_select(source: DatasetSource, field_prefix: str) -> str:
    """The SELECT of a dataset source; `field_prefix` names the body path in errors."""
    prefix = f"{field_prefix}." if field_prefix else ""
    if source.source == "sql":
        if not source.query or not source.query.strip():
            raise InvalidFieldError(f"{prefix}query", "a query is required when source is `sql`")
        return checked_select(source.query, f"{prefix}query")
    if not source.table:
        raise InvalidFieldError(f"{prefix}table", "a table is required when source is `table`")
    schema, name = table_parts(source.table, f"{prefix}table")
    return f"SELECT * FROM {_quote_identifier(schema)}.{_quote_identifier(name)}"


def wrap(select: str) -> str:
    """Use a checked SELECT as a sub-query; newlines keep a trailing `--` comment inside it."""
    return f"(\n{select}\n) AS dataset"


def quote(name: str) -> str:
    return _quote_identifier(name)


UPLOAD_TABLE_PATTERN = re.compile(r"^(?:uploads\.)?([a-z][a-z0-9_]{0,62})$")
UPLOAD_TABLE_RULE = (
    "name an uploaded table with 1-63 lowercase letters, digits and _, starting with a letter "
    "(e.g. `iris`); it is stored as `uploads.<name>`"
)


def upload_table_name(table: str, field: str) -> str:
    """The bare name of an uploaded table from `name` or `uploads.name`; 422 otherwise."""
    match = UPLOAD_TABLE_PATTERN.fullmatch(table.strip())
    if match is None:
        raise InvalidFieldError(field, UPLOAD_TABLE_RULE)
    return match.group(1)


def table_path_parts(table: str, upload_schema: str) -> tuple[str, str]:
    """A table named in a URL path: `schema.name`, or a bare `name` for an uploaded table."""
    match = TABLE_NAME_PATTERN.fullmatch(table.strip())
    if match is None:
        raise BadRequestError(
            "table: a table is named `schema.name` or `name` (letters, digits, _)"
        )
    return match.group(1) or upload_schema, match.group(2)
