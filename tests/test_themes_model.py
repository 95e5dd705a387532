"""The topic model behind themes: units, lemmas, BERTopic's clusterer, granularity, codebooks."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import yaml

from consult.analysis.text.embed import MiniLMEmbedder
from consult.analysis.text.preprocess import GAP, content_lemmas, ngrams, split_units
from consult.analysis.text.themes import Code, ThemeFit, fit_themes, keywords, load_codebook
from consult.analysis.text.topic import ThresholdClustering
from consult.questionnaire import load_questionnaire
from consult.resources import shipped_codebooks
from consult.synth import generate

ROOT = Path(__file__).resolve().parents[1]
R361 = ROOT / "questionnaires" / "r361.yaml"
BANK = ROOT / "consult" / "synth" / "bank_r361.yaml"



def planted(item: str, respondents: int, seed: int) -> list[tuple[str, list[str]]]:
    """English answers to ``item`` of a synthetic consultation, with the themes planted in each."""
    consultation = generate(load_questionnaire(R361), respondents, seed=seed, junk=0)
    return [(str(r.answers[item]), list(r.themes[item])) for r in consultation.complete
            if r.themes.get(item) and r.text_language.get(item) == "en"]


def assert_consistent(fit: ThemeFit) -> None:
    """Units roll up to answers, and a theme's members are the answers assigned it."""
    ids = [t.id for t in fit.themes]
    assert len(set(ids)) == len(ids)
    for unit, assigned in zip(fit.units, fit.unit_assignments, strict=True):
        assert {t for t, _ in assigned} <= {t for t, _ in fit.assignments[unit.answer]}
    for theme in fit.themes:
        holding = tuple(i for i, a in enumerate(fit.assignments) if theme.id in dict(a))
        assert theme.members == holding, theme.id
        assert set(theme.representatives) <= set(theme.members)
    assert {t for a in fit.assignments for t, _ in a} <= set(ids)


# --------------------------------------------------------------------------- units and lemmas


def test_units_are_sentences_list_lines_and_clauses() -> None:
    units = split_units(["We disperse them, e.g. across sites. Staff are trained; leaders are moved.",
                         "- dispersal\n- staff training", "Yes. ???", "one"])
    # spaCy keeps "e.g." inside its sentence; ";" and list lines cut; an answer keeps a unit.
    assert units == [["We disperse them, e.g. across sites.", "Staff are trained",
                      "leaders are moved."], ["dispersal", "staff training"], ["Yes. ???"],
                     ["one"]]


def test_lemmas_leave_out_stop_words_and_domain_words() -> None:
    found = content_lemmas(["Officers were training the offenders in prisons",
                            "Les délinquants radicalisés sont répartis"],
                           ["en", "fr"], stop_words=["offender", "prison", "délinquant"], gaps=True)
    # "offenders" goes with its lemma "offender"; French lemmas from spaCy's lookup tables.
    assert found == [f"officer {GAP} train", f"radicaliser {GAP} répartir"]
    assert ngrams(f"staff training {GAP} staff") == ["staff", "training", "staff", "staff training"]


def test_keywords_are_lemmas_by_class_tf_idf() -> None:
    found = keywords(["Officers trained. Training officers. Trained officers on signs.",
                      "Disperse offenders across prisons. Dispersal of offenders works."], top=3)
    assert found[0][:2] == ("officer", "train")
    assert "offender" not in " ".join(found[1]) and "prison" not in " ".join(found[1])
    assert keywords(["the of and", "a an"]) == [(), ()]  # nothing but stop words


# --------------------------------------------------------------------------- the clusterer


def test_clusterer_cuts_by_distance_and_drops_thin_clusters() -> None:
    rng = np.random.default_rng(0)
    centres = np.eye(8, 32, dtype=np.float32)
    rows = np.vstack([c + 0.05 * rng.standard_normal((10, 32)) for c in centres[:3]]
                     + [centres[3:4] + 0.01])
    labels = ThresholdClustering(threshold=0.5).fit(rows).labels_
    assert len(set(labels)) == 4  # three groups of ten and a loner
    groups = list(range(31))
    thinned = ThresholdClustering(threshold=0.5, min_support=2, groups=groups).fit(rows).labels_
    assert sorted(Counter(thinned.tolist()).items()) == [(-1, 1), (0, 10), (1, 10), (2, 10)]
    # Support counts answers, not rows: ten rows of one answer are one answer's support.
    one_answer = [0] * 10 + list(range(1, 22))
    dropped = ThresholdClustering(threshold=0.5, min_support=2, groups=one_answer).fit(rows).labels_
    assert (dropped[:10] == -1).all() and (dropped[10:30] >= 0).all()


