"""The JSON Schema of results.json, generated from the model.

Run ``python -m consult.results.schema`` after changing
:mod:`consult.results.model` to rewrite ``schema.json``; a test fails while
the file and the model disagree.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from consult.results.model import SCHEMA_VERSION, Results

SCHEMA_PATH = Path(__file__).resolve().parent / "schema.json"


def build_schema() -> dict[str, Any]:
    """The schema as the model defines it, with draft, id and version."""
    generated = Results.model_json_schema(mode="serialization")
    head = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://consult.invalid/schemas/results-{SCHEMA_VERSION}.json",
        "title": f"consult results.json, schema {SCHEMA_VERSION}",
        "description": "Every number a consult report may show. Field by field: docs/results.md.",
    }
    generated.pop("title", None)
    generated.pop("description", None)
    return {**head, **generated}


def schema_text() -> str:
    """The text of ``schema.json``."""
    return json.dumps(build_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    SCHEMA_PATH.write_text(schema_text(), encoding="utf-8")
    print(f"wrote {SCHEMA_PATH}")
