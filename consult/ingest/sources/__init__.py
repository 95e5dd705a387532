"""Source readers, one module per platform, found by name (imported lazily)."""

from __future__ import annotations

import importlib
from typing import cast

from consult.ingest.sources.base import SourceColumn, SourceReader, SourceTable

# format name -> "module:attribute" of its reader object
READERS: dict[str, str] = {
    "qualtrics": "consult.ingest.sources.qualtrics:QUALTRICS",
    "surveymonkey": "consult.ingest.sources.surveymonkey:SURVEYMONKEY",
    "kobo": "consult.ingest.sources.kobo:KOBO",
    "odk": "consult.ingest.sources.odk:ODK",
    "limesurvey": "consult.ingest.sources.limesurvey:LIMESURVEY",
    "table": "consult.ingest.sources.table:TABLE",
}


def reader(name: str) -> SourceReader:
    """The reader registered as ``name``."""
    module, _, attribute = READERS[name].partition(":")
    return cast(SourceReader, getattr(importlib.import_module(module), attribute))


__all__ = ["READERS", "SourceColumn", "SourceReader", "SourceTable", "reader"]
