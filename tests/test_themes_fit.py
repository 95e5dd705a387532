"""Themes of free-text answers: small corpora, several themes an answer, determinism, cache, CLI."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from consult.analysis.text.embed import MiniLMEmbedder
from consult.analysis.text.preprocess import Answer, is_non_answer, prepare
from consult.analysis.text.themes import Code, fit_themes, keywords, load_codebook
from consult.cli.main import app
from consult.errors import ConsultError
from consult.project import Project, init_project
from consult.questionnaire import load_questionnaire
from consult.results import read_results
from consult.results.themes import item_themes
from consult.store import open_store
from consult.store.responses import IngestRecord, write_ingest
from consult.synth import generate
from consult.synth.records import synth_records

runner = CliRunner()
R361 = Path(__file__).resolve().parents[1] / "questionnaires" / "r361.yaml"


@pytest.fixture(scope="session")
def accommodation() -> list[tuple[str, list[str]]]:
    """25 synthetic English answers to acc_practice with their planted themes."""
    consultation = generate(load_questionnaire(R361), 60, seed=11, junk=0)
    rows = [(r.answers["acc_practice"], r.themes["acc_practice"]) for r in consultation.complete
            if r.themes.get("acc_practice") and r.text_language.get("acc_practice") == "en"]
    assert len(rows) >= 25
    return [(str(text), themes) for text, themes in rows[:25]]


def test_25_answers_give_several_themes_none_empty(
        embedder: MiniLMEmbedder, accommodation: list[tuple[str, list[str]]]) -> None:
    fit = fit_themes([t for t, _ in accommodation], embedder)
    assert len(fit.themes) >= 2
    assert all(theme.members and theme.label and theme.keywords for theme in fit.themes)
    assert all(assigned for assigned in fit.assignments)  # every answer has a theme
    for theme in fit.themes:
        assert all(theme.id in {t for t, _ in fit.assignments[i]} for i in theme.members)


def test_answers_naming_several_practices_get_several_themes(embedder: MiniLMEmbedder) -> None:
    codebook = [
        Code("dispersal", "Dispersal across institutions",
             examples=("Spread them across several prisons so no group forms.",)),
        Code("training", "Staff training",
             examples=("Train front-line officers to recognise the signs.",)),
        Code("family", "Family contact", examples=("Encourage visits from family members.",)),
    ]
    texts = ["Spread them out across several institutions, and train front-line staff to "
             "recognise the signs of radicalization.",
             "Encourage family visits.",
             "Disperse them among many prisons."]
    fit = fit_themes(texts, embedder, codebook=codebook, code_margin=0.15)
    first = [t for t, _ in fit.assignments[0]]
    assert {"dispersal", "training"} <= set(first)
    assert next(t for t, _ in fit.assignments[1]) == "family"
    assert [t for t, _ in fit.assignments[2]] == ["dispersal"]


def test_codebook_leaves_uncovered_answers_to_new_themes(embedder: MiniLMEmbedder) -> None:
    codebook = [Code("family", "Family contact and visits")]
    texts = ["Encourage family visits.", "More visits from relatives help.",
             "Quantum chromodynamics of gluons", "Gluon fields and quarks in physics"]
    fit = fit_themes(texts, embedder, codebook=codebook, min_similarity=0.3)
    assert fit.assignments[0][0][0] == "family" and fit.assignments[1][0][0] == "family"
    assert fit.assignments[2][0][0].startswith("N") and fit.assignments[3][0][0].startswith("N")
    assert fit.theme("family").source == "codebook"


def test_fits_are_deterministic(embedder: MiniLMEmbedder,
                                accommodation: list[tuple[str, list[str]]]) -> None:
    texts = [t for t, _ in accommodation]
    assert fit_themes(texts, embedder) == fit_themes(texts, embedder)


def test_tiny_inputs_never_fail(embedder: MiniLMEmbedder) -> None:
    assert fit_themes([], embedder).themes == ()
    one = fit_themes(["Disperse them across institutions."], embedder)
    assert [t.id for t in one.themes] == ["T1"] and one.assignments == ((("T1", 1.0),),)


def test_cache_hit_on_rerun_embeds_nothing(tmp_path: Path) -> None:
    texts = ["Dispersal works for us.", "Train the staff.", "Dispersal works for us."]
    first = MiniLMEmbedder(cache_dir=tmp_path)
    vectors = first.embed(texts)
    assert first.encoded == 2  # the repeated text is embedded once
    again = MiniLMEmbedder(cache_dir=tmp_path)
    assert np.array_equal(again.embed(list(reversed(texts))), vectors[::-1])
    assert again.encoded == 0
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_non_answers_are_set_aside_and_counted() -> None:
    for text in ["", "  ", "N/A", "n/a", "None", "No comment", "rien", "Rien.", "S.O.", "-",
                 "Aucun commentaire", "No sé", "None at this time."]:
        assert is_non_answer(text), text
    assert not is_non_answer("None of them should be isolated.")
    answers = [Answer(1, "q", "N/A"), Answer(2, "q", "Nous les dispersons dans plusieurs "
                                                     "établissements"),
               Answer(3, "q", "We disperse them across several sites"), Answer(4, "q", "ok")]
    prepared = prepare(answers, ["en", "fr"])
    assert prepared.non_answers == 1
    assert [u.respondent_id for u in prepared.units] == [2, 3, 4]
    assert prepared.languages == ("fr", "en", "unknown")


def test_keywords_by_class_tf_idf() -> None:
    found = keywords(["dispersal dispersal sites prison", "training staff staff prison"],
                     top=2, stop_words=["prison"])
    # Class 1: dispersal 2/4 words, sites 1/4, "dispersal sites" 1/3 ... idf favours the
    # words only one class uses, so each class's most frequent own word comes first.
    assert [words[0] for words in found] == ["dispersal", "staff"]
    assert all(len(set(w.split())) == len(w.split()) for words in found for w in words)


def test_codebook_file_problems_are_named(tmp_path: Path) -> None:
    path = tmp_path / "codes.yaml"
    path.write_text("themes:\n  - id: a\n    label: A\n  - label: B\n", encoding="utf-8")
    with pytest.raises(ConsultError, match="code 2 needs an id and a label"):
        load_codebook(path)
    path.write_text("themes:\n  - id: a\n    label: A\n    examples: one\n", encoding="utf-8")
    assert load_codebook(path) == (Code("a", "A", "", ("one",)),)


# --------------------------------------------------------------------------- the CLI


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    """A project holding 40 synthetic respondents, stored as a perfect ingest would."""
    project = init_project(tmp_path / "p")
    consultation = generate(load_questionnaire(project.questionnaire_path), 40, seed=7)
    records = synth_records(consultation)
    with open_store(project.database_url) as store:
        write_ingest(store, IngestRecord(source_format="synth", file_name="synth.csv",
                                         sha256="0" * 64, rows_read=len(records)), records)
    yield project


def test_cli_fit_writes_csv_and_results_then_show(project: Project, model_cache: Path) -> None:
    base = ["--project", str(project.root)]
    # Share the session's embedding cache: the texts are the same across runs of this test.
    cache = project.cache_dir / "embeddings"
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.symlink_to(model_cache, target_is_directory=True)
    result = runner.invoke(app, [*base, "themes", "fit", "acc_practice", "rec_practice"])
    assert result.exit_code == 0, result.output
    assert "acc_practice: " in result.stdout and "Wrote " in result.stdout
    # Not a terminal, so no progress bar: a line on stderr as each item starts and ends.
    steps = [line for line in result.stderr.splitlines() if "/2)" in line]
    assert [re.sub(r"\): \d+ answers, done in \d+\.\d s$", "): N answers, done in T s", line)
            for line in steps] == [
        "acc_practice (1/2): fitting themes ...",
        "acc_practice (1/2): N answers, done in T s",
        "rec_practice (2/2): fitting themes ...",
        "rec_practice (2/2): N answers, done in T s",
    ], result.stderr
    with (project.out_dir / "themes.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert rows and set(rows[0]) == {"respondent", "item", "theme", "label", "score", "rank"}
    assert {r["item"] for r in rows} == {"acc_practice", "rec_practice"}
    section = item_themes(read_results(project.out_dir / "results.json").themes)
    acc = section["acc_practice"]
    assert acc.method == "discovery" and acc.model == "all-MiniLM-L6-v2"
    assert len(acc.themes) >= 2 and acc.n_non_answers >= 0
    for theme in acc.themes:
        assert 1 <= len(theme.quotes) <= 3
        assert all(q.attribution for q in theme.quotes)
        # Small cells never show: a count is either >= threshold or null.
        for row in theme.by_region + theme.by_role:
            assert row.count is None or row.count >= 5 or row.count == 0
            assert (row.count is None) == (row.suppressed is not None)
    text = json.dumps(read_results(project.out_dir / "results.json").themes)
    assert "respondent_id" not in text

    shown = runner.invoke(app, [*base, "themes", "show", "acc_practice"])
    assert shown.exit_code == 0, shown.output
    assert shown.stdout.startswith("acc_practice (discovery, all-MiniLM-L6-v2): ")
    assert "keywords: " in shown.stdout

    missing = runner.invoke(app, [*base, "themes", "show", "nope"])
    assert missing.exit_code == 1
    assert missing.stderr == "Error: no themes for 'nope'; fitted items: acc_practice, rec_practice\n"


def test_cli_bad_item_gets_one_clean_line(project: Project) -> None:
    result = runner.invoke(app, ["--project", str(project.root), "themes", "fit", "role"])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: 'role' is not a free-text item of r361; use one of "
                                    "acc_practice, ")


def test_cli_show_before_fit(project: Project) -> None:
    result = runner.invoke(app, ["--project", str(project.root), "themes", "show"])
    assert result.exit_code == 1
    assert result.stderr == f"Error: no results.json in {project.out_dir}: run consult themes fit first\n"


@pytest.mark.parametrize("command", ["fit", "show", "agreement"])
def test_cli_help_has_an_example(command: str) -> None:
    result = runner.invoke(app, ["themes", command, "--help"])
    assert result.exit_code == 0
    assert "Example: consult themes " in result.stdout


def _set_themes(project: Project, lines: str) -> Path:
    """Replace the ``[themes]`` section of ``project``'s consult.toml by ``lines``."""
    path = project.root / "consult.toml"
    text = path.read_text(encoding="utf-8")
    head, _, _ = text.partition("[themes]")
    path.write_text(f"{head}[themes]\n{lines}\n", encoding="utf-8")
    return project.root


