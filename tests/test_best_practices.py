"""Candidate best practices in results.json: ranking by support, quotes, disclosure, CLI views."""

from __future__ import annotations

import csv
import re
from collections import Counter
from pathlib import Path

import pytest
from test_themes_curation import build_project
from typer.testing import CliRunner

from consult.analysis.text.embed import MiniLMEmbedder
from consult.analysis.text.practices import RANKING
from consult.analysis.text.redact import redact
from consult.analysis.text.run import ThemesRun, fit_project_themes
from consult.cli.main import app
from consult.project import Project
from consult.questionnaire import load_questionnaire
from consult.results import read_results
from consult.results.themes import best_practices
from consult.store import open_store
from consult.store.responses import load_responses

runner = CliRunner()
ITEMS = ["acc_practice", "best_practice"]
NUMBERED = re.compile(r"\s*\d+\. ")


def shown_regions(region: dict[str, str], threshold: int) -> dict[str, str]:
    """Respondent → region as the tables show it: regions under ``threshold`` merged into
    "(other)", with the smallest shown region too while the merged group stays small."""
    sizes = Counter(region.values())
    small = sorted(r for r, n in sizes.items() if n < threshold)
    merged = set(small)
    while merged and sum(sizes[r] for r in merged) < threshold and set(sizes) - merged:
        merged.add(min(set(sizes) - merged, key=lambda g: (sizes[g], g)))
    return {p: "(other)" if r in merged else r for p, r in region.items()}


@pytest.fixture(scope="module")
def fitted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Project, ThemesRun]:
    """40 synthetic respondents; themes of a domain's practice question and the closing one."""
    embedder = MiniLMEmbedder(cache_dir=tmp_path_factory.mktemp("embeddings"))
    project = build_project(tmp_path_factory.mktemp("bp") / "p", respondents=40, seed=3)
    return project, fit_project_themes(project, ITEMS, embedder=embedder)


def test_practices_are_ranked_by_respondents_countries_then_regions(
        fitted: tuple[Project, ThemesRun]) -> None:
    project, done = fitted
    ranked = best_practices(read_results(done.results_path).best_practices)
    assert ranked is not None and ranked == done.best_practices
    assert ranked.ranking == RANKING
    # Support computed independently: themes.csv rows joined to the store's respondents.
    with open_store(project.database_url) as store:
        respondents, _ = load_responses(store)
    country = {str(i): c for i, c in zip(respondents["id"], respondents["country_iso3"],
                                         strict=True)}
    region = {str(i): r for i, r in zip(respondents["id"], respondents["region"], strict=True)}
    with done.csv_path.open(encoding="utf-8") as handle:
        people: dict[tuple[str, str], set[str]] = {}
        for row in csv.DictReader(handle):
            people.setdefault((row["item"], row["theme"]), set()).add(row["respondent"])
    shown = shown_regions(region, project.settings.disclosure.threshold)
    expected = {key: (len(who), len({country[p] for p in who if country[p]}),
                      len({shown[p] for p in who if region[p]})) for key, who in people.items()}
    got = {(p.item_id, p.theme_id): (p.n_respondents, p.n_countries, p.n_regions)
           for p in ranked.practices}
    assert got == expected
    assert len(got) > 10 and len({n for n, _, _ in got.values()}) > 2  # a ranking to check
    order = [i.id for i in load_questionnaire(project.questionnaire_path).items()]
    keys = [(-p.n_respondents, -p.n_countries, -p.n_regions, order.index(p.item_id))
            for p in ranked.practices]
    assert keys == sorted(keys)
    assert [p.rank for p in ranked.practices] == list(range(1, len(keys) + 1))
    assert {p.item_id: p.domain for p in ranked.practices} == {"acc_practice": "accommodation",
                                                               "best_practice": "overall"}
    assert not any(p.marked for p in ranked.practices)  # nothing marked in themes.yaml yet


