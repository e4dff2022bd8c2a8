"""Receive a multipart dataset upload straight to a temporary file, never into memory.

Starlette's `request.form()` would spool the whole file (to /tmp) before the handler could look at
its size; here the body is parsed as it arrives, the `file` part is written under the data folder,
and reading stops at the first byte over the limit.
"""

import asyncio
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Literal

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from python_multipart.multipart import MultipartParser, parse_options_header

from app.datasets.reading import CsvOptions, parse_json_field
from app.datasets.warehouse import UploadFormat
from app.errors import BadRequestError, InvalidFieldError, PayloadTooLargeError

FILE_FIELD = "file"
# Form fields other than the file are short (`table`, `if_exists`, ...); `column_types` (a JSON
# object naming columns) is the longest.
MAX_FIELD_BYTES = 16 * 1024
MAX_FIELDS = 16
# Room for the multipart framing and the small fields around the file's own bytes.
MULTIPART_OVERHEAD_BYTES = 64 * 1024
PARQUET_MAGIC = b"PAR1"
# Received chunks are parsed and written off the event loop in batches of about this size.
WRITE_BATCH_BYTES = 1024 * 1024


@dataclass
class ReceivedUpload:
    path: Path
    filename: str
    size_bytes: int
    fields: dict[str, str]

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)


@dataclass
class _Part:
    headers: dict[str, str] = field(default_factory=dict)
    name: str = ""
    filename: str | None = None
    data: bytearray = field(default_factory=bytearray)


def too_large(limit: int) -> PayloadTooLargeError:
    return PayloadTooLargeError(FILE_FIELD, f"the file is larger than the limit of {limit} bytes")


class _Receiver:
    """Callbacks of python-multipart's push parser; writes the file part as it comes."""

    def __init__(self, sink: BinaryIO, limit: int) -> None:
        self._sink = sink
        self._limit = limit
        self._part = _Part()
        self._header_field = bytearray()
        self._header_value = bytearray()
        self.fields: dict[str, str] = {}
        self.filename: str | None = None
        self.size = 0
        self.error: Exception | None = None
        # Set by the closing boundary only: python-multipart's finalize() accepts a body that
        # stops anywhere, and a cut-off last row would load as a row of NULLs.
        self.complete = False

    def callbacks(self) -> dict:
        return {
            "on_part_begin": self._on_part_begin,
            "on_header_field": lambda data, start, end: self._header_field.extend(data[start:end]),
            "on_header_value": lambda data, start, end: self._header_value.extend(data[start:end]),
            "on_header_end": self._on_header_end,
            "on_headers_finished": self._on_headers_finished,
            "on_part_data": self._on_part_data,
            "on_part_end": self._on_part_end,
            "on_end": self._on_end,
        }

    def _on_end(self) -> None:
        self.complete = True

    def _on_part_begin(self) -> None:
        self._part = _Part()

    def _on_header_end(self) -> None:
        name = self._header_field.decode("latin-1").strip().lower()
        self._part.headers[name] = self._header_value.decode("latin-1")
        self._header_field.clear()
        self._header_value.clear()

    def _on_headers_finished(self) -> None:
        _, options = parse_options_header(self._part.headers.get("content-disposition"))
        self._part.name = options.get(b"name", b"").decode("utf-8", "replace")
        filename = options.get(b"filename")
        self._part.filename = None if filename is None else filename.decode("utf-8", "replace")
        if self._part.name == FILE_FIELD:
            if self.filename is not None:
                raise InvalidFieldError(FILE_FIELD, "send exactly one file")
            self.filename = self._part.filename or "upload"
        elif self._part.filename is not None:
            raise InvalidFieldError(self._part.name or "file", "only the `file` field takes a file")
        elif len(self.fields) >= MAX_FIELDS:
            raise BadRequestError(f"a dataset upload has at most {MAX_FIELDS} form fields")

    def _on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._part.name == FILE_FIELD:
            self.size += end - start
            if self.size > self._limit:
                raise too_large(self._limit)
            self._sink.write(data[start:end])
            return
        self._part.data.extend(data[start:end])
        if len(self._part.data) > MAX_FIELD_BYTES:
            raise InvalidFieldError(self._part.name, f"longer than {MAX_FIELD_BYTES} bytes")

    def _on_part_end(self) -> None:
        if self._part.name != FILE_FIELD and self._part.name:
            self.fields[self._part.name] = self._part.data.decode("utf-8", "replace")


async def receive_upload(request: Request, directory: Path, limit: int) -> ReceivedUpload:
    """Parse the body into form fields and one file written under `directory`.

    Any failure (too large → 413, malformed body, client gone) removes the partial file.
    """
    content_type, options = parse_options_header(request.headers.get("content-type"))
    boundary = options.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise BadRequestError("send the dataset as multipart/form-data with a `file` field")
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit + MULTIPART_OVERHEAD_BYTES:
        # Refused before reading a byte of it.
        raise too_large(limit)

    path, sink = await asyncio.to_thread(_open_temporary_file, directory)
    try:
        with sink:
            receiver = _Receiver(sink, limit)
            parser = MultipartParser(boundary, receiver.callbacks())
            batch = bytearray()
            async for chunk in request.stream():
                batch.extend(chunk)
                if len(batch) >= WRITE_BATCH_BYTES:
                    await asyncio.to_thread(parser.write, bytes(batch))
                    batch.clear()
            await asyncio.to_thread(parser.write, bytes(batch))
            parser.finalize()
        if not receiver.complete:
            raise BadRequestError(
                f"{FILE_FIELD}: the multipart body ends before its closing boundary; the upload "
                "was cut off, and nothing was loaded"
            )
    except (PayloadTooLargeError, InvalidFieldError, BadRequestError):
        await asyncio.to_thread(_discard, path)
        raise
    except Exception as error:
        await asyncio.to_thread(_discard, path)
        # python-multipart's parse errors and a client that went away mid-upload end here.
        raise BadRequestError(f"the multipart body could not be read: {error}") from None
    if receiver.filename is None:
        await asyncio.to_thread(_discard, path)
        raise InvalidFieldError(FILE_FIELD, "a file is required")
    return ReceivedUpload(path, receiver.filename, receiver.size, receiver.fields)


