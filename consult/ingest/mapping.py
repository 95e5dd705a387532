"""From a source's columns to questionnaire items: drafting, saving and loading mappings.

The first time a source is ingested, :func:`draft_mapping` matches each
platform question to an item (by the same id, by similar question text, by
choice labels) with a confidence, and each choice column of a split multiple
choice to a choice code. The draft is written to ``mapping/<name>.yaml`` for
the researcher to review; later ingests read the reviewed file. The format is
documented in docs/mapping.md.
"""

from __future__ import annotations

import difflib
import functools
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from consult.errors import ConsultError, Issue, ValidationFailed
from consult.ingest.sources.base import SourceColumn, SourceTable
from consult.questionnaire import Item, ItemType, Questionnaire
from consult.questionnaire.model import OTHER_CODE

CONFIDENT = 0.8
"""A match at least this sure (and clearly ahead of the next) needs no review."""
PLAUSIBLE = 0.5
"""Below this a question is left unmatched, with its closest candidates listed."""


@dataclass
class QuestionMapping:
    """Where one platform question goes."""

    question: str
    columns: list[str]
    item: str | None
    how: str = "manual"
    confidence: float = 1.0
    choices: dict[str, str] = field(default_factory=dict)
    text: str = ""
    candidates: list[tuple[str, float]] = field(default_factory=list)

    @property
    def uncertain(self) -> bool:
        """Whether a person should look at this match."""
        return self.item is not None and self.confidence < CONFIDENT


@dataclass
class Mapping:
    """A source's whole mapping: questions, value recodings, referral-code columns."""

    format: str
    questionnaire: str
    questions: dict[str, QuestionMapping]
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    referral_code: str | None = None
    referred_by: str | None = None
    reviewed: bool = True
    """False for a draft nobody has accepted yet (the file says ``reviewed: false``)."""

    def for_item(self, item_id: str) -> list[QuestionMapping]:
        """The platform questions mapped to ``item_id``."""
        return [q for q in self.questions.values() if q.item == item_id]

    @property
    def uncertain(self) -> list[QuestionMapping]:
        """Matches that need a person's review."""
        return [q for q in self.questions.values() if q.uncertain]

    @property
    def unmatched(self) -> list[QuestionMapping]:
        """Questions matched to no item."""
        return [q for q in self.questions.values() if q.item is None]


def draft_mapping(table: SourceTable, questionnaire: Questionnaire) -> Mapping:
    """Match every platform question of ``table`` to an item, with a confidence."""
    groups = question_groups(table)
    statements = _matrix_statements(groups, table, questionnaire)
    groups = {key: group for key, group in groups.items() if key not in statements}
    items = questionnaire.items()
    scores: dict[str, list[tuple[float, str, str]]] = {}
    for key, group in groups.items():
        scores[key] = sorted(
            ((score, how, item.id) for item in items
             for score, how in [_score(key, group, item, table, questionnaire)]),
            reverse=True,
        )
    # One-to-one: the surest pairs first; an item taken is not offered again.
    # A split multiple choice and its "other" text are one question, so one item.
    taken: set[str] = {item.id for rows in statements.values() for _, item in rows}
    assigned: dict[str, tuple[float, str, str]] = {}
    for score, how, item_id, key in sorted(
        ((s, h, i, k) for k, ranked in scores.items() for s, h, i in ranked), reverse=True
    ):
        if key in assigned or item_id in taken or score < PLAUSIBLE:
            continue
        assigned[key] = (score, how, item_id)
        taken.add(item_id)
    questions: dict[str, QuestionMapping] = {}
    for key, group in question_groups(table).items():
        if key in statements:
            for column, item in statements[key]:
                questions[column.name] = QuestionMapping(
                    question=column.name, columns=[column.name], item=item.id, how="same id",
                    confidence=1.0, text=column.text)
            continue
        ranked = scores[key]
        if key in assigned:
            score, how, item_id = assigned[key]
            runner_up = next((s for s, _, i in ranked if i != item_id), 0.0)
            # A near tie with another item is not a confident match.
            confidence = score if score - runner_up >= 0.1 or how == "same id" else min(score, 0.79)
            item = questionnaire.item(item_id)
            choices = _choice_map(group, item, table)
            questions[key] = QuestionMapping(
                question=key, columns=[table.columns[c].name for c in group], item=item_id,
                how=how, confidence=round(confidence, 2), choices=choices,
                text=group_text(group, table))
        else:
            questions[key] = QuestionMapping(
                question=key, columns=[table.columns[c].name for c in group], item=None,
                how="unmatched", confidence=0.0, text=group_text(group, table),
                candidates=[(i, round(s, 2)) for s, _, i in ranked[:3] if s > 0.2])
    code_column = table.column("referral_code")
    ref_column = table.column("referred_by")
    return Mapping(
        format=table.format, questionnaire=f"{questionnaire.id} {questionnaire.version}",
        questions=questions,
        referral_code=code_column.name if code_column else None,
        referred_by=ref_column.name if ref_column else None,
        reviewed=False,
    )


