"""Assisted coding: the researcher codes the answers a codebook is least sure of.

With a codebook, ``consult themes code ITEM`` writes a coding sheet
(``coding/<item>-<n>.csv``) of the answers whose best and second-best codes are
nearest to each other — the answers a human is most needed for — and reads
back the sheets the researcher filled. Each coded answer then

- becomes an example of each code it was given, so the codes' prototypes
  (:func:`consult.analysis.text.themes.code_prototypes`) learn from it, and
- keeps exactly the researcher's codes in the fit's output (an answer coded
  ``none`` keeps no code, only the new themes ``N1 ...`` proposed for it).

``consult themes fit --codebook`` reads the sheets of ``coding/`` the same
way. Sheets are never rewritten: a new round writes a new file. Measured on
the public benchmarks (docs/themes.md, "Assisted coding").

A sheet has the columns of :data:`SHEET_COLUMNS`:

``respondent``
    The store's internal respondent id (as in ``themes.csv``), with ``item``
    the key of the answer.
``rank``
    1 for the answer the codebook is least sure of.
``answer``
    The answer, redacted as quotes are; checked against the store when read
    back (the data may have changed), never used for anything else.
``suggested``
    The three nearest codes with their cosine similarity, best first.
``codes``
    The researcher's codes: ids or labels, separated by ``;`` (or new
    lines); ``none`` when no code applies; blank while not coded yet.
``note``
    Free, never read.
"""

from __future__ import annotations

import csv
import re
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from consult.analysis.text.embed import Embedder
from consult.analysis.text.preprocess import Answer
from consult.analysis.text.themes import (
    DOMAIN_STOP_WORDS,
    Code,
    Theme,
    ThemeFit,
    code_prototypes,
    keywords,
)
from consult.csvcells import safe_cell
from consult.errors import ConsultError, Issue, ValidationFailed

if TYPE_CHECKING:
    from consult.project import Project

CODING_FOLDER = "coding"
SHEET_COLUMNS = ("respondent", "item", "rank", "answer", "suggested", "codes", "note")
REQUIRED_COLUMNS = ("respondent", "item", "codes")
NO_CODE = "none"
DEFAULT_BATCH = 10
SUGGESTED = 3
MAX_REPRESENTATIVES = 5
# A pasted suggestion ("staff_training (0.62)") is read as its code.
_SCORE = re.compile(r"\s*\(\s*-?\d*\.?\d+\s*\)\s*$")
# A spreadsheet runs a cell starting with one of these as a formula: such answers are
# written behind an apostrophe (and read back without it).


@dataclass(frozen=True)
class Pick:
    """An answer proposed for coding: its index, margin and nearest codes."""

    answer: int
    margin: float
    """Similarity of the best code minus that of the second best (the best's alone
    when the codebook has one code): the smaller, the less sure the codebook is."""
    suggested: tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class CodedAnswer:
    """One answer a researcher coded, and where."""

    answer: int
    """Index into the item's answers."""
    codes: tuple[str, ...]
    """Code ids, main first; empty when the researcher wrote ``none``."""
    sheet: str
    row: int


@dataclass(frozen=True)
class HumanCoding:
    """The coding sheets of one item, read and checked against its answers and codebook."""

    item_id: str
    given: tuple[Code, ...]
    """The codebook as given (no codebook: discovery, and the sheets are not used)."""
    texts: tuple[str, ...]
    """The item's answers, as the store holds them."""
    coded: Mapping[int, CodedAnswer] = field(default_factory=dict)
    waiting: Mapping[int, tuple[str, int]] = field(default_factory=dict)
    """Answers on a sheet whose ``codes`` are still blank: sheet and row."""
    sheets: tuple[str, ...] = ()
    """Sheets holding at least one row of this item."""
    issues: tuple[Issue, ...] = ()

    @property
    def codes(self) -> dict[int, tuple[str, ...]]:
        """Answer index → the researcher's codes."""
        return {i: c.codes for i, c in sorted(self.coded.items())}

    @property
    def codebook(self) -> tuple[Code, ...]:
        """The codebook with every coded answer added to the examples of its codes."""
        return add_examples(self.given, self.codes, self.texts)

    def apply(self, fit: ThemeFit, embedder: Embedder) -> ThemeFit:
        """``fit`` (of this item's answers, with :attr:`codebook`) with the researcher's codes."""
        if not self.given or not self.coded:
            return fit
        found = apply_human_codes(fit, self.texts, self.codes, self.codebook, embedder)
        used = sorted({c.sheet for c in self.coded.values()})
        return replace(found, settings=found.settings | {"coding_sheets": used})