def test_sampled_linkage_agrees_with_exact_linkage_and_is_seeded() -> None:
    rng = np.random.default_rng(1)
    centres = np.eye(5, 24, dtype=np.float32)
    rows = np.vstack([c + 0.08 * rng.standard_normal((60, 24)) for c in centres])
    exact = ThresholdClustering(threshold=0.6).fit(rows)
    micro = ThresholdClustering(threshold=0.6, exact_limit=40, seed=3).fit(rows)
    assert exact.method_ == "agglomerative (exact)" and "sample of 40" in micro.method_
    assert len(set(exact.labels_)) == len(set(micro.labels_)) == 5
    assert np.array_equal(exact.labels_, micro.labels_)  # numbered by first appearance
    again = ThresholdClustering(threshold=0.6, exact_limit=40, seed=3).fit(rows)
    assert np.array_equal(micro.labels_, again.labels_)
    assert np.array_equal(micro.predict(rows[::60]), [0, 1, 2, 3, 4])


# --------------------------------------------------------------------------- fits


def test_small_questions_get_themes(embedder: MiniLMEmbedder) -> None:
    for item, size in (("rec_practice", 20), ("train_practice", 30)):
        rows = planted(item, 80, seed=4)[:size]
        assert len(rows) == size
        fit = fit_themes([t for t, _ in rows], embedder)
        assert len(fit.themes) >= 2, item
        assert all(assigned for assigned in fit.assignments)
        assert all(t.label and t.keywords and t.representative_units for t in fit.themes)
        assert_consistent(fit)