def _with_themes(project: Project, lines: str) -> Project:
    """``project`` read again after :func:`_set_themes`."""
    from consult.project import load_project

    return load_project(explicit=_set_themes(project, lines))


def _share_cache(project: Project, model_cache: Path) -> None:
    cache = project.cache_dir / "embeddings"
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.symlink_to(model_cache, target_is_directory=True)


def _keywords(project: Project, item: str) -> set[str]:
    section = item_themes(read_results(project.out_dir / "results.json").themes)[item]
    return {w for theme in section.themes for k in theme.keywords for w in k.split()}


def test_themes_settings_give_stop_words_threshold_and_codebook(project: Project,
                                                                 model_cache: Path) -> None:
    from consult.analysis.text.run import fit_project_themes

    _share_cache(project, model_cache)
    plain = fit_project_themes(project, ["acc_practice"]).items["acc_practice"]
    words = _keywords(project, "acc_practice")
    common = sorted(words)[:2]
    assert common and plain.settings["threshold"] == 0.75
    # Extra stop words leave the keywords; the threshold and the list are recorded.
    tuned = _with_themes(project, f"threshold = 0.6\nextra_stop_words = {json.dumps(common)}")
    found = fit_project_themes(tuned, ["acc_practice"]).items["acc_practice"]
    assert not set(common) & _keywords(tuned, "acc_practice")
    assert found.settings["threshold"] == 0.6
    assert set(common) <= set(found.settings["stop_words"])
    assert "offender" in found.settings["stop_words"]  # added to consult's list
    # stop_words replaces consult's list.
    replaced = _with_themes(project, 'stop_words = ["zzz"]')
    found = fit_project_themes(replaced, ["acc_practice"]).items["acc_practice"]
    assert found.settings["stop_words"] == ["zzz"]
    # A codebook by name from the settings; the command line's --threshold still wins.
    coded = _with_themes(project, 'codebook = "r361-roundtable"')
    result = runner.invoke(app, ["--project", str(coded.root), "themes", "fit", "acc_practice",
                                 "--threshold", "0.7"])
    assert result.exit_code == 0, result.output
    section = item_themes(read_results(coded.out_dir / "results.json").themes)["acc_practice"]
    assert section.method == "codebook" and section.settings["threshold"] == 0.7
    assert section.settings["codebook"] == "r361-roundtable.yaml"  # which codebook, on record