@dataclass(frozen=True)
class CodingRound:
    """What :func:`code_item` read and wrote."""

    coding: HumanCoding
    picks: tuple[Pick, ...]
    sheet: Path | None
    """The new sheet (``None`` when nothing was asked or nothing is left to code)."""
    imported: tuple[Path, ...] = ()
    """Copies made in ``coding/`` of the sheets given with ``--sheet``."""
    uncoded: int = 0
    """Answers neither coded nor waiting on a sheet, before this round's picks."""


def find_codebook(value: str | Path, root: Path | None = None,
                  setting: str = "--codebook") -> Path:
    """A codebook file: ``value`` itself, or the shipped codebook of that name (``r361-roundtable``).

    A relative ``value`` is relative to ``root`` when given (a project's
    ``[themes] codebook`` setting), else to the current folder. Errors name
    ``setting``.

    Raises
    ------
    ConsultError
        When it is neither.
    """
    from consult.resources import shipped_codebooks

    path = Path(value)
    if root is not None and not path.is_absolute():
        path = root / path
    if path.is_file():
        return path
    shipped = shipped_codebooks()
    if str(value) in shipped:
        return shipped[str(value)]
    if path.exists():
        raise ConsultError(f"{setting} {value}: not a file; give a YAML codebook")
    raise ConsultError(f"{setting} {value}: no such file, and no shipped codebook of that name "
                       f"(shipped: {', '.join(shipped) or 'none'})")


def add_examples(codebook: Sequence[Code], coded: Mapping[int, Sequence[str]],
                 texts: Sequence[str]) -> tuple[Code, ...]:
    """``codebook`` with each coded answer (``texts[i]``) added to the examples of its codes."""
    extra: dict[str, list[str]] = {}
    for i in sorted(coded):
        for code in dict.fromkeys(coded[i]):
            extra.setdefault(code, []).append(texts[i])
    return tuple(replace(c, examples=(*c.examples, *extra[c.id])) if c.id in extra else c
                 for c in codebook)


def pick_answers(texts: Sequence[str], embedder: Embedder, codebook: Sequence[Code], *,
                 count: int, skip: Sequence[int] | set[int] = ()) -> list[Pick]:
    """The ``count`` answers (not in ``skip``) whose two nearest codes are closest, least sure first.

    Each answer is embedded whole and compared with the codes' prototypes;
    ties go to the earlier answer, so the same inputs give the same picks.
    """
    import numpy as np

    left = set(skip)
    candidates = [i for i in range(len(texts)) if i not in left]
    if count <= 0 or not codebook or not candidates:
        return []
    vectors = _normalise(embedder.embed([texts[i] for i in candidates]))
    sims = vectors @ code_prototypes(codebook, embedder).T
    ranked = np.argsort(-sims, axis=1, kind="stable")
    best = sims[np.arange(len(candidates)), ranked[:, 0]]
    second = sims[np.arange(len(candidates)), ranked[:, 1]] if len(codebook) > 1 else 0.0
    margins = np.round(best - second, 6)
    order = sorted(range(len(candidates)), key=lambda k: (float(margins[k]), candidates[k]))
    return [Pick(answer=candidates[k], margin=float(margins[k]),
                 suggested=tuple((codebook[int(j)].id, round(float(sims[k, j]), 4))
                                 for j in ranked[k, :SUGGESTED]))
            for k in order[:count]]