def save_mapping(mapping: Mapping, path: Path, source: Path) -> Path:
    """Write ``mapping`` as commented YAML for review."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data: dict[str, Any] = {
        "format": mapping.format,
        "questionnaire": mapping.questionnaire,
        "reviewed": mapping.reviewed,
        "referral_code": mapping.referral_code,
        "referred_by": mapping.referred_by,
        "questions": {},
        "values": mapping.values,
    }
    for key, q in mapping.questions.items():
        entry: dict[str, Any] = {"item": q.item, "how": q.how, "confidence": q.confidence,
                                 "columns": q.columns}
        if q.text:
            entry["text"] = q.text[:160]
        if q.choices:
            entry["choices"] = q.choices
        if q.candidates:
            entry["candidates"] = [{"item": i, "score": s} for i, s in q.candidates]
        data["questions"][key] = entry
    header = (
        f"# Column mapping drafted by consult ingest on {date.today().isoformat()} from "
        f"{source.name}.\n"
        "# Review every entry whose confidence is below 0.8 and every item: null\n"
        "# (set item to a questionnaire item id, or leave null to ignore the question),\n"
        "# then set reviewed: true: until then ingest stops at this draft.\n"
        "# 'choices' maps a split column's choice key to a choice code; 'values' recodes\n"
        "# cell values per item, e.g. values: {role: {'Custodial (institutional)': custodial}}.\n"
        "# Format: docs/mapping.md\n"
    )
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)
    path.write_text(header + text, encoding="utf-8")
    return path


MAPPING_KEYS = ("format", "questionnaire", "reviewed", "referral_code", "referred_by",
                "questions", "values")
"""The top-level keys of a mapping file."""
ENTRY_KEYS = ("item", "how", "confidence", "columns", "text", "choices", "candidates")
"""The keys of one question's entry."""


