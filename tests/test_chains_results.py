"""results.json's chains section: aggregates by hand, suppression, the no-codes case, privacy."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_chains import HAND, frame
from typer.testing import CliRunner

from consult.analysis.chains_section import NO_CODES, chains_section
from consult.analysis.run import analyze_project
from consult.cli.main import app
from consult.project import init_project, load_project
from consult.questionnaire import load_questionnaire
from consult.results.model import Chains, ChainTable
from consult.sampling.seeds import add_seed
from consult.sampling.waves import open_wave
from consult.store import fielding, open_store
from consult.store.responses import IngestRecord, RespondentRecord, write_ingest
from consult.synth import generate
from consult.synth.exports import writer
from consult.synth.generate import SynthConsultation

runner = CliRunner()
E, A, F = "Europe", "Asia", "Africa"
T0 = datetime(2014, 9, 8, 9, 0, tzinfo=UTC)


def cells(table: ChainTable | None) -> dict[tuple[str, str], str]:
    assert table is not None
    return {(c.row, c.column): c.display for c in table.cells}


# --------------------------------------------------------------------------- by hand


def test_the_hand_example_without_suppression() -> None:
    # HAND (tests/test_chains.py): seeds 1 (E) and 8 (F); depths 0,1,1,2,2,2,3,0,1,1,3,4;
    # respondent 11 has no region. Threshold 1 suppresses nothing.
    chains = chains_section(HAND, threshold=1)
    assert chains.available and chains.reason is None
    assert (chains.n_respondents, chains.seeds, chains.roots, chains.recruited) == (12, 2, 2, 10)
    assert (chains.unknown_referrer, chains.cycles, chains.longest_chain) == (0, 0, 4)
    assert chains.wave_mismatches == 1  # 12 was recorded in wave 5, depth 4
    assert [(w.wave, w.count, w.pct) for w in chains.by_wave] == [
        (0, 2, "16.7"), (1, 4, "33.3"), (2, 3, "25.0"), (3, 2, "16.7"), (4, 1, "8.3")]
    # Seed 1's tree holds 9 (8 recruits), seed 8's 3 (2): R type 7 quartiles of (2, 8).
    seed = chains.recruits_per_seed
    assert seed is not None
    assert (seed.n, seed.mean, seed.median, seed.q1, seed.q3) == (2, 5.0, 5.0, 3.5, 6.5)
    per = chains.recruits_per_respondent
    assert per is not None and per.mean == pytest.approx(10 / 12)
    assert [(r.recruits, r.or_more, r.count) for r in chains.recruits_distribution] == [
        (0, False, 5), (1, False, 4), (2, False, 3)]
    # Regions largest first, then by name: Asia 4, Europe 4, Africa 3 (and 1 not stated).
    # Recruiter → recruit with both regions known: A→A 3→5, 3→6; A→F 5→7; E→E 1→2, 2→4;
    # E→A 1→3; F→F 8→9; F→E 8→10.
    assert cells(chains.transitions) == {
        (A, A): "2", (A, E): "0", (A, F): "1",
        (E, A): "1", (E, E): "2", (E, F): "0",
        (F, A): "0", (F, E): "1", (F, F): "1"}
    h = chains.homophily
    assert h is not None
    # Observed 5 of 8; expected (3·3 + 3·3 + 2·2) / 8 = 2.75 (rows A 3, E 3, F 2; columns
    # A 3, E 3, F 2); H = 5 / 2.75 = 20/11, as in tests/test_chains.py.
    assert (h.observed_same, h.recruitments, h.pct_same) == (5, 8, "62.5")
    assert h.expected_same == pytest.approx(2.75)
    assert h.index == pytest.approx(20 / 11)
    composition = cells(chains.composition)
    assert [composition[("1", g)] for g in (A, E, F, "(not stated)")] == ["1", "2", "1", "0"]
    assert [composition[("3", g)] for g in (A, E, F, "(not stated)")] == ["0", "0", "1", "1"]
    recruiters = cells(chains.recruiters_by_wave)
    # Wave 1: 2 and 3 recruited, 9 and 10 did not; wave 3: 11 did, 7 did not.
    assert [(recruiters[(w, "recruited")], recruiters[(w, "not_recruited")])
            for w in ("0", "1", "2", "3", "4")] == [("2", "0"), ("2", "2"), ("2", "1"),
                                                     ("1", "1"), ("0", "1")]


def test_small_groups_are_merged_and_small_cells_suppressed() -> None:
    chains = chains_section(HAND, threshold=5)
    # No region reaches 5: nothing crosses regions, and the homophily goes with it.
    assert chains.transitions is None and chains.composition is None and chains.homophily is None
    assert any("fewer than two regions" in note for note in chains.notes)
    # Depths 2 (6 respondents), 3 (2) and 4 (1) gather as "2+"; 1 and 2 recruits as "1 or more".
    recruiters = chains.recruiters_by_wave
    assert recruiters is not None
    assert [(g.key, g.total, g.merged_from) for g in recruiters.rows] == [
        ("0", 2, []), ("1", 4, []), ("2+", 6, ["2", "3", "4"])]
    assert [(r.recruits, r.or_more, r.count) for r in chains.recruits_distribution] == [
        (0, False, 5), (1, True, 7)]
    # Recruited / not: 2 0 | 2 2 | 3 3. Every count from 1 to 4 is primary; the published 0
    # would give its neighbour away (row total 2), so it goes too.
    assert cells(recruiters) == {("0", "recruited"): "<5", ("0", "not_recruited"): "x",
                                 ("1", "recruited"): "<5", ("1", "not_recruited"): "<5",
                                 ("2+", "recruited"): "<5", ("2+", "not_recruited"): "<5"}
    assert (recruiters.suppressed_primary, recruiters.suppressed_secondary) == (5, 1)
    assert all(c.count is None and c.pct is None and c.share is None for c in recruiters.cells)


def test_one_region_and_the_unstated_show_a_mix_but_no_transitions() -> None:
    # Six seeds in Europe, each recruiting one respondent who gave no region.
    rows: list[tuple[int, str | None, str | None, str | None]] = [
        (i, f"S{i}", None, E) for i in range(1, 7)]
    rows += [(i + 6, f"R{i}", f"S{i}", None) for i in range(1, 7)]
    chains = chains_section(frame(rows), threshold=5)
    assert chains.transitions is None and chains.homophily is None
    assert "Recruitments between regions are not shown: only one region has 5 respondents or " \
        "more in the chains." in chains.notes
    assert cells(chains.composition) == {("0", E): "6", ("0", "(not stated)"): "0",
                                         ("1", E): "0", ("1", "(not stated)"): "6"}


def test_unknown_referrers_and_cycles_are_counted_not_listed() -> None:
    chains = chains_section(frame([
        (1, "S1", None, E), (2, "X2", "NOSUCH", A), (3, "X3", "X2", A), (4, "K4", "K5", E),
        (5, "K5", "K4", E), (6, None, None, E)]), threshold=1)
    assert (chains.unknown_referrer, chains.cycles, chains.in_cycles) == (1, 1, 2)
    assert (chains.n_respondents, chains.n_without_code) == (5, 1)  # 6 carries no code at all
    assert (chains.seeds, chains.roots) == (1, 3)
    assert [n for n in chains.notes if "matches no respondent" in n or "loop" in n
            or "no referral code" in n] == [
        "1 respondent(s) gave a referrer's code that matches no respondent: they are kept, "
        "each as the root of a tree.",
        "1 recruitment loop(s) (2 respondents) were broken at one point each.",
        "1 included respondent(s) carry no referral code and are not in the chains."]


def test_no_codes_at_all_says_so() -> None:
    chains = chains_section(frame([(1, None, None, E), (2, "", " ", A)]), threshold=5)
    assert chains == Chains(available=False, reason=NO_CODES, n_without_code=2)
    # A results.json written before chains were analysed ("chains": {}) still reads.
    assert Chains.model_validate({}).available is False


# --------------------------------------------------------------------------- protection


def null_space(matrix: np.ndarray) -> np.ndarray:
    """Columns spanning {x : matrix · x = 0}."""
    if matrix.size == 0:
        return np.eye(matrix.shape[1])
    _, singular, vt = np.linalg.svd(matrix)
    rank = int((singular > 1e-9).sum())
    return np.asarray(vt[rank:].T)


def attacker_view(chains: Chains) -> tuple[list[tuple[str, str, str]], np.ndarray, set[int]]:
    """What a reader of results.json can write down: the suppressed cells, the null space of
    every relation they know between them, and which of them are primary."""
    tables = {"t": chains.transitions, "c": chains.composition, "r": chains.recruiters_by_wave}
    value: dict[tuple[str, str, str], int | None] = {}
    for name, table in tables.items():
        if table is not None:
            value.update({(name, c.row, c.column): c.count for c in table.cells})
    hidden = [k for k, v in value.items() if v is None]
    primary = {i for i, k in enumerate(hidden)
               if tables[k[0]] is not None and next(
                   c for c in tables[k[0]].cells if (c.row, c.column) == k[1:]).suppressed
               == "primary"}
    relations: list[list[tuple[str, str, str]]] = []
    t, c, r = chains.transitions, chains.composition, chains.recruiters_by_wave
    if t is not None and c is not None:
        regions = [g.key for g in t.columns]
        relations.append([("t", g, h) for g in regions for h in regions])  # the total
        relations.append([("t", g, g) for g in regions])  # observed same-region
        relations += [[("c", w.key, g.key) for g in c.columns] for w in c.rows]  # wave totals
        relations += [[("c", w.key, g.key) for w in c.rows] for g in c.columns]  # region totals
        # A region's roots (wave 0) and its recruits (a column of transitions) make its total.
        relations += [[("c", c.rows[0].key, h), *(("t", g, h) for g in regions)]
                      for h in regions]
    if r is not None:
        relations += [[("r", w.key, col.key) for col in r.columns] for w in r.rows]
        relations += [[("r", w.key, col.key) for w in r.rows] for col in r.columns
                      if col.total is not None]
    matrix = np.array([[1.0 if k in set(rel) else 0.0 for k in hidden] for rel in relations
                       if any(k in set(rel) for k in hidden)]).reshape(-1, len(hidden))
    return hidden, null_space(matrix), primary


@pytest.mark.parametrize(("respondents", "seed", "planted"), [(40, 1, 0.9), (90, 2, 0.7),
                                                               (160, 3, 0.5)])
def test_no_suppressed_count_can_be_worked_out(respondents: int, seed: int,
                                               planted: float) -> None:
    questionnaire = load_questionnaire(Path(__file__).resolve().parents[1] / "questionnaires"
                                       / "r361.yaml")
    consultation = generate(questionnaire, respondents, seed=seed, waves=3, junk=0.0,
                            homophily=planted)
    people = pd.DataFrame([(i, r.referral_code, r.referred_by, r.region, r.wave)
                           for i, r in enumerate(consultation.complete, start=1)],
                          columns=["id", "referral_code", "referred_by", "region", "wave"])
    chains = chains_section(people, threshold=5)
    hidden, null, primary = attacker_view(chains)
    assert primary, "the example must have something to protect"
    # A suppressed cell is determined when every solution gives it the same value: its row
    # of the null space is zero.
    determined = [hidden[i] for i in primary if np.allclose(null[i], 0.0)]
    assert determined == []
    # The homophily index is quadratic in the transitions: it is published only when their
    # suppressed cells keep at least two degrees of freedom.
    hidden_t = [i for i, k in enumerate(hidden) if k[0] == "t"]
    assert chains.homophily is not None
    if hidden_t and chains.homophily.index is not None:
        assert np.linalg.matrix_rank(null[hidden_t]) >= 2
    if hidden_t and np.linalg.matrix_rank(null[hidden_t]) < 2:
        assert chains.homophily.index is None and chains.homophily.expected_same is None


NA, OC = "North America", "Oceania"
FLOWS = {(NA, NA): 20, (NA, OC): 7, (OC, NA): 2, (OC, OC): 9}


def two_regions() -> pd.DataFrame:
    """Eight seeds in North America and four in Oceania, with the recruitments of FLOWS."""
    rows: list[tuple[int, str | None, str | None, str | None]] = [
        (i, f"S{i}", None, NA if i <= 8 else OC) for i in range(1, 13)]
    for (recruiter, recruit), count in FLOWS.items():
        seeds = [i for i in range(1, 13) if (i <= 8) == (recruiter == NA)]
        for k in range(count):
            rid = len(rows) + 1
            rows.append((rid, f"R{rid}", f"S{seeds[k % len(seeds)]}", recruit))
    return frame(rows)


def test_the_homophily_index_is_withheld_when_it_would_give_a_cell_away() -> None:
    chains = chains_section(two_regions(), threshold=5)
    h = chains.homophily
    assert h is not None and chains.transitions is not None
    assert (h.index, h.expected_same) == (None, None)
    assert (h.observed_same, h.recruitments, h.pct_same) == (29, 38, "76.3")
    assert h.notes[0].startswith("The homophily index is withheld")
    # Why: what a reader knows leaves the suppressed transitions one degree of freedom,
    # T(s) = T + s·v. The index would publish E·T = Σ r_g c_g, a quadratic in s with the
    # true s = 0 as one root: at most one other value would remain for Oceania → North
    # America (a primary cell, 2).
    hidden, null, _ = attacker_view(chains)
    assert null.shape[1] == 1
    direction = dict(zip(hidden, null[:, 0], strict=True))
    order = [g.key for g in chains.transitions.columns]

    def expected_times_total(step: float) -> float:
        t = {(g, k): FLOWS[(g, k)] + step * direction.get(("t", g, k), 0.0)
             for g in order for k in order}
        return sum(sum(t[(g, k)] for k in order) * sum(t[(k, g)] for k in order)
                   for g in order)

    at = [expected_times_total(s) for s in (-1.0, 0.0, 1.0)]
    a, b = (at[0] + at[2] - 2 * at[1]) / 2, (at[2] - at[0]) / 2  # q(s) = a s² + b s + q(0)
    roots = {0.0} | ({-b / a} if abs(a) > 1e-9 else set())
    candidates = {round(FLOWS[(OC, NA)] + s * direction[("t", OC, NA)], 6) for s in roots}
    assert len(candidates) <= 2 and 2 in candidates
    # With a threshold of 2 nothing is suppressed and the index is published: observed 29;
    # expected (27·22 + 11·16) / 38 = 770 / 38; H = 29 · 38 / 770.
    shown = chains_section(two_regions(), threshold=2).homophily
    assert shown is not None and shown.index == pytest.approx(29 * 38 / 770)


# --------------------------------------------------------------------------- from the store


def test_web_form_responses_rebuild_their_chains_from_the_issued_codes(tmp_path: Path) -> None:
    """The web form stores only each respondent's own code; the parents come from the codes."""
    project = init_project(tmp_path / "p")
    regions = ["Oceania"] * 5 + ["North America"] * 5
    with open_store(project.database_url) as store:
        seeds = [add_seed(store, f"Seed {i}", f"s{i}@example.org", languages=("en",),
                          now=T0).code for i in range(10)]
        open_wave(store, 0, child_codes=1, now=T0)

        def respond(code: str, region: str) -> None:
            record = RespondentRecord(source="web", source_id=code, referral_code=code,
                                      region=region, submitted_at=T0, finished=True)
            write_ingest(store, IngestRecord("web", "form", code, 1), [record])

        for code, region in zip(seeds, regions, strict=True):
            respond(code, region)
        open_wave(store, 1, child_codes=1, now=T0)
        for child in fielding.invitees(store, [1]):  # each answers in the recruiter's region
            assert child.parent_code is not None
            respond(child.code, regions[seeds.index(child.parent_code)])
    chains = analyze_project(load_project(explicit=project.root)).results.chains
    assert (chains.seeds, chains.recruited, chains.longest_chain) == (10, 10, 1)
    assert [(w.wave, w.count) for w in chains.by_wave] == [(0, 10), (1, 10)]
    assert cells(chains.transitions) == {("North America", "North America"): "5",
                                         ("North America", "Oceania"): "0",
                                         ("Oceania", "North America"): "0",
                                         ("Oceania", "Oceania"): "5"}
    h = chains.homophily
    assert h is not None and (h.observed_same, h.pct_same) == (10, "100.0")
    # Observed 10; expected (5·5 + 5·5) / 10 = 5; H = 2.
    assert (h.expected_same, h.index) == (pytest.approx(5.0), pytest.approx(2.0))


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SynthConsultation]:
    """A project whose 80 responses came from a canonical export carrying codes, analysed."""
    project = init_project(tmp_path_factory.mktemp("export") / "p")
    consultation = generate(load_questionnaire(project.questionnaire_path), 80, seed=11)
    export = writer("canonical")(consultation, project.root / "export.csv")
    base = ["--project", str(project.root)]
    assert runner.invoke(app, [*base, "ingest", str(export), "--accept-mapping"]).exit_code == 0
    assert runner.invoke(app, [*base, "analyze"]).exit_code == 0
    return project.root, consultation