def apply_human_codes(fit: ThemeFit, texts: Sequence[str], coded: Mapping[int, Sequence[str]],
                      codebook: Sequence[Code], embedder: Embedder) -> ThemeFit:
    """``fit`` with each coded answer holding exactly the researcher's codes, main first.

    An answer coded with no code keeps only the new themes (``N1`` ...) the
    fit proposed for it. A code's score is the answer's cosine similarity to
    the code's prototype (``codebook``: the one the fit used). Members,
    representatives and keywords of the themes whose answers changed are
    brought up to date; ``settings["human_coded"]`` counts the coded answers.
    """
    if not coded:
        return fit
    index = {c.id: j for j, c in enumerate(codebook)}
    unknown = sorted({c for codes in coded.values() for c in codes} - set(index))
    if unknown:
        raise ValueError(f"codes not in the codebook: {', '.join(unknown)}")
    order = sorted(coded)
    sims = _normalise(embedder.embed([texts[i] for i in order])) @ code_prototypes(
        codebook, embedder).T
    assignments = list(fit.assignments)
    for row, i in enumerate(order):
        codes = list(dict.fromkeys(coded[i]))
        new = [] if codes else [(t, s) for t, s in fit.assignments[i] if t not in index]
        assignments[i] = tuple([(c, round(float(sims[row, index[c]]), 4)) for c in codes] + new)
    themes = _themes_after(fit, assignments, coded, codebook, texts)
    kept = {i: {t for t, _ in assignments[i]} for i in order}
    units = tuple(tuple((t, s) for t, s in assigned if t in kept[u.answer])
                  if u.answer in kept else assigned
                  for u, assigned in zip(fit.units, fit.unit_assignments, strict=False))
    outliers = tuple(u for u in fit.outliers if fit.units[u].answer not in kept)
    settings = fit.settings | {"human_coded": len(order), "n_outliers": len(outliers)}
    return ThemeFit(themes=themes, assignments=tuple(assignments), settings=settings,
                    units=fit.units, unit_assignments=units or fit.unit_assignments,
                    outliers=outliers)


def read_coding(folder: Path, item_id: str, answers: Sequence[Answer], codebook: Sequence[Code],
                extra: Sequence[Path] = ()) -> HumanCoding:
    """The coding sheets of ``folder`` (and ``extra`` ones) for ``item_id``, checked.

    Rows of other items are left alone; blank rows are skipped; a row whose
    ``codes`` are blank is waiting to be coded. Without a codebook the sheets
    are only counted (a warning says they are not used).

    Raises
    ------
    ValidationFailed
        Listing every problem by file, row (as a spreadsheet numbers it: the
        header is row 1) and column: a missing column, a blank or unknown
        respondent, an unknown code, ``none`` beside a code, an answer whose
        text changed, an answer coded differently twice.
    """
    paths = _sheet_paths(folder)
    seen = {p.resolve() for p in paths}
    paths += [p for p in extra if p.resolve() not in seen]
    texts = tuple(a.text for a in answers)
    notes = _not_csv(folder)
    if not paths:
        return HumanCoding(item_id=item_id, given=tuple(codebook), texts=texts,
                           issues=tuple(notes))
    where = {a.respondent_id: i for i, a in enumerate(answers)}
    lookup = _code_lookup(codebook)
    coded: dict[int, CodedAnswer] = {}
    waiting: dict[int, tuple[str, int]] = {}
    issues: list[Issue] = []
    sheets: list[str] = []
    for path in paths:
        name = _shown(path, folder)
        rows, problems = _read_sheet(path, name)
        issues += problems
        if any(r.get("item", "").strip() == item_id for _, r in rows):
            sheets.append(name)
        for number, row in rows:
            item = row.get("item", "").strip()
            if not item and (row.get("respondent", "").strip() or row.get("codes", "").strip()):
                issues.append(_issue(name, number, "item", "blank: write the item id of the "
                                     "answer"))
            if item != item_id:
                continue
            found = _row(row, number, name, where, answers, lookup, bool(codebook))
            if isinstance(found, Issue):
                issues.append(found)
            elif isinstance(found, int):
                waiting.setdefault(found, (name, number))
            elif found is not None:
                earlier = coded.get(found.answer)
                if earlier is not None and earlier.codes != found.codes:
                    issues.append(_issue(name, number, "codes", (
                        f"respondent {answers[found.answer].respondent_id} is coded "
                        f"{_codes_text(found.codes)} here but {_codes_text(earlier.codes)} in "
                        f"{earlier.sheet} row {earlier.row}: keep one of the two")))
                elif earlier is None:
                    coded[found.answer] = found
    if any(i.severity == "error" for i in issues):
        raise ValidationFailed(f"problems in the coding sheets of {item_id}; nothing was "
                               "read or written", [*issues, *notes])  # every problem at once
    for answer in coded:
        waiting.pop(answer, None)
    if coded and not codebook:
        notes.append(Issue(code="coding-unused", severity="warning", file=", ".join(sheets),
                           item=item_id, message=(
                               f"{len(coded)} answers of {item_id} coded by hand are not used "
                               "without a codebook"), hint="Fit with --codebook to use them."))
    return HumanCoding(item_id=item_id, given=tuple(codebook), texts=texts,
                       coded=dict(sorted(coded.items())), waiting=dict(sorted(waiting.items())),
                       sheets=tuple(sheets), issues=tuple(notes))