def load_mapping(path: Path, questionnaire: Questionnaire) -> Mapping:
    """Read a mapping; every problem (an unknown key, item or code) is reported with its entry.

    Raises :class:`~consult.errors.ValidationFailed` listing each problem, so
    that a typo never silently drops a question or stores an invalid code.
    """
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise ConsultError(f"{path}: cannot read the mapping ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark is not None else ""
        reason = getattr(exc, "problem", None) or "not valid YAML"
        raise ConsultError(f"{path}{where}: the mapping is not valid YAML ({reason}); fix it, "
                           "or delete the file to have consult ingest draft a new one") from None
    if not isinstance(data, dict) or not isinstance(data.get("questions"), dict):
        raise ConsultError(f"{path}: not a consult mapping (no 'questions'); delete it to have "
                           "consult ingest draft a new one")
    issues: list[Issue] = []

    def problem(where: str, message: str, hint: str = "") -> None:
        issues.append(Issue("mapping", message, file=str(path), where=where, hint=hint))

    _unknown_keys(data, MAPPING_KEYS, "", problem)
    reviewed = data.get("reviewed", True)
    if not isinstance(reviewed, bool):
        problem("reviewed", f"{reviewed!r} is not true or false",
                "Write reviewed: true once every entry is checked.")
        reviewed = False
    known = {item.id: item for item in questionnaire.items()}
    questions: dict[str, QuestionMapping] = {}
    for key, entry in data["questions"].items():
        where = f"questions.{key}"
        if entry is None:
            entry = {}
        if not isinstance(entry, dict):
            problem(where, f"{entry!r} is not an entry",
                    f"Write it as {{item: ITEM, columns: [{key}]}} (docs/mapping.md).")
            continue
        _unknown_keys(entry, ENTRY_KEYS, where + ".", problem)
        item_id = entry.get("item")
        if item_id is not None and item_id not in known:
            close = difflib.get_close_matches(str(item_id), list(known), n=3)
            problem(where + ".item", f"{item_id!r} is not an item of the questionnaire",
                    f"Did you mean {', '.join(close)}?" if close
                    else "Set it to an item id (consult questionnaire show), or null to ignore "
                    "the question.")
            item_id = None
        columns = entry.get("columns") or []
        if not isinstance(columns, list):
            columns = [columns]
        choices = {str(k): str(v) for k, v in (entry.get("choices") or {}).items()}
        if item_id is not None:
            valid = known[item_id].choice_codes()
            for choice_key, code in choices.items():
                if code not in valid:
                    problem(f"{where}.choices.{choice_key}",
                            f"{code!r} is not a choice of {item_id}", _did_you_mean(code, valid))
            if not columns:
                problem(where + ".columns", f"no columns for item {item_id}",
                        f"List the file's columns of {key}, e.g. columns: [{key}].")
        confidence = entry.get("confidence", 1.0)
        questions[str(key)] = QuestionMapping(
            question=str(key), columns=[str(c) for c in columns],
            item=item_id, how=str(entry.get("how", "manual")),
            # A reviewed entry is taken as decided; a draft keeps its confidence.
            confidence=(1.0 if item_id else 0.0) if reviewed
            else float(confidence) if isinstance(confidence, int | float) else 0.0,
            choices=choices, text=str(entry.get("text", "") or ""))
    values: dict[str, dict[str, str]] = {}
    for item_id, recode in (data.get("values") or {}).items():
        where = f"values.{item_id}"
        if item_id not in known:
            close = difflib.get_close_matches(str(item_id), list(known), n=3)
            problem(where, f"{item_id!r} is not an item of the questionnaire",
                    f"Did you mean {', '.join(close)}?" if close else "")
            continue
        if not isinstance(recode, dict):
            problem(where, "not a list of recodings",
                    f"Write it as {item_id}: {{'value in the file': CODE}}.")
            continue
        values[str(item_id)] = {str(k): str(v) for k, v in recode.items()}
        for raw, code in values[str(item_id)].items():
            message, hint = _bad_recode(known[item_id], code)
            if message:
                problem(f"{where}.{raw}", message, hint)
    if issues:
        raise ValidationFailed(f"{path}: the mapping has errors; nothing was ingested", issues)
    return Mapping(format=str(data.get("format", "")),
                   questionnaire=str(data.get("questionnaire", "")), questions=questions,
                   values=values, referral_code=data.get("referral_code"),
                   referred_by=data.get("referred_by"), reviewed=reviewed)


@functools.lru_cache(maxsize=65536)
def normalise_label(text: str) -> str:
    """Case-, accent-, space- and punctuation-insensitive form of a label or code."""
    plain = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in plain if not unicodedata.combining(c)).casefold()
    plain = plain.replace("’", "'")
    return re.sub(r"[^a-z0-9]+", " ", plain).strip()


def compact(text: str) -> str:
    """Letters and digits only, lower case: ``acc_approach`` and ``accApproach`` agree."""
    return re.sub(r"[^a-z0-9]", "", normalise_label(text))


# --------------------------------------------------------------------------- helpers


