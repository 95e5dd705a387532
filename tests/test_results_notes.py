"""results.json's notes: written from one catalogue, read back and printed in French."""

from __future__ import annotations

import json
import re
import string
from pathlib import Path

import pytest

from consult.report.strings import region_name
from consult.results.notes import NAMES, TEMPLATES, WHERE, note, translate

SAMPLE = {"other": "Other regions", "names": "Asia, Europe", "small": "Asia", "threshold": 5,
          "where": "here", "grouping": "role", "regions": "Oceania", "n": 3, "primary": 4,
          "secondary": 2, "first": 3, "last": "3+", "members": 7}
FRENCH_NAMES = {"Other regions": "Autres régions", "role": "le rôle"}


def french(name: str) -> str:
    return FRENCH_NAMES.get(name) or region_name(name, "fr")


def fields(kind: str) -> dict[str, object]:
    return {f: SAMPLE[f] for _, f, _, _ in string.Formatter().parse(TEMPLATES[kind].en) if f}


@pytest.mark.parametrize("kind", sorted(TEMPLATES))
def test_every_note_reads_back_in_french(kind: str) -> None:
    english = note(kind, **fields(kind))
    assert translate(english, "en", french) == english
    text = translate(english, "fr", french)
    assert text != english
    # No English words of the template survive, and every value does, names in French.
    literal = " ".join(lit for lit, _, _, _ in string.Formatter().parse(TEMPLATES[kind].en))
    words = {w for w in re.findall(r"[a-z]{5,}", literal)} - {"point", "total"}  # French too
    assert not [w for w in words if re.search(rf"\b{w}\b", text)], text
    for key, value in fields(kind).items():
        if key in NAMES:
            assert ", ".join(french(p) for p in str(value).split(", ")) in text
        elif key == "where":
            assert WHERE[str(value)]["fr"] in text
        else:
            assert str(value) in text


def test_group_names_are_translated_one_by_one() -> None:
    english = note("merged_groups", other="Other regions", names="Asia, Europe, Africa",
                   small="Asia, Africa", threshold=5, where="in the chains")
    assert translate(english, "fr", french) == (
        "Autres régions = Asie, Europe, Afrique (Asie, Afrique : moins de 5 répondants dans les "
        "chaînes) ; aucun groupe aussi petit n’est présenté seul.")


def test_unknown_text_and_languages_stay_as_written() -> None:
    assert translate("A note no template knows.", "fr", french) == "A note no template knows."
    english = note("not_numbers", n=2)
    assert translate(english, "de", french) == english


def test_a_repeated_field_must_repeat_to_match() -> None:
    english = note("suppressed", primary=1, secondary=0, threshold=5)
    assert translate(english.replace("<5", "<6"), "fr", french) == english.replace("<5", "<6")


def _notes(value: object) -> list[str]:
    found: list[str] = []
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "notes":
                found += list(inner)
            else:
                found += _notes(inner)
    elif isinstance(value, list):
        for inner in value:
            found += _notes(inner)
    return found


def test_every_note_analysis_writes_is_in_the_catalogue(tmp_path: Path) -> None:
    """A fielding rehearsal (small regions merged, suppressed cells, chains) analysed."""
    from typer.testing import CliRunner

    from consult.cli.main import app

    runner = CliRunner()
    root = tmp_path / "p"
    steps = [["init", str(root)], ["--project", str(root), "synth", "-n", "60", "--seed", "3",
                                   "-f", "qualtrics", "-o", str(root / "q.csv")],
             ["--project", str(root), "ingest", str(root / "q.csv"), "--accept-mapping"],
             ["--project", str(root), "analyze"]]
    for step in steps:
        result = runner.invoke(app, step)
        assert result.exit_code == 0, result.output
    notes = _notes(json.loads((root / "out" / "results.json").read_text(encoding="utf-8")))
    assert len(notes) >= 3
    assert [n for n in notes if translate(n, "fr", french) == n] == []