def human_coding(root: Path, item_id: str, answers: Sequence[Answer],
                 codebook: Sequence[Code]) -> HumanCoding:
    """The coding sheets of the project ``root``'s ``coding/`` folder for one item (:func:`read_coding`)."""
    return read_coding(root / CODING_FOLDER, item_id, answers, codebook)


def write_sheet(path: Path, item_id: str, answers: Sequence[Answer],
                picks: Sequence[Pick]) -> Path:
    """Write a coding sheet of ``picks`` (UTF-8 with a byte-order mark, for spreadsheets).

    Raises
    ------
    ConsultError
        When ``path`` exists: a sheet is never overwritten.
    """
    from consult.analysis.text.redact import redact

    if path.exists():
        raise ConsultError(f"{path} exists: a coding sheet is never overwritten; move it or "
                           "choose another name")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    with partial.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(SHEET_COLUMNS)
        for rank, pick in enumerate(picks, start=1):
            answer = answers[pick.answer]
            suggested = "; ".join(f"{c} ({s:.2f})" for c, s in pick.suggested)
            writer.writerow([answer.respondent_id, item_id, rank, safe_cell(redact(answer.text)),
                             suggested, "", ""])
    partial.replace(path)
    return path


def code_item(project: Project, item_id: str, codebook: Path, *, count: int = DEFAULT_BATCH,
              sheets: Sequence[Path] = (), model_dir: Path | None = None,
              embedder: Embedder | None = None, progress: bool = False,
              on_step: Callable[[str], None] | None = None) -> CodingRound:
    """Read the item's coding sheets (and ``sheets``), then write the next ``count`` answers to code.

    ``on_step`` is called with a short line before the slow step (loading the
    model, embedding the answers), once the item and the sheets are checked.

    Sheets given in ``sheets`` are checked with the others, then copied into
    ``coding/`` (never over a file) so that later fits use them. The new
    sheet is ``coding/<item>-<n>.csv`` with the first free ``n``; answers
    already coded or waiting on a sheet are not picked again.

    Raises
    ------
    ConsultError
        When the item is not a free-text item, the store holds no answer to
        it, the codebook cannot be read, or a sheet has problems (all listed).
    """
    from consult.analysis.text.themes import load_codebook

    answers = _item_answers(project, item_id)
    codes = load_codebook(codebook)
    folder = project.root / CODING_FOLDER
    coding = read_coding(folder, item_id, answers, codes, extra=sheets)
    imported = tuple(_import(path, folder) for path in sheets
                     if path.resolve().parent != folder.resolve())
    if imported:
        coding = read_coding(folder, item_id, answers, codes)
    left = set(coding.coded) | set(coding.waiting)
    if on_step is not None:
        on_step(f"{item_id}: placing {len(answers)} answers among the codes ...")
    if embedder is None:
        from consult.analysis.text.run import project_embedder  # run imports this module

        embedder = project_embedder(project, model_dir, progress)
    picks = pick_answers(coding.texts, embedder, coding.codebook, count=count, skip=left)
    sheet = write_sheet(_next_sheet(folder, item_id), item_id, answers, picks) if picks else None
    return CodingRound(coding=coding, picks=tuple(picks), sheet=sheet, imported=imported,
                       uncoded=len(answers) - len(left))