def test_an_ingested_export_rebuilds_the_generators_trees(
        exported: tuple[Path, SynthConsultation]) -> None:
    root, consultation = exported
    data = json.loads((root / "out" / "results.json").read_text(encoding="utf-8"))
    complete = consultation.complete
    chains = data["chains"]
    assert chains["available"] is True
    assert chains["n_respondents"] == len(complete)
    assert chains["seeds"] == sum(r.referred_by is None for r in complete)
    assert [w["count"] for w in chains["by_wave"]] == [
        sum(r.wave == w for r in complete) for w in range(max(r.wave for r in complete) + 1)]
    shown = runner.invoke(app, ["--project", str(root), "results", "show", "chains"])
    assert shown.exit_code == 0 and json.loads(shown.stdout) == chains


def test_results_json_holds_no_code_id_or_tree_of_people(
        exported: tuple[Path, SynthConsultation]) -> None:
    root, consultation = exported
    text = (root / "out" / "results.json").read_text(encoding="utf-8")
    for response in consultation.responses:
        assert response.referral_code not in text
        assert response.response_id not in text
    keys: set[str] = set()

    def walk(value: object) -> None:
        if isinstance(value, dict):
            keys.update(value)
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    chains = json.loads(text)["chains"]
    walk(chains)
    assert not keys & {"id", "ids", "recruiter_id", "seed_id", "tree", "code", "referral_code",
                       "referred_by", "parent"}
    # No list as long as the respondents (a per-person record): the longest are the tables.
    lists = [len(v) for v in _lists(chains)]
    assert max(lists) < chains["n_respondents"] / 2


def _lists(value: object) -> list[list[object]]:
    found: list[list[object]] = []
    if isinstance(value, dict):
        for item in value.values():
            found += _lists(item)
    elif isinstance(value, list):
        found.append(value)
        for item in value:
            found += _lists(item)
    return found


def test_an_export_without_codes_gives_a_section_that_says_so(tmp_path: Path) -> None:
    project = init_project(tmp_path / "p")
    consultation = generate(load_questionnaire(project.questionnaire_path), 30, seed=12)
    plain = replace(consultation, responses=[replace(r, referral_code="", referred_by=None)
                                             for r in consultation.responses])
    export = writer("canonical")(plain, project.root / "export.csv")
    base = ["--project", str(project.root)]
    result = runner.invoke(app, [*base, "ingest", str(export), "--accept-mapping"])
    assert result.exit_code == 0, result.output
    assert runner.invoke(app, [*base, "analyze"]).exit_code == 0
    chains = json.loads((project.root / "out" / "results.json").read_text())["chains"]
    assert (chains["available"], chains["reason"]) == (False, NO_CODES)
    assert chains["n_without_code"] == len(plain.complete)
    assert chains["transitions"] is None and chains["by_wave"] == []
    assert re.search(r"no respondent carries a referral code", chains["reason"])