def _unknown_keys(entry: dict[Any, Any], allowed: tuple[str, ...], prefix: str,
                  problem: Callable[[str, str, str], None]) -> None:
    for key in entry:
        if key not in allowed:
            close = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.5)
            problem(f"{prefix}{key}", f"unknown key {key!r}",
                    f"Did you mean {close[0]}?" if close else f"Use {', '.join(allowed)}.")


def _did_you_mean(code: str, valid: list[str]) -> str:
    close = difflib.get_close_matches(code, valid, n=3)
    return (f"Did you mean {', '.join(close)}? " if close else "") + f"Valid: {', '.join(valid)}."


def _bad_recode(item: Item, code: str) -> tuple[str, str]:
    """What is wrong with recoding a value of ``item`` to ``code`` (empty when nothing)."""
    if item.type.has_choices:
        valid = item.choice_codes()
        if code in valid:
            return "", ""
        return f"{code!r} is not a choice of {item.id}", _did_you_mean(code, valid)
    if item.type is ItemType.COUNTRY:
        from consult.regions import country_name, to_iso3

        if re.fullmatch(r"[A-Z]{3}", code) and country_name(code) != code:
            return "", ""
        iso3 = to_iso3(code)
        return (f"{code!r} is not an ISO 3166 alpha-3 country code",
                f"Write {iso3}." if iso3 and iso3 != code
                else "Write the country's three-letter code, such as GBR.")
    return (f"{item.id} is a {item.type.value} item: values recode only choice and country "
            "items", "Remove this recoding.")


def question_groups(table: SourceTable) -> dict[str, list[int]]:
    """The columns of each platform question of ``table`` (meta and ignored columns left out)."""
    groups: dict[str, list[int]] = defaultdict(list)
    for column in table.columns:
        if column.ignore or column.meta is not None or column.question is None:
            continue
        groups[column.question].append(column.index)
    return dict(groups)


def _matrix_statements(groups: dict[str, list[int]], table: SourceTable,
                       questionnaire: Questionnaire) -> dict[str, list[tuple[SourceColumn, Item]]]:
    """Questions whose columns are a matrix's statements, each the whole answer to an item.

    A platform cannot tell a matrix (``Q4_1``..``Q4_8``, one answer each) from a
    multiple choice split into columns; the questionnaire can: when every
    column's name is the id of an item that is not a multiple choice (as a
    QSF import makes them, ``q4_1``), each column is its own question.
    """
    ids = {compact(item.id): item for item in questionnaire.items()
           if item.type is not ItemType.MULTIPLE_CHOICE}
    found: dict[str, list[tuple[SourceColumn, Item]]] = {}
    for key, group in groups.items():
        columns = [table.columns[i] for i in group if not table.columns[i].other_text]
        if len(columns) < 2 or any(c.choice is None for c in columns):
            continue
        items = [ids.get(compact(c.name)) for c in columns]
        if all(item is not None for item in items):
            found[key] = [(c, item) for c, item in zip(columns, items, strict=True)
                          if item is not None]
    return found


def group_text(group: list[int], table: SourceTable) -> str:
    """The question text of a group of columns: the first column's that has one."""
    return next((table.columns[i].text for i in group if table.columns[i].text), "")


def _score(key: str, group: list[int], item: Item, table: SourceTable,
           q: Questionnaire) -> tuple[float, str]:
    columns = [table.columns[i] for i in group]
    split = any(c.choice is not None for c in columns)
    if split and item.type is not ItemType.MULTIPLE_CHOICE:
        return 0.0, "type"
    if compact(key) == compact(item.id) or any(compact(c.name) == compact(item.id)
                                               for c in columns if not c.other_text):
        return 1.0, "same id"
    text = group_text(group, table)
    text_score = max((similarity(text, label) for label in item.label.values()), default=0.0)
    choice_score = _choice_overlap(group, item, table)
    if choice_score is None:
        return text_score, "question text"
    if text_score >= choice_score:
        return 0.7 * text_score + 0.3 * choice_score, "question text"
    return 0.4 * text_score + 0.6 * choice_score, "choice labels"


