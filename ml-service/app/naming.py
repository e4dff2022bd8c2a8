"""Names a caller chooses (job names, model names, table names) are shown in listings, logs,
MLflow and audit trails: a control character in one (a NUL, a newline, an escape) would cut or
forge those lines, so it is refused at the edge with 422 naming the field (issue 11)."""

import re
from typing import Annotated

from pydantic import AfterValidator

# C0 controls and DEL, the characters a terminal or a log line interprets.
_CONTROL_CHARACTER = re.compile(r"[\x00-\x1f\x7f]")


def _without_control_characters(value: str) -> str:
    found = _CONTROL_CHARACTER.search(value)
    if found is not None:
        raise ValueError(
            f"must not contain control characters; found U+{ord(found.group()):04X} at "
            f"position {found.start()}"
        )
    return value


Name = Annotated[str, AfterValidator(_without_control_characters)]
"""A `str` without control characters (U+0000 to U+001F, U+007F)."""
