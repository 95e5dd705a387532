"""``consult themes export``: every unit's themes as one tidy CSV.

``consult themes fit`` keeps, per item, each unit's redacted text and its
published themes in ``.consult/themes/<item>.json``, stamped with the data's
SHA-256. :func:`export_themes` turns the files that still describe the data
of results.json into a CSV with one row per unit and theme:

``respondent``
    The store's internal respondent id (never a referral code, a source id or a name).
``item``
    The free-text item.
``unit``
    The unit's number within the respondent's answer: its sentences as the fit
    cut them (1 while whole answers are the units). A sentence holding no theme
    has no row.
``text``
    The unit, redacted as quotes are.
``theme``, ``label``
    The theme's id (themes.yaml's) and label.
``score``
    The unit's cosine similarity to the machine theme it holds the theme through.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from consult.csvcells import safe_cell
from consult.errors import ConsultError

EXPORT_COLUMNS = ("respondent", "item", "unit", "text", "theme", "label", "score")
EXPORT_FILE = "themes-export.csv"
UNITS_FOLDER = "themes"


@dataclass(frozen=True)
class UnitThemes:
    """One unit of one answer and its published themes, best first."""

    respondent: int
    item: str
    unit: int
    text: str
    """Redacted."""
    themes: tuple[tuple[str, str, float], ...]
    """``(theme id, label, score)``."""


def write_units(folder: Path, item_id: str, data_sha256: str,
                units: Sequence[UnitThemes]) -> Path:
    """Keep one item's units and themes for :func:`export_themes` (replacing earlier ones)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{item_id}.json"
    payload = {"item": item_id, "data_sha256": data_sha256,
               "units": [{"respondent": u.respondent, "unit": u.unit, "text": u.text,
                          "themes": [list(t) for t in u.themes]} for u in units]}
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
    partial.replace(path)
    return path


def read_units(folder: Path, item_id: str, data_sha256: str) -> list[UnitThemes] | None:
    """The units kept for ``item_id``; ``None`` when none are kept for this data."""
    path = folder / f"{item_id}.json"
    if not path.exists():
        return None
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if payload.get("data_sha256") != data_sha256:
        return None
    return [UnitThemes(respondent=int(u["respondent"]), item=item_id, unit=int(u["unit"]),
                       text=str(u["text"]),
                       themes=tuple((str(t), str(lab), float(s)) for t, lab, s in u["themes"]))
            for u in payload["units"]]


def export_themes(results_path: Path, folder: Path, output: Path,
                  items: Sequence[str] = ()) -> tuple[Path, int]:
    """Write the tidy CSV of the fitted items (or ``items``); return it and its row count.

    Raises
    ------
    ConsultError
        When results.json has no themes, an item was not fitted, or the fit's
        units are missing or belong to other data (fit again).
    """
    from consult.results import read_results

    if not results_path.exists():
        raise ConsultError(f"no {results_path.name} in {results_path.parent}: run consult "
                           "themes fit first")
    results = read_results(results_path)
    fitted = list(results.themes)
    if not fitted:
        raise ConsultError("no themes in results.json yet: run consult themes fit first")
    unknown = [i for i in items if i not in fitted]
    if unknown:
        raise ConsultError(f"no themes for {unknown[0]!r}; fitted items: {', '.join(fitted)}")
    rows = []
    for item_id in dict.fromkeys(items or fitted):
        units = read_units(folder, item_id, results.provenance.data_sha256)
        if units is None:
            raise ConsultError(f"the units of {item_id} are not kept for the data of "
                               f"{results_path.name}: run consult themes fit {item_id} again")
        rows += [(u.respondent, item_id, u.unit, safe_cell(u.text), theme, safe_cell(label),
                  f"{score:.4f}")
                 for u in units for theme, label, score in u.themes]
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".partial")
    with partial.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(EXPORT_COLUMNS)
        writer.writerows(rows)
    partial.replace(output)
    return output, len(rows)
