"""consult themes export: one tidy row per unit and theme, internal respondent ids, redacted text."""

from __future__ import annotations

import csv
from pathlib import Path

from test_themes_curation import add_responses, build_project, share_cache
from typer.testing import CliRunner

from consult.analysis.text.export import EXPORT_COLUMNS
from consult.analysis.text.redact import redact
from consult.cli.main import app
from consult.questionnaire import load_questionnaire
from consult.store import open_store
from consult.store.responses import load_responses
from consult.synth import generate

runner = CliRunner()
PLANTED = ["Write to warden.jones@example.org: Kingston Penitentiary keeps them in a unit.",
           "Call +1 (613) 555-0142 about the separation unit at HMP Belmarsh.",
           "=HYPERLINK(1) keeps them in a separate unit."]  # a spreadsheet would run it


def test_export_writes_tidy_rows_with_internal_ids(tmp_path: Path) -> None:
    project = build_project(tmp_path / "p", respondents=20, plant={"acc_practice": PLANTED})
    (tmp_path / "cache").mkdir()
    share_cache(project, tmp_path / "cache")
    base = ["--project", str(project.root)]
    before = runner.invoke(app, [*base, "themes", "export"])
    assert before.exit_code == 1
    assert before.stderr == (f"Error: no results.json in {project.out_dir}: run consult themes "
                             "fit first\n")
    assert runner.invoke(app, [*base, "themes", "fit", "acc_practice"]).exit_code == 0

    result = runner.invoke(app, [*base, "themes", "export"])
    assert result.exit_code == 0, result.output
    path = project.out_dir / "themes-export.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        rows = [dict(zip(header, row, strict=True)) for row in reader]
    assert result.stdout == f"Wrote {len(rows)} rows to {path}\n"
    assert tuple(header) == EXPORT_COLUMNS
    # The same answers and themes as out/themes.csv, now per sentence unit: each theme of an
    # answer is held by at least one of its sentences, and by no sentence of another answer.
    with (project.out_dir / "themes.csv").open(encoding="utf-8") as handle:
        fitted = {(r["respondent"], r["item"], r["theme"], r["label"])
                  for r in csv.DictReader(handle)}
    assert {(r["respondent"], r["item"], r["theme"], r["label"]) for r in rows} == fitted
    assert len({(r["respondent"], r["unit"], r["theme"]) for r in rows}) == len(rows)
    units: dict[str, set[int]] = {}
    for r in rows:
        units.setdefault(r["respondent"], set()).add(int(r["unit"]))
    assert any(max(numbers) > 1 for numbers in units.values())  # answers of several sentences
    # respondent: the store's internal id, never a referral code or the source's response id.
    with open_store(project.database_url) as store:
        respondents, answers = load_responses(store)
    ids = {str(i) for i in respondents["id"]}
    outside = {str(c) for c in respondents["referral_code"]} | {
        str(s) for s in respondents["source_id"]}
    assert {r["respondent"] for r in rows} <= ids
    assert not {r["respondent"] for r in rows} & outside
    # text: the respondent's answer, redacted.
    answer = {str(r): str(v) for r, i, v in zip(answers["respondent_id"], answers["item_id"],
                                                answers["value"], strict=True)
              if i == "acc_practice"}
    planted = " ".join(r["text"] for r in rows if answer[r["respondent"]] in PLANTED)
    assert "[redacted]" in planted
    assert not {"jones", "example.org", "Kingston", "613", "Belmarsh"} & set(
        planted.replace(":", " ").split()) and "Kingston" not in planted
    # Each unit is a sentence of its answer, redacted; a cell a spreadsheet would run as a
    # formula starts with an apostrophe, which spreadsheets hide.
    formula = [r["text"] for r in rows if answer[r["respondent"]] == PLANTED[2]]
    assert formula and all(text.startswith("'=HYPERLINK(1)") for text in formula)
    plain = {r["respondent"]: redact(answer[r["respondent"]]) for r in rows}
    assert all(r["text"].removeprefix("'").rstrip(".") in plain[r["respondent"]] for r in rows)

    chosen = tmp_path / "coded.csv"
    one = runner.invoke(app, [*base, "themes", "export", "acc_practice", "-o", str(chosen)])
    assert one.exit_code == 0 and chosen.read_bytes() == path.read_bytes()
    unknown = runner.invoke(app, [*base, "themes", "export", "rec_practice"])
    assert unknown.exit_code == 1
    assert unknown.stderr == "Error: no themes for 'rec_practice'; fitted items: acc_practice\n"

    (project.cache_dir / "themes" / "acc_practice.json").unlink()
    lost = runner.invoke(app, [*base, "themes", "export"])
    assert lost.stderr == ("Error: the units of acc_practice are not kept for the data of "
                           "results.json: run consult themes fit acc_practice again\n")

    # New answers: analysis drops the themes of the old data, and so does the export.
    add_responses(project, generate(load_questionnaire(project.questionnaire_path), 3, seed=5,
                                    junk=0), "later")
    assert runner.invoke(app, [*base, "analyze"]).exit_code == 0
    stale = runner.invoke(app, [*base, "themes", "export"])
    assert stale.stderr == "Error: no themes in results.json yet: run consult themes fit first\n"