def similarity(a: str, b: str) -> float:
    """How alike two labels are, 0-1: the better of a character ratio and word overlap."""
    x, y = normalise_label(a), normalise_label(b)
    if not x or not y:
        return 0.0
    if x == y:
        return 1.0
    ratio = difflib.SequenceMatcher(None, x, y).ratio()
    tx, ty = set(x.split()), set(y.split())
    jaccard = len(tx & ty) / len(tx | ty)
    return max(ratio, jaccard)


def choice_lookup(item: Item) -> dict[str, str]:
    """Normalised label or code → code, in every language."""
    known: dict[str, str] = {}
    for choice in item.choices or []:
        known[normalise_label(choice.code)] = choice.code
        for label in choice.label.values():
            known[normalise_label(label)] = choice.code
    if item.other:
        for word in OTHER_WORDS:
            known[word] = OTHER_CODE
    return known


OTHER_WORDS = ("other", "other please specify", "autre", "autre veuillez preciser",
               "otro", "otra", "anders", "andere")
_OTHER_FIRST_WORDS = {"other", "others", "autre", "autres", "otro", "otra", "otros", "anders",
                      "andere"}


def is_other_label(text: str) -> bool:
    """Whether ``text`` names an "Other (please …)" option in a common language."""
    words = normalise_label(text).split()
    return bool(words) and words[0] in _OTHER_FIRST_WORDS


def _sample_values(group: list[int], table: SourceTable, split: bool,
                   limit: int = 400) -> set[str]:
    values: set[str] = set()
    for row in table.rows[:limit]:
        for index in group:
            if table.columns[index].other_text or index >= len(row):
                continue
            cell = row[index].strip()
            if not cell:
                continue
            if split and table.multi_separator and table.columns[index].choice is None:
                values.update(part for part in cell.split(table.multi_separator) if part)
            else:
                values.add(cell)
    return values


def _choice_overlap(group: list[int], item: Item, table: SourceTable) -> float | None:
    if not item.type.has_choices:
        return None
    known = choice_lookup(item)
    labels = {table.columns[i].choice_text for i in group if table.columns[i].choice_text}
    split = item.type is ItemType.MULTIPLE_CHOICE
    values = _sample_values(group, table, split) | {x for x in labels if x}
    if not values or len(values) > 60:
        return 0.0
    hits = sum(1 for v in values if normalise_label(v) in known
               or (item.other and is_other_label(v)))
    return hits / len(values)


def _choice_map(group: list[int], item: Item, table: SourceTable) -> dict[str, str]:
    """Choice key of each split column → choice code."""
    split = [table.columns[i] for i in group if table.columns[i].choice is not None]
    if not split:
        return {}
    known = choice_lookup(item)
    codes = [c.code for c in item.choices or []]
    mapped: dict[str, str] = {}
    for column in split:
        key = str(column.choice)
        candidates = [column.choice_text or "", key]
        cells = {row[column.index].strip() for row in table.rows[:400]
                 if column.index < len(row) and row[column.index].strip() not in ("", "0", "1", "Y")}
        candidates += sorted(cells)
        code = next((known[normalise_label(c)] for c in candidates if normalise_label(c) in known),
                    None)
        if code is None and item.other and any(is_other_label(c) for c in candidates if c):
            code = OTHER_CODE
        if code is None:
            position = choice_position(key)
            if position is not None and 1 <= position <= len(codes) + (1 if item.other else 0):
                code = codes[position - 1] if position <= len(codes) else OTHER_CODE
        if code is not None:
            mapped[key] = code
    return mapped


def choice_position(key: str) -> int | None:
    """``"3"``, ``"SQ003"``, ``"A3"`` → 3 (platforms number choices in order)."""
    found = re.fullmatch(r"(?:SQ|A)?0*(\d+)", key.strip(), flags=re.IGNORECASE)
    return int(found.group(1)) if found else None