def test_an_answer_naming_two_practices_gets_both(embedder: MiniLMEmbedder) -> None:
    # Three practices from different questions of the synthetic phrase bank: seven answers
    # naming one each, then nine naming two (phrasings not used elsewhere), joined the ways
    # respondents join them.
    bank = yaml.safe_load(BANK.read_text(encoding="utf-8"))["items"]
    practices = {"dispersion": bank["acc_practice"]["themes"]["dispersion"]["en"],
                 "training": bank["train_practice"]["themes"]["staff_awareness_training"]["en"],
                 "family": bank["prog_practice"]["themes"]["family_involvement"]["en"]}
    texts, named = [], []
    for name, phrasings in practices.items():
        texts += phrasings[:7]
        named += [name] * 7
    unused = {name: iter(phrasings[7:]) for name, phrasings in practices.items()}
    joins = [". ", "; ", "\n- "]
    pairs = [("dispersion", "training"), ("training", "family"), ("family", "dispersion")]
    for n in range(9):
        a, b = pairs[n % 3]
        texts.append(next(unused[a]).rstrip(".") + joins[n // 3] + next(unused[b]))
        named.append(f"{a}+{b}")
    fit = fit_themes(texts, embedder)
    # The theme standing for a practice: the one most of its single-practice answers got.
    stands_for = {name: Counter(fit.assignments[i][0][0] for i in range(len(named))
                                if named[i] == name).most_common(1)[0][0] for name in practices}
    assert len(set(stands_for.values())) == 3
    got = [len({stands_for[p] for p in named[i].split("+")} & {t for t, _ in fit.assignments[i]})
           for i in range(21, len(texts))]
    # Each two-practice answer gets at least one of them, and nearly all get both (MiniLM
    # puts the odd sentence nearer another practice).
    assert min(got) >= 1 and got.count(2) >= 7, got


def test_same_seed_same_fit(embedder: MiniLMEmbedder) -> None:
    texts = [t for t, _ in planted("int_practice", 60, seed=2)]
    first = fit_themes(texts, embedder, seed=7)
    assert first == fit_themes(texts, embedder, seed=7)
    assert first.settings["seed"] == 7


def test_granularity_follows_the_planted_themes(embedder: MiniLMEmbedder) -> None:
    # The generator ends some answers with a stock sentence ("Happy to discuss further."):
    # real content, but no planted theme, so it is taken out here.
    closers = yaml.safe_load(BANK.read_text(encoding="utf-8"))["closers"]["en"]
    rows = [(_without(text, closers), themes) for text, themes in planted("prog_practice", 400, 12)]
    found = {}
    for keep in (2, 4, 6):
        wanted = set(sorted({t for _, ts in rows for t in ts})[:keep])
        texts = [t for t, ts in rows if set(ts) <= wanted][:150]
        fit = fit_themes(texts, embedder)
        found[keep] = len(fit.themes)
    # Roughly k themes for k planted ones (never fewer than half, never more than twice),
    # and more planted themes never give fewer themes.
    for k, count in found.items():
        assert k / 2 <= count <= 2 * k, found
    counts = [found[k] for k in sorted(found)]
    assert counts == sorted(counts), found
    # A coarser threshold never gives more themes.
    texts = [t for t, _ in rows[:150]]
    sizes = [len(fit_themes(texts, embedder, threshold=t).themes) for t in (0.55, 0.75, 0.9)]
    assert sizes == sorted(sizes, reverse=True) and sizes[0] > sizes[-1], sizes


def _without(text: str, sentences: list[str]) -> str:
    for sentence in sentences:
        text = text.replace(sentence, "")
    return text.strip()


def test_codebook_examples_carry_the_meaning(embedder: MiniLMEmbedder) -> None:
    # Labels that say nothing: only the examples tell the codes apart.
    codebook = [Code("a", "Approach A", examples=("Spread them across many prisons.",
                                                  "Dispersal to several institutions.")),
                Code("b", "Approach B", examples=("Train officers to spot the signs.",
                                                  "Awareness courses for all staff."))]
    texts = ["We disperse them over different sites.", "Staff get training on warning signs.",
             "Disperse them across institutions. Train every officer to recognise the signs."]
    fit = fit_themes(texts, embedder, codebook=codebook)
    assert_consistent(fit)
    assert [a[0][0] for a in fit.assignments[:2]] == ["a", "b"]
    assert {t for t, _ in fit.assignments[2]} == {"a", "b"}  # one code per sentence
    assert {t.source for t in fit.themes} == {"codebook"}


def test_codebook_proposes_themes_only_for_what_it_does_not_cover(
        embedder: MiniLMEmbedder) -> None:
    codebook = [Code("family", "Family contact", "Visits and calls from relatives.",
                     ("Encourage family visits.",))]
    texts = ["Family visits help. Yoga classes every morning calm them down.",
             "Relatives should visit often. Morning yoga sessions reduce tension.",
             "More calls and visits from their family.",
             "Daily yoga helps them relax."]
    fit = fit_themes(texts, embedder, codebook=codebook)
    assert_consistent(fit)
    assert fit.theme("family").members == (0, 1, 2)
    new = [t for t in fit.themes if t.source == "discovered"]
    assert [t.id for t in new] == ["N1"] and new[0].members == (0, 1, 3)
    assert fit.settings["n_uncovered_units"] == 3


def test_shipped_roundtable_codebook() -> None:
    path = shipped_codebooks()["r361-roundtable"]
    codes = load_codebook(path)
    assert len(codes) >= 12
    assert all(c.description and len(c.examples) >= 3 for c in codes)
    # The roundtable's six topics and its two overarching practices are all there.
    ids = {c.id for c in codes}
    assert {"dispersion", "concentration", "intelligence_sharing", "specialised_assessment",
            "disengagement", "multi_agency", "staff_training", "positive_identity"} <= ids


def test_the_command_line_default_is_the_library_default() -> None:
    import inspect

    from consult.analysis.text.run import fit_project_themes
    from consult.analysis.text.themes import DEFAULT_THRESHOLD
    from consult.cli.themes import fit
    from consult.project import ThemesSection

    # The command line and the project function take the project's setting, whose default
    # is the library's.
    assert inspect.signature(fit).parameters["threshold"].default is None
    assert inspect.signature(fit_project_themes).parameters["threshold"].default is None
    assert ThemesSection().threshold == DEFAULT_THRESHOLD


def test_an_outlier_unlike_every_topic_still_gets_the_nearest() -> None:
    """BERTopic's reduce_outliers leaves a unit at -1 when its cosine to every topic is below 0
    (found by a new-user audit: `themes fit --codebook` then failed on topic '-1')."""
    import numpy as np

    from consult.analysis.text.topic import discover

    e1, e2 = np.eye(4, dtype=np.float32)[0], np.eye(4, dtype=np.float32)[1]
    away = -(e1 + e2) / np.sqrt(2) + np.float32(0.01) * np.eye(4, dtype=np.float32)[2]
    vectors = np.vstack([e1, e1, e1, e2, e2, e2, away]).astype(np.float32)
    documents = ["visit family", "family visit", "family contact", "staff training",
                 "train staff", "training staff", "dispersal units"]
    found = discover(documents, vectors, [0, 1, 2, 3, 4, 5, 6], threshold=0.5, min_support=2)
    assert -1 not in found.topics and found.outliers == (6,)
    assert len(found.keywords) == max(found.topics) + 1 == 2
