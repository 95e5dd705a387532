"""results.json: the one hand-over from analysis to reports (model, schema, reading, writing).

This package is part of the base: analysis writes it, reports read it, and it
imports neither.
"""

from consult.results.io import (
    read_results,
    results_bytes,
    schema,
    validate_results,
    validate_results_file,
    write_results,
)
from consult.results.model import SCHEMA_VERSION, ItemResult, Results

__all__ = [
    "SCHEMA_VERSION",
    "ItemResult",
    "Results",
    "read_results",
    "results_bytes",
    "schema",
    "validate_results",
    "validate_results_file",
    "write_results",
]
