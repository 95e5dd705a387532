"""Writing, reading and validating results.json.

Writing is deterministic: keys sorted, two-space indent, UTF-8, floats cut to
10 significant digits, a final newline; the same results give the same bytes.
The file is written to a temporary file beside the target and moved into place
with ``os.replace``, so a reader never sees half a file.
"""

from __future__ import annotations

import json
import os
import tempfile
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from consult.errors import ConsultError, Issue, ValidationFailed
from consult.results.model import SCHEMA_VERSION, Results

SCHEMA_FILE = "schema.json"
FLOAT_DIGITS = 10


def results_bytes(results: Results) -> bytes:
    """The canonical bytes of ``results`` as written to results.json."""
    data = _normalise(results.model_dump(mode="json"))
    text = json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False)
    return (text + "\n").encode("utf-8")


def write_results(results: Results, path: Path) -> Path:
    """Write ``results`` to ``path`` atomically (temporary file, then ``os.replace``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = results_bytes(results)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(payload)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def read_results(path: Path) -> Results:
    """Read and check results.json.

    Raises
    ------
    ConsultError
        When the file is missing or not JSON.
    ValidationFailed
        When it does not match the model, with the JSON path of every problem.
    """
    data = _load_json(path)
    try:
        return Results.model_validate(data)
    except ValidationError as exc:
        issues = [Issue(code="results", message=err["msg"], file=str(path),
                        where=_json_path(err["loc"])) for err in exc.errors()]
        raise ValidationFailed(f"{path} is not a valid results file (schema {SCHEMA_VERSION})",
                               issues) from None


def validate_results(data: Any) -> list[Issue]:
    """Every way ``data`` (parsed JSON) departs from the schema, sorted by JSON path.

    Each :class:`~consult.errors.Issue` has ``where`` set to the JSON path
    (``$.provenance.data_sha256``) and ``message`` to jsonschema's message.
    """
    try:
        from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
        from jsonschema.exceptions import best_match  # type: ignore[import-untyped]
    except ImportError:
        raise ConsultError("checking results.json needs jsonschema; install it with: "
                           "pip install 'jsonschema>=4.20,<5'") from None
    validator = Draft202012Validator(schema())
    found = []
    for error in validator.iter_errors(data):
        # "not valid under any of the given schemas" says nothing: name the closest branch's fault.
        cause = best_match(error.context) if error.context else None
        shown = cause if cause is not None else error
        found.append(Issue(code="schema", message=shown.message, where=shown.json_path))
    return sorted(found, key=lambda issue: (issue.where, issue.message))


def validate_results_file(path: Path) -> list[Issue]:
    """:func:`validate_results` on a file; a file that is not JSON raises ConsultError."""
    return validate_results(_load_json(path))


@cache
def schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of results.json, as shipped in ``schema.json``."""
    text = resources.files("consult.results").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


# --------------------------------------------------------------------------- helpers


def _load_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConsultError(f"{path}: no such file; write it with: consult analyze") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConsultError(f"{path}: cannot be read ({exc})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConsultError(f"{path}: not JSON (line {exc.lineno}, column {exc.colno}: "
                           f"{exc.msg})") from None


def _normalise(value: Any) -> Any:
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return None
        return float(f"{value:.{FLOAT_DIGITS}g}")
    if isinstance(value, dict):
        return {key: _normalise(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_normalise(item) for item in value]
    return value


def _json_path(location: tuple[Any, ...]) -> str:
    path = "$"
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path