def _open_temporary_file(directory: Path) -> tuple[Path, BinaryIO]:
    directory.mkdir(parents=True, exist_ok=True)
    descriptor, name = tempfile.mkstemp(prefix="upload-", suffix=".part", dir=directory)
    return Path(name), os.fdopen(descriptor, "wb")


def _discard(path: Path) -> None:
    path.unlink(missing_ok=True)


def remove_stale_uploads(directory: Path) -> int:
    """Partial uploads left by a crash; called at start-up before any upload is received."""
    removed = 0
    if directory.is_dir():
        for leftover in directory.glob("upload-*"):
            leftover.unlink(missing_ok=True)
            removed += 1
    return removed


class UploadOptions(BaseModel):
    """The form fields that come with the file."""

    model_config = ConfigDict(extra="forbid")

    table: str = Field(
        description="name of the new table: `iris` or `uploads.iris` (stored as `uploads.iris`)",
        max_length=71,
    )
    if_exists: Literal["fail", "replace"] = Field(
        "fail", description="`fail`: 409 when the table exists; `replace`: swap it atomically"
    )
    format: UploadFormat | None = Field(
        None, description="default: from the file name (.csv, .tsv, .parquet), else its content"
    )
    delimiter: str | None = Field(
        None,
        min_length=1,
        max_length=1,
        description="CSV field separator; default: detected by DuckDB's sniffer (`,` `;` `|` "
        "tab; tab for .tsv)",
    )
    header: bool = Field(True, description="CSV: the first row names the columns")
    decimal_separator: Literal[".", ","] = Field(".", description="CSV: in numbers")
    thousands_separator: Literal[",", ".", " ", "'", "_"] | None = Field(
        None, description="CSV: grouping digits in numbers (e.g. `.` with decimal_separator `,`)"
    )
    null_markers: str | None = Field(
        None,
        description='CSV: JSON array of the texts that mean a missing value, e.g. ["NA", "\\N", '
        '""]; default: only an empty field',
    )
    date_format: str | None = Field(
        None,
        max_length=64,
        description="CSV: strftime format of the date columns (e.g. %d/%m/%Y); without it a date "
        "column whose day/month order is ambiguous stays text",
    )
    timestamp_format: str | None = Field(
        None, max_length=64, description="CSV: strftime format of the timestamp columns"
    )
    column_types: str | None = Field(
        None,
        description='CSV: JSON object of column → DuckDB type, e.g. {"zip": "VARCHAR", "n": '
        '"INTEGER"}; an unknown column or type is a 422 naming it',
    )
    encoding: Literal["utf-8", "latin-1", "utf-16"] = Field(
        "utf-8", description="CSV: text encoding"
    )


def upload_options(fields: dict[str, str]) -> UploadOptions:
    try:
        return UploadOptions.model_validate(fields)
    except ValidationError as error:
        # Same 422 body as any other request field error.
        raise RequestValidationError(
            [{**issue, "loc": ("body", *issue["loc"])} for issue in error.errors()]
        ) from None


def upload_format(upload: ReceivedUpload, options: UploadOptions) -> UploadFormat:
    if options.format is not None:
        return options.format
    suffix = Path(upload.filename).suffix.lower()
    if suffix in {".parquet", ".pq"}:
        return "parquet"
    if suffix in {".csv", ".tsv", ".txt"}:
        return "csv"
    with upload.path.open("rb") as file:
        return "parquet" if file.read(4) == PARQUET_MAGIC else "csv"


def csv_options(upload: ReceivedUpload, options: UploadOptions) -> CsvOptions:
    """The reading options of a CSV upload; 422 naming a malformed JSON field."""
    tab = "\t" if upload.filename.lower().endswith(".tsv") else None
    return CsvOptions(
        delimiter=options.delimiter or tab,
        header=options.header,
        decimal_separator=options.decimal_separator,
        thousands_separator=options.thousands_separator,
        null_markers=parse_json_field("null_markers", options.null_markers, list),
        date_format=options.date_format,
        timestamp_format=options.timestamp_format,
        column_types=parse_json_field("column_types", options.column_types, dict) or {},
        encoding=options.encoding,
    )


def upload_request_body() -> dict:
    """The multipart body for the OpenAPI document (the handler parses the stream itself)."""
    schema = UploadOptions.model_json_schema()
    schema["properties"] = {
        FILE_FIELD: {"type": "string", "format": "binary", "description": "a CSV or Parquet file"},
        **schema["properties"],
    }
    schema["required"] = [FILE_FIELD, *schema.get("required", [])]
    schema.pop("title", None)
    schema.pop("additionalProperties", None)
    return {
        "required": True,
        "content": {"multipart/form-data": {"schema": schema}},
    }
