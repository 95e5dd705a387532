"""Redaction: contacts, titled names, named institutions and places, before any output."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from test_themes_curation import build_project

from consult.analysis.text.curation import load_curation
from consult.analysis.text.embed import MiniLMEmbedder
from consult.analysis.text.matching import curate
from consult.analysis.text.redact import redact, redacted_words
from consult.analysis.text.run import fit_project_themes
from consult.analysis.text.themes import fit_themes


@pytest.mark.parametrize(("text", "expected"), [
    # Named institutions: the institution word stays, the name goes.
    ("We learned a lot at Kingston Penitentiary and HMP Belmarsh.",
     "We learned a lot at [redacted] Penitentiary and HMP [redacted]."),
    ("The Fleury-Mérogis prison uses dispersal.", "The [redacted] prison uses dispersal."),
    ("Au centre pénitentiaire de Fleury-Mérogis, et à la Maison d'arrêt de la Santé.",
     "Au centre pénitentiaire de [redacted], et à la Maison d'arrêt de la [redacted]."),
    ("En el Centro Penitenciario de Soto del Real los separan.",
     "En el Centro Penitenciario de [redacted] los separan."),
    ("Regina Correctional Centre and Edmonton Institution for Women",
     "[redacted] Correctional Centre and [redacted] Institution for Women"),
    ("HM Prison Wakefield and the Cook County Jail", "HM Prison [redacted] and the [redacted] "
                                                     "County Jail"),
    ("la prison de Fresnes et la prison d'Arles", "la prison de [redacted] et la prison "
                                                  "d'[redacted]"),
    ("In the Kingston Federal Penitentiary", "In the [redacted] Federal Penitentiary"),
    # Places near an institution word, and known places anywhere.
    ("the federal penitentiary in Millhaven has a unit",
     "the federal penitentiary in [redacted] has a unit"),
    ("a remand centre just outside Lyon", "a remand centre just outside [redacted]"),
    ("In Canada and Ontario, as in Paris, São Paulo and Québec",
     "In [redacted] and [redacted], as in [redacted], [redacted] and [redacted]"),
    ("Prisons in England and Wales", "Prisons in [redacted] and [redacted]"),
    # Names after a title; contacts, also disguised.
    ("Dr J. Okafor and Mr Brown ran it", "Dr [redacted] and Mr [redacted] ran it"),
    ("ask Warden Hendricks", "ask Warden [redacted]"),
    ("write jean.dupont [at] justice [dot] gouv [dot] fr", "write [redacted]"),
    ("contact me at j.doe@example.org", "contact me at [redacted]"),
    ("or j.doe at csc-scc.gc.ca today", "or [redacted] today"),
    ("call 5550142ext 3", "call [redacted]ext 3"),
    ("+44 (0)20 7946 0958", "[redacted]"),
    # Spelled-out addresses, web addresses and handles (found by a new-user audit).
    ("write to moshe dot cohen at ips dot gov dot il for details",
     "write to [redacted] for details"),
    ("or jdoe at example dot org", "or [redacted]"),
    ("write jane.smith at justice dot gc dot ca now", "write [redacted] now"),
    ("Docteur Tremblay and Dr.Smith agreed", "Docteur [redacted] and Dr.[redacted] agreed"),
    ("See linkedin.com/in/jdoe-corrections or @jdoe_corr.", "See [redacted] or [redacted]."),
    ("Visit https://www.example.org/programs?id=3, or www.justice.example.org.",
     "Visit [redacted], or [redacted]."),
    # What must stay.
    ("Officers should be trained.", "Officers should be trained."),
    ("We had 3 units in 2014 and 12 staff.", "We had 3 units in 2014 and 12 staff."),
    ("It ran from 2010-2015 in two sites.", "It ran from 2010-2015 in two sites."),
    ("Each Institution should have an imam.", "Each Institution should have an imam."),
    ("The prison staff at each institution in our region",
     "The prison staff at each institution in our region"),
    ("Training programs in prison work; Maximum Security Prisons too.",
     "Training programs in prison work; Maximum Security Prisons too."),
    ("The Director General of programs agreed.", "The Director General of programs agreed."),
    ("Staff Training in every prison", "Staff Training in every prison"),
    ("We looked at it dot by dot, e.g. twice.", "We looked at it dot by dot, e.g. twice."),
    ("Staff at HQ meet at 9.30 daily; see section 4.2/b.",
     "Staff at HQ meet at 9.30 daily; see section 4.2/b."),
])
def test_redaction(text: str, expected: str) -> None:
    assert redact(text) == expected


_words = st.lists(st.from_regex(r"[A-Za-z]{1,10}", fullmatch=True), max_size=6).map(" ".join)
_emails = st.builds(
    lambda local, labels, tld: f"{local}@{'.'.join(labels)}.{tld}",
    st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._%+-]{0,15}", fullmatch=True),
    st.lists(st.from_regex(r"[A-Za-z0-9][A-Za-z0-9-]{0,10}", fullmatch=True), min_size=1,
             max_size=3),
    st.from_regex(r"[A-Za-z]{2,6}", fullmatch=True))


@st.composite
def _phones(draw: st.DrawFn) -> str:
    groups = draw(st.lists(st.text("0123456789", min_size=2, max_size=4), min_size=2,
                           max_size=5))
    assume(sum(len(g) for g in groups) >= 7)
    separator = draw(st.sampled_from([" ", "-", ".", "", " - "]))
    if draw(st.booleans()):
        groups[0] = f"({groups[0]})"
    return draw(st.sampled_from(["", "+"])) + separator.join(groups)


@settings(max_examples=300, deadline=None)
@given(before=_words, after=_words, email=_emails, phone=_phones(),
       end=st.sampled_from(["", ".", ",", ")", ";", "!"]))
def test_no_email_or_phone_survives(before: str, after: str, email: str, phone: str,
                                    end: str) -> None:
    # A year range ("2010-2015") is kept on purpose: it is not a phone number.
    assume(not re.fullmatch(r"(?:19|20)\d\d\s*-\s*(?:19|20)\d\d", phone))
    out = redact(f"{before} {email}{end} {after}")
    assert "@" not in out
    out = redact(f"{before} {phone}{end} {after} tel:{phone}")
    assert not any(c.isdigit() for c in out)  # the surrounding words hold no digit



def test_keywords_and_labels_do_not_bring_back_what_quotes_hide(
        tmp_path: Path, embedder: MiniLMEmbedder) -> None:
    texts = ["At HMP Belmarsh we separate them in one unit.",
             "HMP Belmarsh keeps them apart in a separation unit.",
             "Belmarsh prison runs a separation centre for them.",
             "Encourage family visits every week.", "Weekly visits from relatives help."]
    fit = fit_themes(texts, embedder)
    assert any("belmarsh" in " ".join(t.keywords).lower() for t in fit.themes)  # raw keywords
    assert redacted_words(texts) == {"belmarsh"}
    done = curate("q", fit, texts, load_curation(tmp_path / "themes.yaml"), embedder)
    shown = " ".join([*(t.label for t in done.themes), *(w for t in done.themes
                                                         for w in t.keywords),
                      *(p.label for p in done.proposals), *(a for p in done.proposals
                                                           for a in p.anchors),
                      *done.notes.values()])
    assert "belmarsh" not in shown.lower() and done.themes


def test_no_planted_identifier_reaches_any_output(tmp_path: Path,
                                                  embedder: MiniLMEmbedder) -> None:
    planted = ["Write to warden.jones@example.org: Kingston Penitentiary keeps them apart.",
               "Call +1 (613) 555-0142 about the separation unit at HMP Belmarsh.",
               "Officer Hendricks at the Fleury-Mérogis prison runs the unit."]
    project = build_project(tmp_path / "p", respondents=15,
                            plant={"acc_practice": planted, "best_practice": planted})
    fit_project_themes(project, ["acc_practice", "best_practice"], embedder=embedder)
    from consult.analysis.text.export import export_themes

    export_themes(project.out_dir / "results.json", project.cache_dir / "themes",
                  project.out_dir / "themes-export.csv")
    written = [project.root / "themes.yaml", *project.out_dir.rglob("*"),
               *(project.cache_dir / "themes").rglob("*")]
    texts = {p.name: p.read_text(encoding="utf-8") for p in written if p.is_file()}
    assert {"themes.yaml", "results.json", "themes.csv", "themes-export.csv",
            "acc_practice.json"} <= set(texts)
    assert any("[redacted]" in t for t in texts.values())
    for name, text in texts.items():
        for secret in ("warden.jones", "example.org", "555-0142", "Kingston", "Belmarsh",
                       "Hendricks", "Fleury", "kingston", "belmarsh"):
            assert secret not in text, (secret, name)