def test_themes_settings_problems_are_named(project: Project) -> None:
    base = ["--project", str(project.root), "themes", "fit", "acc_practice"]
    _set_themes(project, "threshold = 3")
    result = runner.invoke(app, base)
    assert result.exit_code == 1
    assert "[themes] threshold" in result.stderr and "consult.toml" in result.stderr
    _set_themes(project, 'codebook = "codebooks/missing.yaml"')
    result = runner.invoke(app, base)
    assert result.exit_code == 1
    assert "[themes] codebook codebooks/missing.yaml: no such file" in result.stderr
    result = runner.invoke(app, ["--project", str(project.root), "themes", "code", "acc_practice"])
    assert result.exit_code == 1
    assert "[themes] codebook" in result.stderr


def test_text_cache_gives_the_same_units_and_lemmas_and_skips_spacy_on_rerun(
        tmp_path: Path, accommodation: list[tuple[str, list[str]]]) -> None:
    from consult.analysis.text.preprocess import TextCache, content_lemmas, split_units

    texts = [t for t, _ in accommodation] + ["Dr. Smith said: train staff; e.g. twice a year."]
    languages = ["en"] * (len(texts) - 1) + ["fr"]
    first = TextCache(tmp_path / "text")
    units = first.split_units(texts, languages)
    assert units == split_units(texts, languages) and first.hits == 0
    flat = [u for us in units for u in us]
    lemmas = first.content_lemmas(flat, None, ["staff"], gaps=True)
    assert lemmas == content_lemmas(flat, None, ["staff"], gaps=True)

    again = TextCache(tmp_path / "text")
    assert again.split_units(texts, languages) == units
    assert again.content_lemmas(flat, None, ["staff"], gaps=True) == lemmas
    assert again.hits == len(texts) + len(flat)
    # The same text in another language, or other stop words, is computed afresh.
    other = TextCache(tmp_path / "text")
    assert other.content_lemmas(flat, None, ["train"], gaps=True) == content_lemmas(
        flat, None, ["train"], gaps=True)
    assert other.split_units(texts[:1], ["fr"]) == split_units(texts[:1], ["fr"])
    assert other.hits == 0
    # A damaged file is only a slower run.
    for path in (tmp_path / "text").glob("*.json"):
        path.write_text("{not json", encoding="utf-8")
    damaged = TextCache(tmp_path / "text")
    assert damaged.split_units(texts, languages) == units and damaged.hits == 0


def test_a_fit_with_the_text_cache_equals_one_without(
        tmp_path: Path, embedder: MiniLMEmbedder,
        accommodation: list[tuple[str, list[str]]]) -> None:
    from consult.analysis.text.preprocess import TextCache

    texts = [t for t, _ in accommodation]
    plain = fit_themes(texts, embedder)
    cached = fit_themes(texts, embedder, text_cache=TextCache(tmp_path / "text"))
    again = fit_themes(texts, embedder, text_cache=TextCache(tmp_path / "text"))
    assert plain.assignments == cached.assignments == again.assignments
    assert [t.keywords for t in plain.themes] == [t.keywords for t in again.themes]
