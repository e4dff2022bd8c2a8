"""Checks of caller-supplied ids, names and artifact paths (contract "Ids and paths").

Everything a caller names is checked here before it reaches MLflow: MLflow's own CVE history is
mostly path traversal through exactly these inputs. A bad value is 400 naming the parameter.
"""

import re
from pathlib import Path

from app.errors import BadRequestError

RUN_ID = re.compile(r"^[0-9a-f]{32}$")
EXPERIMENT_ID = re.compile(r"^[0-9]{1,19}$")
MODEL_ARTIFACT_ID = re.compile(r"^m-[0-9a-f]{32}$")
MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
VERSION = re.compile(r"^[1-9][0-9]{0,9}$")
ALIAS = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
# MLflow metric keys; no slash or dot-dot, since file-based stores turn keys into file names.
METRIC_KEY = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_. -]{0,249}$")
JOB_ID = re.compile(r"^train-[0-9a-f]{12}$")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_PERCENT_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")


def _check(pattern: re.Pattern[str], value: str, parameter: str, what: str) -> str:
    if not pattern.fullmatch(value):
        raise BadRequestError(f"{parameter} must be {what}")
    return value


def run_id(value: str, parameter: str = "run_id") -> str:
    return _check(RUN_ID, value, parameter, "32 lowercase hex characters")


def experiment_id(value: str, parameter: str = "experiment_id") -> str:
    return _check(EXPERIMENT_ID, value, parameter, "digits")


def model_artifact_id(value: str, parameter: str = "model_artifact_id") -> str:
    return _check(MODEL_ARTIFACT_ID, value, parameter, "an MLflow LoggedModel id (m-<32 hex>)")


def model_name(value: str, parameter: str = "name") -> str:
    return _check(MODEL_NAME, value, parameter, f"a model name matching {MODEL_NAME.pattern}")


def version(value: str | int, parameter: str = "version") -> str:
    return _check(VERSION, str(value), parameter, "a positive integer")


def alias(value: str, parameter: str = "alias") -> str:
    return _check(ALIAS, value, parameter, f"an alias matching {ALIAS.pattern}")


def metric_key(value: str, parameter: str = "metric_key") -> str:
    _check(METRIC_KEY, value, parameter, "an MLflow metric key")
    if ".." in value:
        raise BadRequestError(f"{parameter} must not contain '..'")
    return value


def job_id(value: str, parameter: str = "job_id") -> str:
    return _check(JOB_ID, value, parameter, "a training job id (train-<12 hex>)")


# Linux's NAME_MAX and PATH_MAX, the limits of the local artifact store.
MAX_SEGMENT_BYTES = 255
MAX_PATH_BYTES = 4096


def artifact_path(value: str, parameter: str = "path", *, allow_root: bool = False) -> str:
    """A relative POSIX path inside a run's or model's artifacts, normalised ('' is the root)."""
    if value == "" and allow_root:
        return ""
    problems = [
        (value == "", "must not be empty"),
        ("\x00" in value or any(ord(char) < 32 for char in value), "must not hold control bytes"),
        ("\\" in value, "must not contain backslashes"),
        (value.startswith("/"), "must be relative"),
        (_SCHEME.match(value) is not None, "must not carry a scheme such as file:"),
        # The framework decodes the query once; an escape left over means double encoding.
        (_PERCENT_ESCAPE.search(value) is not None, "must not contain percent-escapes"),
        (".." in value.split("/"), "must not contain '..' segments"),
        # File systems refuse longer names (ENAMETOOLONG), which reached the caller as 502.
        (
            any(len(part.encode()) > MAX_SEGMENT_BYTES for part in value.split("/")),
            f"must not have a segment longer than {MAX_SEGMENT_BYTES} bytes",
        ),
        (len(value.encode()) > MAX_PATH_BYTES, f"must not be longer than {MAX_PATH_BYTES} bytes"),
    ]
    for failed, message in problems:
        if failed:
            raise BadRequestError(f"{parameter} {message}")
    return "/".join(part for part in value.split("/") if part not in ("", "."))


def contained(root: Path, relative: str, parameter: str = "path") -> Path:
    """`root/relative` resolved (symlinks followed), refused unless it stays inside root."""
    resolved_root = root.resolve()
    target = (resolved_root / relative).resolve()
    if target != resolved_root and not target.is_relative_to(resolved_root):
        raise BadRequestError(f"{parameter} leaves the artifact root")
    return target