# --------------------------------------------------------------------------- helpers


def _themes_after(fit: ThemeFit, assignments: Sequence[tuple[tuple[str, float], ...]],
                  coded: Mapping[int, Sequence[str]], codebook: Sequence[Code],
                  texts: Sequence[str]) -> tuple[Theme, ...]:
    """The fit's themes with their members recomputed; codes only a human gave are added."""
    held: dict[str, set[int]] = {}
    for i, assigned in enumerate(assignments):
        for theme_id, _ in assigned:
            held.setdefault(theme_id, set()).add(i)
    fitted = {t.id: t for t in fit.themes}
    by_code = {c.id: c for c in codebook}
    # Codebook themes first, in codebook order, then the new ones: the fit's own order.
    ids = [c.id for c in codebook if c.id in held]
    ids += [t.id for t in fit.themes if t.id not in by_code and t.id in held]
    themes = []
    changed = []
    for theme_id in ids:
        members = tuple(sorted(held[theme_id]))
        old = fitted.get(theme_id)
        if old is not None and old.members == members:
            themes.append(old)
            continue
        changed.append(len(themes))
        human = [i for i in sorted(coded) if theme_id in coded[i]]
        answers = [r for r in (old.representatives if old else ()) if r in held[theme_id]]
        answers += [i for i in human if i not in answers]
        answers = answers[:MAX_REPRESENTATIVES]
        units = [u for u in (old.representative_units if old else ())
                 if fit.units[u].answer in held[theme_id]]
        units += [u for u, unit in enumerate(fit.units)
                  if unit.answer in answers and not any(fit.units[v].answer == unit.answer
                                                        for v in units)]
        themes.append(Theme(id=theme_id, label=old.label if old else by_code[theme_id].label,
                            keywords=old.keywords if old else (), members=members,
                            representatives=tuple(answers),
                            source=old.source if old else "codebook",
                            representative_units=tuple(units[:MAX_REPRESENTATIVES])))
    if changed:
        # Keywords are relative to the other themes: compute them over all, keep the changed.
        words = keywords(["\n".join(texts[i] for i in t.members) for t in themes],
                         stop_words=fit.settings.get("stop_words", DOMAIN_STOP_WORDS))
        for k in changed:
            themes[k] = replace(themes[k], keywords=words[k])
    return tuple(themes)


