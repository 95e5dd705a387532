"""Writers of a synthetic consultation in each platform's export layout.

Each writer is ``write(consultation, path) -> Path``. Rows a platform cannot
hold (for example previews in KoboToolbox) are left out; every complete
response is always written, so that every format ingests to the same answers.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import cast

from consult.synth.generate import SynthConsultation

Writer = Callable[[SynthConsultation, Path], Path]

# format name -> ("module:function", default file suffix)
EXPORTS: dict[str, tuple[str, str]] = {
    "canonical": ("consult.synth.write:write_canonical", ".csv"),
    "xlsx": ("consult.synth.exports.table:write_xlsx", ".xlsx"),
    "jsonl": ("consult.synth.exports.table:write_jsonl", ".jsonl"),
    "qualtrics": ("consult.synth.exports.qualtrics:write_qualtrics", ".csv"),
    "qualtrics-legacy": ("consult.synth.exports.qualtrics:write_qualtrics_legacy", ".csv"),
    "qualtrics-tsv": ("consult.synth.exports.qualtrics:write_qualtrics_tsv", ".tsv"),
    "surveymonkey": ("consult.synth.exports.surveymonkey:write_surveymonkey", ".csv"),
    "kobo": ("consult.synth.exports.kobo:write_kobo", ".csv"),
    "odk": ("consult.synth.exports.odk:write_odk", ".csv"),
    "limesurvey": ("consult.synth.exports.limesurvey:write_limesurvey", ".csv"),
}


def writer(name: str) -> Writer:
    """The writer registered as ``name``."""
    module, _, function = EXPORTS[name][0].partition(":")
    return cast(Writer, getattr(importlib.import_module(module), function))
