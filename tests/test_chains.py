"""Referral-chain analysis: trees from codes, cycles, unknown referrers, homophily, RDS export."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from consult.analysis.chains import (
    SEED_RECRUITER,
    chain_summary,
    composition_by_wave,
    homophily,
    longest_chain,
    rds_table,
    recruitment_trees,
    recruits_per_respondent,
    recruits_per_seed,
    transition_matrix,
)
from consult.questionnaire import load_questionnaire
from consult.store import open_store
from consult.store.responses import IngestRecord, load_responses, write_ingest
from consult.synth import generate
from consult.synth.records import synth_records

R361 = Path(__file__).resolve().parents[1] / "questionnaires" / "r361.yaml"
E, A, F = "Europe", "Asia", "Africa"


def frame(rows: list[tuple[int, str | None, str | None, str | None]],
          waves: list[int | None] | None = None) -> pd.DataFrame:
    """Respondents as load_responses returns them: (id, own code, referrer's code, region)."""
    data = pd.DataFrame(rows, columns=["id", "referral_code", "referred_by", "region"])
    data["wave"] = pd.array(waves or [None] * len(rows), dtype="Int64")
    return data


# Two seeds (1 and 8), twelve respondents. Respondent n holds code Cn.
#
#   1 E ─┬─ 2 E ── 4 E ── 11 ? ── 12 A
#        └─ 3 A ─┬─ 5 A ── 7 F
#                └─ 6 A
#   8 F ─┬─ 9 F
#        └─ 10 E
HAND = frame([
    (1, "C1", None, E), (2, "C2", "C1", E), (3, "C3", "C1", A), (4, "C4", "C2", E),
    (5, "C5", "C3", A), (6, "C6", "C3", A), (7, "C7", "C5", F), (8, "C8", None, F),
    (9, "C9", "C8", F), (10, "C10", "C8", E), (11, "C11", "C4", None), (12, "C12", "C11", A),
], waves=[0, 1, 1, 2, 2, 2, 3, 0, 1, 1, 3, 5])


def test_trees_are_rebuilt_from_codes() -> None:
    nodes = recruitment_trees(HAND).nodes.set_index("id")
    assert nodes["recruiter_id"].to_dict() == {1: None, 2: 1, 3: 1, 4: 2, 5: 3, 6: 3, 7: 5,
                                               8: None, 9: 8, 10: 8, 11: 4, 12: 11}
    assert nodes["depth"].to_list() == [0, 1, 1, 2, 2, 2, 3, 0, 1, 1, 3, 4]
    assert nodes["seed_id"].to_list() == [1] * 7 + [8] * 3 + [1, 1]
    assert nodes["recruits"].to_list() == [2, 1, 2, 1, 1, 0, 0, 2, 0, 0, 1, 0]
    assert nodes.index[nodes["is_seed"]].to_list() == [1, 8]
    assert not nodes[["unknown_referrer", "in_cycle", "shared_code"]].to_numpy().any()


def test_recruits_per_seed_and_per_respondent_and_the_longest_chain() -> None:
    trees = recruitment_trees(HAND)
    assert recruits_per_seed(trees).to_dict(orient="records") == [
        {"seed_id": 1, "region": E, "root": "seed", "size": 9, "recruits": 8, "depth": 4},
        {"seed_id": 8, "region": F, "root": "seed", "size": 3, "recruits": 2, "depth": 1},
    ]
    # 0 recruits: 6, 7, 9, 10, 12; one: 2, 4, 5, 11; two: 1, 3, 8.
    assert recruits_per_respondent(trees).to_dict(orient="records") == [
        {"recruits": 0, "respondents": 5, "share": 5 / 12},
        {"recruits": 1, "respondents": 4, "share": 4 / 12},
        {"recruits": 2, "respondents": 3, "share": 3 / 12},
    ]
    assert longest_chain(trees) == (1, 2, 4, 11, 12)


def test_transition_matrix_and_homophily_match_the_hand_computation() -> None:
    trees = recruitment_trees(HAND)
    # Recruiter → recruit with both regions known (4 → 11 and 11 → 12 have a missing one):
    #   Africa: 8→9 (F→F), 8→10 (F→E)            row sum r_F = 2
    #   Asia:   3→5, 3→6 (A→A), 5→7 (A→F)         row sum r_A = 3
    #   Europe: 1→2, 2→4 (E→E), 1→3 (E→A)         row sum r_E = 3
    # Column sums c_F = 2, c_A = 3, c_E = 3; T = 8.
    matrix = transition_matrix(trees)
    assert matrix.index.to_list() == matrix.columns.to_list() == [F, A, E]
    assert matrix.to_numpy().tolist() == [[1, 0, 1],
                                          [1, 2, 0],
                                          [0, 1, 2]]
    # RDS (homophily.estimates, recruitment = TRUE): H = Σ t_gg / (Σ r_g c_g / T)
    #   observed same-region = 1 + 2 + 2 = 5
    #   expected             = (2·2 + 3·3 + 3·3) / 8 = 22 / 8 = 2.75
    #   H                    = 5 / 2.75 = 20 / 11 = 1.8181...
    h = homophily(trees)
    assert (h.observed_same, h.transitions) == (5, 8)
    assert h.expected_same == pytest.approx(2.75)
    assert h.index == pytest.approx(20 / 11)
    # Per region t_gg / (r_g c_g / T): Africa 1 / (4/8) = 2; Asia and Europe 2 / (9/8) = 16/9.
    assert h.by_group["ratio"].to_list() == pytest.approx([2.0, 16 / 9, 16 / 9])
    assert h.by_group["same_expected"].to_list() == pytest.approx([0.5, 1.125, 1.125])


def test_composition_by_wave_and_cumulative_mix() -> None:
    table = composition_by_wave(recruitment_trees(HAND)).set_index(["wave", "region"])
    # Depth 0: 1 E, 8 F.  Depth 1: 2 E, 3 A, 9 F, 10 E.  Depth 2: 4 E, 5 A, 6 A.
    # Depth 3: 7 F, 11 (no region).  Depth 4: 12 A.
    assert table.loc[1, "n"].to_dict() == {"(not stated)": 0, F: 1, A: 1, E: 2}
    assert table.loc[1, "share"].to_dict() == {"(not stated)": 0.0, F: 0.25, A: 0.25, E: 0.5}
    # Waves 0-1 together: E 3, F 2, A 1 of 6.
    assert table.loc[1, "cumulative_share"].to_dict() == pytest.approx(
        {"(not stated)": 0.0, F: 2 / 6, A: 1 / 6, E: 3 / 6})
    assert table.loc[4, "cumulative_n"].to_dict() == {"(not stated)": 1, F: 3, A: 4, E: 4}
    assert len(table) == 5 * 4


def test_unknown_referrers_are_kept_and_flagged_as_roots() -> None:
    trees = recruitment_trees(frame([
        (1, "S1", None, E), (2, "X2", "NOSUCH", A), (3, "X3", "X2", A), (4, "X4", "S1", E)]))
    nodes = trees.nodes.set_index("id")
    assert nodes["unknown_referrer"].to_dict() == {1: False, 2: True, 3: False, 4: False}
    assert nodes.loc[2, "referred_by"] == "NOSUCH"
    assert (nodes.loc[2, "depth"], nodes.loc[3, "depth"], nodes.loc[3, "seed_id"]) == (0, 1, 2)
    roots = recruits_per_seed(trees).set_index("seed_id")["root"].to_dict()
    assert roots == {1: "seed", 2: "unknown_referrer"}
    assert chain_summary(trees.nodes)["unknown_referrers"] == [2]


def test_cycles_are_detected_reported_and_broken_at_the_smallest_id() -> None:
    # 5 recruited 3, 3 recruited 7, 7 recruited 5: a loop of three; 9 "recruited" itself;
    # 4 hangs below the loop.
    trees = recruitment_trees(frame([
        (1, "S1", None, E), (3, "K3", "K5", E), (4, "K4", "K7", A), (5, "K5", "K7", E),
        (7, "K7", "K3", A), (9, "K9", "K9", F)]))
    assert trees.cycles == ((3, 7, 5), (9,))
    nodes = trees.nodes.set_index("id")
    assert nodes.index[nodes["in_cycle"]].to_list() == [3, 5, 7, 9]
    assert nodes["recruiter_id"].to_dict() == {1: None, 3: None, 4: 7, 5: 7, 7: 3, 9: None}
    assert nodes["depth"].to_dict() == {1: 0, 3: 0, 4: 2, 5: 2, 7: 1, 9: 0}
    assert recruits_per_seed(trees).set_index("seed_id")["root"].to_dict() == {
        1: "seed", 3: "cycle", 9: "cycle"}
    summary = chain_summary(trees.nodes[["id", "referral_code", "referred_by", "region", "wave"]])
    assert summary["cycles"] == [[3, 7, 5], [9]]


def test_shared_codes_and_codes_filled_from_their_parents() -> None:
    # The platform carried only each respondent's own code: the referrer comes from the
    # codes consult issued (C2 and C3 were handed to C1's holder; C9 to nobody we know).
    respondents = frame([(1, "C1", None, E), (2, "C2", None, A), (3, "C3", None, E),
                         (4, "C3", None, E), (5, "C9", None, A)])
    parents = {"C1": None, "C2": "C1", "C3": "C1", "C9": "C8"}
    nodes = recruitment_trees(respondents, code_parents=parents).nodes.set_index("id")
    assert nodes["recruiter_id"].to_dict() == {1: None, 2: 1, 3: 1, 4: 1, 5: None}
    assert nodes["shared_code"].to_dict() == {1: False, 2: False, 3: True, 4: True, 5: False}
    assert nodes["unknown_referrer"].to_dict() == {1: False, 2: False, 3: False, 4: False,
                                                   5: True}
    assert nodes["is_seed"].to_list() == [True, False, False, False, False]


def test_the_rds_table_uses_one_placeholder_for_every_root() -> None:
    trees = recruitment_trees(frame([(1, "S1", None, E), (2, "X2", "S1", A),
                                     (3, "X3", "GONE", A), (4, "X4", "X3", A)]))
    table = rds_table(trees)
    assert table.columns.to_list() == ["id", "recruiter.id", "wave", "seed"]
    assert table.to_dict(orient="list") == {"id": [1, 2, 3, 4],
                                            "recruiter.id": ["seed", "1", "seed", "3"],
                                            "wave": [0, 1, 0, 1], "seed": [1, 1, 3, 3]}
    # RDS requires: every recruiter.id is an id or the one seed placeholder, never one's own.
    ids = set(table["id"].astype(str))
    assert set(table["recruiter.id"]) - ids == {SEED_RECRUITER}
    assert not (table["recruiter.id"] == table["id"].astype(str)).any()
    sized = rds_table(trees, {1: 12.0, 2: 3.0, 4: None})
    assert sized.columns.to_list() == ["id", "recruiter.id", "network.size", "wave", "seed"]
    assert sized["network.size"].to_list() == [12.0, 3.0, pd.NA, pd.NA]
    assert sized.to_csv(index=False).splitlines()[:3] == [
        "id,recruiter.id,network.size,wave,seed", "1,seed,12.0,0,1", "2,1,3.0,1,1"]


def test_chain_summary_is_json_ready() -> None:
    summary = chain_summary(HAND)
    assert json.loads(json.dumps(summary)) == summary
    assert {k: summary[k] for k in ("respondents", "seeds", "trees", "max_depth",
                                    "longest_chain", "wave_mismatches")} == {
        "respondents": 12, "seeds": 2, "trees": 2, "max_depth": 4,
        "longest_chain": [1, 2, 4, 11, 12],
        "wave_mismatches": [12]}  # recorded as wave 5, depth 4
    assert summary["homophily"]["index"] == pytest.approx(20 / 11)
    assert summary["transitions"] == {"regions": [F, A, E],
                                      "counts": [[1, 0, 1], [1, 2, 0], [0, 1, 2]]}
    assert summary["mean_recruits"] == pytest.approx(10 / 12)
    assert summary["tree"][11] == {"id": 12, "recruiter_id": 11, "seed_id": 1, "depth": 4,
                                   "region": A}


def test_empty_and_seed_only_samples() -> None:
    empty = chain_summary(frame([]))
    assert (empty["respondents"], empty["longest_chain"], empty["homophily"]["index"]) == (
        0, [], None)
    alone = chain_summary(frame([(1, "S1", None, E), (2, "S2", None, A)]))
    assert (alone["trees"], alone["max_depth"], alone["homophily"]["transitions"]) == (2, 0, 0)


def test_a_synthetic_consultation_rebuilds_as_generated(sqlite_url: str) -> None:
    """The store round trip: ingested codes give back the generator's trees and waves."""
    questionnaire = load_questionnaire(R361)
    indexes = {}
    for planted in (0.95, 0.0):
        consultation = generate(questionnaire, 150, seed=7, waves=3, junk=0.0,
                                homophily=planted)
        url = sqlite_url.replace("consult.db", f"h{planted}.db")
        with open_store(url) as store:
            write_ingest(store, IngestRecord("synth", "synth", f"{planted}", 150),
                         synth_records(consultation))
            respondents, _ = load_responses(store)
        nodes = recruitment_trees(respondents).nodes
        assert (nodes["depth"] == nodes["wave"]).all()
        truth = {r.referral_code: r.referred_by for r in consultation.complete}
        code_of = dict(zip(nodes["id"], nodes["referral_code"], strict=True))
        assert {code_of[i]: (None if pd.isna(r) else code_of[int(r)])
                for i, r in zip(nodes["id"], nodes["recruiter_id"], strict=True)} == truth
        indexes[planted] = homophily(recruitment_trees(respondents)).index
    assert indexes[0.95] > 1.5 > indexes[0.0]