def test_quotes_are_redacted_representative_and_attributed_by_region_and_role(
        fitted: tuple[Project, ThemesRun]) -> None:
    project, done = fitted
    ranked = done.best_practices
    assert ranked is not None
    with open_store(project.database_url) as store:
        respondents, answers = load_responses(store)
    region = {str(i): r for i, r in zip(respondents["id"], respondents["region"], strict=True)}
    text = {(str(r), i): str(v) for r, i, v in zip(answers["respondent_id"], answers["item_id"],
                                                   answers["value"], strict=True)}
    with done.csv_path.open(encoding="utf-8") as handle:
        people: dict[tuple[str, str], set[str]] = {}
        for row in csv.DictReader(handle):
            people.setdefault((row["item"], row["theme"]), set()).add(row["respondent"])
    for practice in ranked.practices:
        who = people[(practice.item_id, practice.theme_id)]
        distinct = {redact(text[(p, practice.item_id)]) for p in who}
        assert len(practice.quotes) == min(3, len(distinct))
        assert {q.text for q in practice.quotes} <= distinct
        sizes = Counter(region.values())
        threshold = project.settings.disclosure.threshold
        for quote in practice.quotes:
            first = quote.attribution.split(", ")[0]
            if first in sizes:  # a region is named only when the tables show it on its own
                assert first in {region[p] for p in who} and sizes[first] >= threshold
            else:
                assert first in {"Other regions", "Respondent"} or first.istitle(), first


def test_support_by_region_respects_the_disclosure_threshold(
        fitted: tuple[Project, ThemesRun]) -> None:
    project, done = fitted
    threshold = project.settings.disclosure.threshold
    assert done.best_practices is not None
    with open_store(project.database_url) as store:
        respondents, _ = load_responses(store)
    region = {str(i): r for i, r in zip(respondents["id"], respondents["region"], strict=True)}
    # Regions as the tables show them: those under the threshold in the sample are merged.
    small = {r for r, n in Counter(region.values()).items() if n < threshold}
    assert small, "the fixture must hold a small region for this test to mean anything"
    shown = shown_regions(region, threshold)
    with done.csv_path.open(encoding="utf-8") as handle:
        people: dict[tuple[str, str], set[str]] = {}
        for row in csv.DictReader(handle):
            people.setdefault((row["item"], row["theme"]), set()).add(row["respondent"])
    hidden_somewhere = False
    for practice in done.best_practices.practices:
        counts: dict[str, int] = {}
        for p in people[(practice.item_id, practice.theme_id)]:
            counts[shown[p]] = counts.get(shown[p], 0) + 1
        assert {r.group for r in practice.by_region} == set(counts)
        assert not {r.group for r in practice.by_region} & small
        assert practice.n_regions <= len(set(shown.values()))
        hidden = [r for r in practice.by_region if r.count is None]
        for row in practice.by_region:
            if row.count is not None:
                assert row.count == counts[row.group] and row.count >= threshold
            else:
                assert row.display in (f"<{threshold}", "x")
        # The total is published: one hidden cell alone could be worked out from it.
        assert len(hidden) != 1 or len(practice.by_region) == 1
        hidden_somewhere |= bool(hidden)
    assert hidden_somewhere


def test_cli_shows_best_practices(fitted: tuple[Project, ThemesRun]) -> None:
    project, done = fitted
    assert done.best_practices is not None
    top = done.best_practices.practices[0]
    base = ["--project", str(project.root)]
    shown = runner.invoke(app, [*base, "themes", "show", "--best-practices", "--top", "3"])
    assert shown.exit_code == 0, shown.output
    lines = shown.stdout.splitlines()
    assert lines[0] == f"Candidate best practices, by {RANKING}:"
    assert lines[1] == (f"  1. {top.label} ({top.item_id}, {top.theme_id})  {top.n_respondents} "
                        f"respondents, {top.n_countries} countries, {top.n_regions} regions")
    assert [line[:5] for line in lines if NUMBERED.match(line)] == ["  1. ", "  2. ", "  3. "]
    everything = runner.invoke(app, [*base, "results", "show", "best_practices"])
    assert everything.exit_code == 0
    assert everything.stdout.startswith("\n".join(lines[:2]))
    numbered = [line for line in everything.stdout.splitlines() if NUMBERED.match(line)]
    assert len(numbered) == len(done.best_practices.practices)


def test_show_best_practices_before_any_fit(tmp_path: Path) -> None:
    project = build_project(tmp_path / "p", respondents=5)
    assert runner.invoke(app, ["--project", str(project.root), "analyze"]).exit_code == 0
    result = runner.invoke(app, ["--project", str(project.root), "themes", "show",
                                 "--best-practices"])
    assert result.exit_code == 1
    assert result.stderr == "Error: no themes in results.json yet: run consult themes fit first\n"