def _row(row: dict[str, str], number: int, name: str, where: Mapping[int, int],
         answers: Sequence[Answer], lookup: Mapping[str, str],
         checked: bool) -> Issue | CodedAnswer | int | None:
    """One row of the item: a coded answer, the index of one waiting, a problem, or nothing."""
    from consult.analysis.text.redact import redact

    respondent = row.get("respondent", "").strip()
    cell = row.get("codes", "").strip()
    if not respondent:
        return _issue(name, number, "respondent", "blank: write the respondent id the sheet "
                      "gave for this answer") if cell else None
    try:
        number_value = float(respondent)
        if not number_value.is_integer():
            raise ValueError
        answer = where.get(int(number_value))
    except ValueError:
        return _issue(name, number, "respondent", f"{respondent!r} is not a respondent id "
                      "(a whole number, as the sheet gave it)")
    if answer is None:
        return _issue(name, number, "respondent", (
            f"respondent {respondent} has no answer to {row.get('item', '').strip()} among the "
            "included responses (excluded or withdrawn since the sheet was written?)"),
            hint="Delete the row.")
    shown = _plain(row.get("answer", ""))
    if shown and shown != _plain(redact(answers[answer].text)):
        return _issue(name, number, "answer", (
            f"is not respondent {respondent}'s answer as stored now: the data changed since "
            "the sheet was written, or the row's respondent id was edited"),
            hint="Check the row; clear its answer cell to accept the stored answer.")
    if not cell:
        return answer
    if not checked:
        return CodedAnswer(answer=answer, codes=(), sheet=name, row=number)
    codes, unknown = _parse_codes(cell, lookup)
    if unknown:
        listed = ", ".join(sorted(set(lookup.values())))
        return _issue(name, number, "codes", (
            f"unknown code {unknown[0]!r}: use the codebook's ids or labels, separated by ';' "
            f"(ids: {listed}), or {NO_CODE} when no code applies"))
    if codes is None:
        return _issue(name, number, "codes", f"{NO_CODE!r} beside codes: write either codes "
                      f"or {NO_CODE}")
    return CodedAnswer(answer=answer, codes=tuple(codes), sheet=name, row=number)


def _parse_codes(cell: str, lookup: Mapping[str, str]) -> tuple[list[str] | None, list[str]]:
    """Code ids of a ``codes`` cell and the pieces that are no code; ``None`` for none+codes."""
    found: list[str] = []
    unknown: list[str] = []
    empty = False
    for piece in (p.strip() for p in re.split(r"[;\n|]", cell)):
        piece = _SCORE.sub("", piece).strip()
        if not piece:
            continue
        key = _key(piece)
        if key in lookup:
            found.append(lookup[key])
        elif key in (NO_CODE, "-", "no code"):
            empty = True
        elif "," in piece and all(_key(_SCORE.sub("", p)) in lookup for p in piece.split(",")):
            found += [lookup[_key(_SCORE.sub("", p))] for p in piece.split(",")]
        else:
            unknown.append(piece)
    if empty and found:
        return None, unknown
    return list(dict.fromkeys(found)), unknown


def _code_lookup(codebook: Sequence[Code]) -> dict[str, str]:
    """Lower-cased label or id → id; ids win over labels."""
    lookup = {_key(c.label): c.id for c in codebook}
    lookup |= {_key(c.id): c.id for c in codebook}
    return lookup


def _read_sheet(path: Path, name: str) -> tuple[list[tuple[int, dict[str, str]]], list[Issue]]:
    """Rows of a sheet (spreadsheet row number, lower-cased column → cell), or its problems."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return [], [_issue(name, None, "", f"cannot read it ({exc.strerror})")]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Excel's plain "CSV" is the Windows code page; the answer check catches a wrong guess.
        text = raw.decode("cp1252", errors="replace")
    lines = text.splitlines()
    header = lines[0] if lines else ""
    delimiter = max(",;\t", key=header.count) if header else ","
    reader = csv.reader(text.splitlines(keepends=True), delimiter=delimiter)
    try:
        records = list(reader)
    except csv.Error as exc:
        return [], [_issue(name, reader.line_num, "", f"not a readable CSV ({exc})")]
    if not records:
        return [], [_issue(name, None, "", "empty: a coding sheet needs the header "
                           f"{', '.join(SHEET_COLUMNS)}")]
    columns = [c.strip().lower() for c in records[0]]
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        return [], [_issue(name, 1, missing[0], (
            f"missing: a coding sheet needs the columns {', '.join(REQUIRED_COLUMNS)} "
            f"(it has {', '.join(c for c in columns if c) or 'none'})"))]
    rows = []
    for number, record in enumerate(records[1:], start=2):
        cells = {c: v for c, v in zip(columns, record, strict=False) if c}
        if any(v.strip() for v in cells.values()):
            rows.append((number, cells))
    return rows, []


def _sheet_paths(folder: Path) -> list[Path]:
    """The CSV files of ``folder``, by name; lock and partial files of spreadsheets left out."""
    if not folder.is_dir():
        return []
    return [p for p in sorted(folder.glob("*.csv"))
            if p.is_file() and not p.name.startswith((".", "~$"))]


def _not_csv(folder: Path) -> list[Issue]:
    """A warning for each workbook in ``folder``: only CSV sheets are read."""
    if not folder.is_dir():
        return []
    return [Issue(code="coding-workbook", severity="warning", file=_shown(p, folder),
                  message="is not read: only CSV coding sheets are read",
                  hint="Save it as CSV (UTF-8) in coding/.")
            for p in sorted(folder.iterdir())
            if p.suffix.lower() in (".xlsx", ".xls", ".ods", ".numbers")
            and not p.name.startswith((".", "~$"))]


def _item_answers(project: Project, item_id: str) -> list[Answer]:
    """The item's included answers, non-answers set aside, as ``consult themes fit`` fits them."""
    from consult.analysis.text.preprocess import prepare
    from consult.questionnaire import ItemType, load_questionnaire
    from consult.store import open_store
    from consult.store.responses import load_responses

    questionnaire = load_questionnaire(project.questionnaire_path)
    free = [i.id for i in questionnaire.items() if i.type is ItemType.FREE_TEXT]
    if item_id not in free:
        raise ConsultError(f"{item_id!r} is not a free-text item of {questionnaire.id}; use one "
                           f"of {', '.join(free)}")
    with open_store(project.database_url) as store:
        respondents, answers = load_responses(store, withdrawn=project.settings.ingest.withdrawn)
    if respondents.empty:
        raise ConsultError(f"no included responses in {project.root.name}'s database: import "
                           "responses first (consult ingest FILE)")
    frame = answers[answers["item_id"] == item_id].sort_values(["respondent_id", "ordinal"])
    listed = [Answer(respondent_id=int(r), item_id=item_id, text=str(v))
              for r, v in zip(frame["respondent_id"], frame["value"], strict=True)
              if v is not None]
    kept = prepare(listed, detect=False).units
    if not kept:
        raise ConsultError(f"no answers to {item_id} to code (non-answers are set aside)")
    return list(kept)


def _import(path: Path, folder: Path) -> Path:
    """Copy ``path`` into ``folder`` under its own name, or a free variant of it."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / path.name
    number = 2
    while target.exists():
        if target.read_bytes() == path.read_bytes():
            return target
        target = folder / f"{path.stem}-copy{number}{path.suffix}"
        number += 1
    shutil.copyfile(path, target)
    return target


def _next_sheet(folder: Path, item_id: str) -> Path:
    number = 1
    while (folder / f"{item_id}-{number}.csv").exists():
        number += 1
    return folder / f"{item_id}-{number}.csv"


def _shown(path: Path, folder: Path) -> str:
    """``coding/name.csv`` for a sheet of the folder, the path as given otherwise."""
    try:
        return str(path.resolve().relative_to(folder.resolve().parent))
    except ValueError:
        return str(path)


def _issue(name: str, row: int | None, column: str, message: str, hint: str = "") -> Issue:
    return Issue(code="coding-sheet", file=name, row=row, column=column, message=message,
                 hint=hint)




def _plain(text: str) -> str:
    """A cell compared without a formula guard, case of spaces or line breaks."""
    text = text.strip()
    return " ".join((text[1:] if text.startswith("'") else text).split())


def _key(text: str) -> str:
    return " ".join(text.lower().split())


def _codes_text(codes: Sequence[str]) -> str:
    return "; ".join(codes) if codes else NO_CODE


def _normalise(matrix: Any) -> Any:
    import numpy as np

    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1, norms)
