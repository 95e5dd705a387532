"""Import a Qualtrics survey definition (``.qsf``) as a consult questionnaire.

A QSF file is JSON: ``SurveyEntry`` holds the name and language, and
``SurveyElements`` holds the blocks (``BL``), the survey flow (``FL``) and one
``SQ`` element per question. Each block becomes a domain, in survey-flow
order; each question becomes one item (a matrix one item per statement). Item
ids come from the export tags (``Q6`` becomes ``q6``) so that they match the
columns of a Qualtrics response export. Branches of the survey flow and
questions' display logic become ``relevant`` conditions where our condition
forms can say the same thing.

Whatever is skipped, renamed or guessed is reported as an :class:`Issue`; the
result is a plain dict ready to be written as YAML and checked with
``consult questionnaire check``.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from itertools import combinations
from pathlib import Path
from typing import Any, ClassVar

import yaml

from consult.errors import ConsultError, Issue
from consult.questionnaire.model import OTHER_CODE

SINGLE_SELECTORS = {"SAVR", "SAHR", "SACOL", "DL", "SB", "NPS"}
MULTIPLE_SELECTORS = {"MAVR", "MAHR", "MACOL", "MSB"}
TEXT_SELECTORS = {"SL", "ML", "ESTB", "PW", "BL"}
NO_ANSWER_TYPES = {"Timing", "Meta", "Captcha"}
DONT_KNOW = re.compile(
    r"^\s*(i\s*(')?m\s+|i\s+am\s+)?(unsure|not\s+sure|don'?t\s+know|do\s+not\s+know|"
    r"prefer\s+not\s+to\s+(say|answer|disclose)|no\s+opinion|n/?a|not\s+applicable|"
    r"i\s+do\s+not\s+know)",
    re.IGNORECASE,
)
ID_MAX = 64

Cond = dict[str, Any]


class QsfError(ConsultError):
    """The file is not a Qualtrics survey definition consult can read."""


def import_qsf(path: Path) -> tuple[dict[str, Any], list[Issue]]:
    """Read the Qualtrics survey in ``path``; return our questionnaire dict and issues.

    The dict has the keys of a questionnaire YAML file (``id``, ``version``,
    ``title``, ``languages``, ``domains``...). Issues have severity ``info``
    (renamed ids, skipped descriptive text) or ``warning`` (dropped logic,
    guessed "don't know" options, skipped question types).

    Raises
    ------
    QsfError
        When the file cannot be read, is not JSON or has no ``SurveyElements``.
    """
    data = _read(path)
    return _Importer(data, path.name).run()


def dump_yaml(data: dict[str, Any]) -> str:
    """``data`` as YAML, keys in order, long texts with several lines as blocks."""
    return yaml.dump(data, Dumper=_BlockDumper, allow_unicode=True, sort_keys=False, width=100)


# --------------------------------------------------------------------------- reading


def _read(path: Path) -> dict[str, Any]:
    hint = "export it from Qualtrics with Tools > Import/Export > Export Survey"
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise QsfError(f"{path}: file not found") from None
    except UnicodeDecodeError:
        raise QsfError(f"{path} is not a Qualtrics survey file (.qsf): not UTF-8 text; "
                       f"{hint}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise QsfError(f"{path} is not a Qualtrics survey file (.qsf): not valid JSON "
                       f"({exc.msg} at line {exc.lineno}); {hint}") from None
    if not isinstance(data, dict) or not isinstance(data.get("SurveyElements"), list):
        raise QsfError(f"{path} is not a Qualtrics survey file (.qsf): it has no "
                       f"SurveyElements list; {hint}")
    return data


@dataclass
class _Imported:
    """What conditions need to know about an imported question."""

    item_id: str
    multiple: bool
    codes: dict[str, str]  # Qualtrics choice id -> our code


@dataclass(frozen=True)
class _Gate:
    """Survey-flow logic a block sits behind: a branch's test, or its opposite."""

    logic: Any
    where: str
    negated: bool = False


@dataclass
class _Block:
    id: str
    description: str
    question_ids: list[str]
    appearances: list[list[_Gate]] = field(default_factory=list)  # gates, per place in the flow


class _Untranslatable(Exception):
    """A piece of Qualtrics logic with no equivalent condition."""


class _Importer:
    def __init__(self, data: dict[str, Any], name: str) -> None:
        self.name = name
        self.entry: dict[str, Any] = data.get("SurveyEntry") or {}
        self.elements = [e for e in data["SurveyElements"] if isinstance(e, dict)]
        self.questions: dict[str, dict[str, Any]] = {
            str(e["Payload"]["QuestionID"]): e["Payload"] for e in self.elements
            if e.get("Element") == "SQ" and isinstance(e.get("Payload"), dict)
            and "QuestionID" in e["Payload"]
        }
        self.issues: list[Issue] = []
        self.imported: dict[str, _Imported] = {}
        self.item_ids: set[str] = set()
        self.missing_texts: dict[str, int] = {}
        self.primary, self.translations = self._languages()

    # ------------------------------------------------------------------ top level

    def run(self) -> tuple[dict[str, Any], list[Issue]]:
        name = _clean(str(self.entry.get("SurveyName") or "")) or Path(self.name).stem
        result: dict[str, Any] = {
            "id": _slug(name, "survey"),
            "version": "1.0",
            "title": self._same_text(name),
            "languages": [self.primary, *self.translations],
        }
        description = _clean(str(self.entry.get("SurveyDescription") or ""))
        if description:
            result["description"] = self._same_text(description)
        domains: list[dict[str, Any]] = []
        domain_ids: set[str] = set()
        for block in self._blocks_in_flow():
            domain = self._domain(block, domain_ids)
            if domain is not None:
                domains.append(domain)
        result["domains"] = domains
        if not domains:
            self._issue("no-items", "no question could be imported", severity="warning")
        for lang, count in self.missing_texts.items():
            self._issue("missing-translation",
                        f"{count} text(s) have no {lang!r} version; the {self.primary!r} text "
                        "was copied: translate them before use", severity="warning")
        return result, self.issues

    def _languages(self) -> tuple[str, dict[str, str]]:
        primary = _language_code(str(self.entry.get("SurveyLanguage") or "EN")) or "en"
        others: dict[str, str] = {}
        for payload in self.questions.values():
            languages = payload.get("Language")
            for key in languages if isinstance(languages, dict) else {}:
                code = _language_code(str(key))
                if code and code != primary and code not in others:
                    others[code] = str(key)
        return primary, others

    # ------------------------------------------------------------------ blocks and flow

    def _blocks_in_flow(self) -> list[_Block]:
        blocks: dict[str, _Block] = {}
        trashed: list[str] = []
        for element in self.elements:
            if element.get("Element") != "BL":
                continue
            payload = element.get("Payload") or {}
            for raw in payload.values() if isinstance(payload, dict) else payload:
                ids = [str(e["QuestionID"]) for e in raw.get("BlockElements") or []
                       if e.get("Type") == "Question" and "QuestionID" in e]
                if raw.get("Type") == "Trash":
                    trashed += ids
                    continue
                blocks[str(raw.get("ID"))] = _Block(str(raw.get("ID")),
                                                    _clean(str(raw.get("Description") or "")),
                                                    ids)
        if trashed:
            self._issue("trash", f"{len(trashed)} question(s) in the trash were skipped",
                        severity="info")
        flow = next((e.get("Payload") for e in self.elements if e.get("Element") == "FL"), None)
        order: list[str] = []
        if isinstance(flow, dict):
            self._walk(flow.get("Flow") or [], [], blocks, order)
        else:
            order = list(blocks)
            for block in blocks.values():
                block.appearances.append([])
        for block_id, block in blocks.items():
            if block_id not in order:
                self._issue("block-not-in-flow", f"block {block.description!r} is not in the "
                            "survey flow; its questions were skipped", severity="info")
        if any(e.get("Type") == "Page Break" for e in self._all_block_elements()):
            self._issue("page-breaks", "page breaks inside blocks were dropped: each block "
                        "becomes one domain (one page)", severity="info")
        return [blocks[block_id] for block_id in order]

    def _all_block_elements(self) -> Iterable[dict[str, Any]]:
        for element in self.elements:
            if element.get("Element") == "BL":
                payload = element.get("Payload") or {}
                for raw in payload.values() if isinstance(payload, dict) else payload:
                    yield from raw.get("BlockElements") or []

    def _walk(self, flow: list[Any], gates: list[_Gate], blocks: dict[str, _Block],
              order: list[str]) -> tuple[list[_Gate], bool]:
        """Record each block's place and gates; return the gates after ``flow`` and
        whether ``flow`` ends the survey.

        A branch that ends the survey lets only respondents for whom its test is
        false go on, so the blocks after it sit behind the negated test. Logic is
        translated later, block by block, once the questions it reads are imported.
        """
        for step in flow:
            kind = step.get("Type")
            if kind in ("Block", "Standard") and str(step.get("ID")) in blocks:
                block_id = str(step.get("ID"))
                if block_id in order:
                    order.remove(block_id)  # a block shown twice sits at its last place
                order.append(block_id)
                blocks[block_id].appearances.append(gates)
            elif kind == "Branch":
                gate = _Gate(step.get("BranchLogic"),
                             f"survey flow, branch {step.get('FlowID', '')}".rstrip())
                _, ended = self._walk(step.get("Flow") or [], [*gates, gate], blocks, order)
                if ended:
                    gates = [*gates, _Gate(gate.logic, gate.where, negated=True)]
            elif kind in ("Group", "Randomizer"):
                if kind == "Randomizer":
                    self._issue("randomizer", "a randomizer was read as a fixed order",
                                where=f"survey flow {step.get('FlowID', '')}", severity="info")
                gates, ended = self._walk(step.get("Flow") or [], gates, blocks, order)
                if ended:
                    return gates, True
            elif kind == "EndSurvey":
                return gates, True
            elif kind == "EmbeddedData":
                self._issue("embedded-data", "embedded data fields were skipped",
                            where=f"survey flow {step.get('FlowID', '')}", severity="info")
        return gates, False

    def _block_condition(self, block: _Block) -> Cond | None:
        """When a block is shown: any of its places in the flow, each behind all its gates."""
        places: list[Cond | None] = []
        for gates in block.appearances:
            tests = [self._gate(gate) for gate in gates]
            places.append(_all([t for t in tests if t is not None]))
        return _any_of(places)

    def _gate(self, gate: _Gate) -> Cond | None:
        if not gate.negated:
            return self._logic(gate.logic, gate.where, "the blocks in the branch are shown to "
                               "everyone who reaches it")
        test = self._logic(gate.logic, gate.where, "the blocks after the branch, which ends "
                           "the survey, are shown to everyone")
        opposite = _negate(test) if test is not None else None
        if test is not None and opposite is None:
            self._issue("logic", "the survey ends in this branch and its test has no opposite "
                        "among our conditions: the blocks after it are shown to everyone",
                        where=gate.where, severity="warning")
        return opposite

    def _domain(self, block: _Block, domain_ids: set[str]) -> dict[str, Any] | None:
        where = f"block {block.description!r}"
        domain_id = _unique(_slug(block.description, "block"), domain_ids)
        block_condition = self._block_condition(block)
        items: list[dict[str, Any]] = []
        intro: dict[str, str] | None = None
        for qid in block.question_ids:
            payload = self.questions.get(qid)
            if payload is None:
                self._issue("missing-question", f"{qid} is listed in the block but not defined",
                            where=where, severity="warning")
                continue
            if payload.get("QuestionType") == "DB":
                if not items and intro is None and _clean(str(payload.get("QuestionText") or "")):
                    intro = self._text(payload, ("QuestionText",), qid)
                    note = f"descriptive text became the intro of domain {domain_id!r}"
                else:
                    note = "descriptive text (no answer) was skipped"
                self._issue("descriptive", note, where=self._where(payload), severity="info")
                continue
            conditions = [block_condition]
            if payload.get("DisplayLogic"):
                conditions.append(self._logic(payload["DisplayLogic"], self._where(payload),
                                              "the item is shown to everyone"))
            relevant = _all([c for c in conditions if c is not None])
            for item in self._items(payload):
                if relevant is not None:
                    item["relevant"] = copy.deepcopy(relevant)  # no YAML anchors
                items.append(item)
        if not items:
            self._issue("empty-block", "no question in this block could be imported; it was "
                        "skipped", where=where, severity="info")
            domain_ids.discard(domain_id)
            return None
        domain: dict[str, Any] = {"id": domain_id,
                                  "title": self._same_text(block.description or domain_id)}
        if intro:
            domain["intro"] = intro
        domain["items"] = items
        return domain

    # ------------------------------------------------------------------ questions

    def _items(self, payload: dict[str, Any]) -> list[dict[str, Any]]:
        kind, selector = payload.get("QuestionType"), payload.get("Selector")
        where = self._where(payload)
        if kind == "MC":
            if selector not in SINGLE_SELECTORS | MULTIPLE_SELECTORS:
                self._issue("guessed-type", f"selector {selector!r} was read as single choice",
                            where=where, severity="warning")
            multiple = selector in MULTIPLE_SELECTORS
            return self._choice_item(payload, multiple)
        if kind == "TE":
            return self._text_items(payload)
        if kind == "Matrix":
            return self._matrix_items(payload)
        if kind == "Slider":
            return self._slider_items(payload)
        severity = "info" if kind in NO_ANSWER_TYPES else "warning"
        self._issue("unsupported", f"question type {kind}/{selector} has no equivalent; "
                    "skipped", where=where, severity=severity)
        return []

    def _choice_item(self, payload: dict[str, Any], multiple: bool) -> list[dict[str, Any]]:
        qid, where = str(payload["QuestionID"]), self._where(payload)
        item = self._item_head(payload, "multiple_choice" if multiple else "single_choice")
        if payload.get("DynamicChoices"):
            self._issue("dynamic-choices", "choices carried forward from another question "
                        "were skipped; add them by hand", where=where, severity="warning")
        order = _order(payload.get("ChoiceOrder"), payload.get("Choices"))
        recode = payload.get("RecodeValues") or {}
        choices: list[dict[str, Any]] = []
        codes: dict[str, str] = {}
        used = {OTHER_CODE}
        for cid in order:
            raw = (payload.get("Choices") or {}).get(cid) or {}
            if _truthy(raw.get("TextEntry")) and not item.get("other"):
                item["other"], codes[cid] = True, OTHER_CODE
                self._issue("other", f"choice {cid} with a text box became 'other: true' (code "
                            "'other', label 'Other (please specify)')", where=where,
                            severity="info")
                continue
            if _truthy(raw.get("TextEntry")):
                self._issue("other", f"choice {cid}: only one 'other' text box is kept; its text "
                            "box was dropped", where=where, severity="warning")
            code = self._code(str(recode.get(cid, cid)), used, where)
            codes[cid] = code
            choice: dict[str, Any] = {
                "code": code,
                "label": self._text(payload, ("Choices", cid, "Display"), f"Choice {cid}"),
            }
            if multiple and _truthy(raw.get("ExclusiveAnswer")):
                choice["exclusive"] = True
            choices.append(choice)
        if not choices:
            self._issue("no-choices", "the question has no choices; skipped", where=where,
                        severity="warning")
            return []
        self._mark_dont_know(choices, where)
        item["choices"] = choices
        self.imported[qid] = _Imported(item["id"], multiple, codes)
        return [item]

    def _text_items(self, payload: dict[str, Any]) -> list[dict[str, Any]]:
        settings = (payload.get("Validation") or {}).get("Settings") or {}
        if settings.get("ContentType") == "ValidNumber":
            item = self._item_head(payload, "number")
            number = settings.get("ValidNumber") or {}
            for key in ("Min", "Max"):
                value = _float(number.get(key))
                if value is not None:
                    item[key.lower()] = value
            if str(number.get("NumDecimals", "")).strip() == "0":
                item["integer"] = True
            return [item]
        if payload.get("Selector") == "FORM":
            return [self._item_head(payload, "free_text", row=cid, row_path=("Choices", cid))
                    for cid in _order(payload.get("ChoiceOrder"), payload.get("Choices"))]
        if payload.get("Selector") not in TEXT_SELECTORS:
            self._issue("guessed-type", f"text entry selector {payload.get('Selector')!r} was "
                        "read as free text", where=self._where(payload), severity="warning")
        return [self._item_head(payload, "free_text")]

    def _matrix_items(self, payload: dict[str, Any]) -> list[dict[str, Any]]:
        where, sub = self._where(payload), payload.get("SubSelector")
        if payload.get("Selector") not in ("Likert", "Bipolar") or sub not in (
                "SingleAnswer", "MultipleAnswer", "DL"):
            self._issue("unsupported", f"matrix {payload.get('Selector')}/{sub} has no "
                        "equivalent; skipped", where=where, severity="warning")
            return []
        kind = "multiple_choice" if sub == "MultipleAnswer" else "likert"
        recode = payload.get("RecodeValues") or {}
        used: set[str] = {OTHER_CODE}
        answers = [{"code": self._code(str(recode.get(aid, aid)), used, where),
                    "label": self._text(payload, ("Answers", aid, "Display"), f"Answer {aid}")}
                   for aid in _order(payload.get("AnswerOrder"), payload.get("Answers"))]
        if not answers:
            self._issue("no-choices", "the matrix has no answer columns; skipped", where=where,
                        severity="warning")
            return []
        self._mark_dont_know(answers, where)
        tags = payload.get("ChoiceDataExportTags")
        items = []
        for cid in _order(payload.get("ChoiceOrder"), payload.get("Choices")):
            if _truthy(((payload.get("Choices") or {}).get(cid) or {}).get("TextEntry")):
                self._issue("other", f"statement {cid}: its text box was dropped", where=where,
                            severity="warning")
            tag = str(tags[cid]) if isinstance(tags, dict) and tags.get(cid) else None
            item = self._item_head(payload, kind, row=cid, row_path=("Choices", cid), tag=tag)
            item["choices"] = copy.deepcopy(answers)
            items.append(item)
        return items

    def _slider_items(self, payload: dict[str, Any]) -> list[dict[str, Any]]:
        config = payload.get("Configuration") or {}
        order = _order(payload.get("ChoiceOrder"), payload.get("Choices"))
        items = []
        for cid in order:
            row = cid if len(order) > 1 else None
            item = self._item_head(payload, "number", row=row,
                                   row_path=("Choices", cid) if row else None)
            for key, source in (("min", "CSSliderMin"), ("max", "CSSliderMax")):
                value = _float(config.get(source))
                if value is not None:
                    item[key] = value
            if str(config.get("NumDecimals", "")).strip() == "0":
                item["integer"] = True
            items.append(item)
        return items

    def _item_head(self, payload: dict[str, Any], kind: str, row: str | None = None,
                   row_path: tuple[str, ...] | None = None, tag: str | None = None
                   ) -> dict[str, Any]:
        qid = str(payload["QuestionID"])
        base = str(payload.get("DataExportTag") or qid)
        source = tag or (f"{base}_{row}" if row is not None else base)
        item_id = _unique(_slug(source, "q"), self.item_ids)
        if item_id != source:
            self._issue("renamed", f"export tag {source!r} became item id {item_id!r}",
                        where=self._where(payload), severity="info")
        label = self._text(payload, ("QuestionText",), base)
        if row_path is not None:
            part = self._text(payload, (*row_path, "Display"), f"{row}")
            label = {lang: f"{label[lang]} — {part[lang]}" for lang in label}
        settings = (payload.get("Validation") or {}).get("Settings") or {}
        return {"id": item_id, "type": kind, "required": settings.get("ForceResponse") == "ON",
                "label": label}

    # ------------------------------------------------------------------ logic

    def _logic(self, raw: Any, where: str, consequence: str) -> Cond | None:
        """Translate Qualtrics logic, or report it and return ``None``."""
        try:
            return self._boolean(raw)
        except _Untranslatable as exc:
            self._issue("logic", f"the logic “{_describe(raw)}” was dropped ({exc}): "
                        f"{consequence}; add a relevant by hand", where=where,
                        severity="warning")
            return None

    def _boolean(self, raw: Any) -> Cond:
        if not isinstance(raw, dict):
            raise _Untranslatable("not a logic expression")
        terms: list[tuple[str, Cond]] = []
        for group in _numbered(raw):
            parts = [(str(e.get("Conjuction") or e.get("Conjunction") or "And"),
                      self._expression(e)) for e in _numbered(group)]
            if not parts:
                continue
            terms.append((str(group.get("Type") or "And"), _precedence(parts)))
        if not terms:
            raise _Untranslatable("empty logic")
        return _precedence(terms)

    def _expression(self, expr: dict[str, Any]) -> Cond:
        operand = str(expr.get("LeftOperand") or expr.get("ChoiceLocator") or "")
        match = re.fullmatch(r"q://(QID\d+)/SelectableChoice/(\w+)", operand)
        operator = expr.get("Operator")
        if expr.get("LogicType") != "Question" or match is None:
            raise _Untranslatable(f"only tests on a chosen answer can be translated, not "
                                  f"{operand or expr.get('LogicType')!r}")
        target = self.imported.get(match.group(1))
        if target is None:
            raise _Untranslatable(f"{match.group(1)} is not an earlier imported question")
        code = target.codes.get(match.group(2))
        if code is None:
            raise _Untranslatable(f"choice {match.group(2)} of {match.group(1)} was not imported")
        item = target.item_id
        if operator == "Selected":
            return {"item": item, "selected": code} if target.multiple else {"item": item,
                                                                              "equals": code}
        if operator == "NotSelected" and not target.multiple:
            return {"any": [{"item": item, "not_equals": code}, {"item": item, "answered": False}]}
        raise _Untranslatable(f"operator {operator!r} on a "
                              f"{'multiple' if target.multiple else 'single'} choice")

    # ------------------------------------------------------------------ texts and codes

    def _text(self, payload: dict[str, Any], keys: tuple[str, ...], fallback: str
              ) -> dict[str, str]:
        """The text at ``keys`` in each language (translations from ``Language``)."""
        primary = _clean(_pipe(str(_dig(payload, keys) or ""), self.questions))
        if not primary:
            primary = fallback
            self._issue("empty-text", f"{'/'.join(keys)} is empty; {fallback!r} was used",
                        where=self._where(payload), severity="warning")
        texts = {self.primary: primary}
        for code, key in self.translations.items():
            translated = _clean(_pipe(str(_dig(payload, ("Language", key, *keys)) or ""),
                                      self.questions))
            if not translated:
                self.missing_texts[code] = self.missing_texts.get(code, 0) + 1
            texts[code] = translated or primary
        if "${" in str(_dig(payload, keys) or ""):
            self._issue("piped-text", "piped text was replaced by the export tag it reads, "
                        "in brackets: reword the label", where=self._where(payload),
                        severity="warning")
        return texts

    def _same_text(self, text: str) -> dict[str, str]:
        for code in self.translations:
            self.missing_texts[code] = self.missing_texts.get(code, 0) + 1
        return {lang: text for lang in [self.primary, *self.translations]}

    def _code(self, raw: str, used: set[str], where: str) -> str:
        code = re.sub(r"[^A-Za-z0-9_\-]+", "_", raw.strip()).strip("_")[:ID_MAX] or "code"
        code = _unique(code, used)
        if code != raw:
            self._issue("recoded", f"choice code {raw!r} became {code!r}", where=where,
                        severity="info")
        return code

    def _mark_dont_know(self, choices: list[dict[str, Any]], where: str) -> None:
        for choice in choices:
            if DONT_KNOW.match(choice["label"][self.primary]):
                choice["dont_know"] = True
                self._issue("guessed-dont-know", f"choice {choice['code']!r} "
                            f"({choice['label'][self.primary]!r}) was marked dont_know: true "
                            "from its label; check it", where=where, severity="info")

    def _where(self, payload: dict[str, Any]) -> str:
        tag = payload.get("DataExportTag")
        return f"{payload.get('QuestionID')} ({tag})" if tag else str(payload.get("QuestionID"))

    def _issue(self, code: str, message: str, where: str = "", severity: str = "info") -> None:
        issue = Issue(code, message, file=self.name, where=where, severity=severity)
        if issue not in self.issues:
            self.issues.append(issue)


# --------------------------------------------------------------------------- conditions


def _precedence(terms: list[tuple[str, Cond]]) -> Cond:
    """Join ``(conjunction, condition)`` terms, ``And`` binding tighter than ``Or``."""
    runs: list[list[Cond]] = []
    for index, (conjunction, condition) in enumerate(terms):
        if index == 0 or conjunction.lower() == "or":
            runs.append([condition])
        else:
            runs[-1].append(condition)
    alternatives = [_all(run) for run in runs]
    return _any([a for a in alternatives if a is not None]) or {}


def _all(conditions: list[Cond]) -> Cond | None:
    flat: list[Cond] = []
    for condition in conditions:
        parts = condition["all"] if set(condition) == {"all"} else [condition]
        flat += [p for p in parts if p not in flat]
    if not flat:
        return None
    return flat[0] if len(flat) == 1 else {"all": flat}


def _any(conditions: list[Cond]) -> Cond | None:
    unique: list[Cond] = []
    for condition in conditions:
        if condition not in unique:
            unique.append(condition)
    if not unique:
        return None
    return unique[0] if len(unique) == 1 else {"any": unique}


def _any_of(places: list[Cond | None]) -> Cond | None:
    """The condition of a block shown at several places: any of them (none if one has none)."""
    if not places or any(p is None for p in places):
        return None
    # "A and B" or "A and not B" is "A", and "A" or "A and B" is "A": simplify until
    # neither applies, so that a block reached by every path gets a short condition.
    alternatives = [p["all"] if set(p) == {"all"} else [p] for p in places if p is not None]
    merged = True
    while merged:
        merged = False
        for first, second in combinations(range(len(alternatives)), 2):
            a, b = alternatives[first], alternatives[second]
            if all(t in b for t in a) or all(t in a for t in b):
                alternatives.pop(second if all(t in b for t in a) else first)
                merged = True
                break
            only_a = [t for t in a if t not in b]
            only_b = [t for t in b if t not in a]
            if len(only_a) == len(only_b) == 1 and (
                    _negate(only_a[0]) == only_b[0] or _negate(only_b[0]) == only_a[0]):
                common = [t for t in a if t != only_a[0]]
                if not common:
                    return None
                alternatives = [x for i, x in enumerate(alternatives) if i not in (first, second)]
                alternatives.append(common)
                merged = True
                break
    return _any([c for c in (_all(a) for a in alternatives) if c is not None])


def _negate(condition: Cond) -> Cond | None:
    """The opposite of ``condition``, or ``None`` when our forms cannot say it."""
    tests = condition.get("any") or []
    if len(tests) == 2 and tests[1] == {"item": tests[0].get("item"), "answered": False}:
        # "x is not c (or unanswered)" and back: the forms _expression writes.
        if "not_equals" in tests[0]:
            return {"item": tests[0]["item"], "equals": tests[0]["not_equals"]}
        if "equals" in tests[0]:
            return {"item": tests[0]["item"], "not_equals": tests[0]["equals"]}
    if "all" in condition or "any" in condition:
        parts = [_negate(c) for c in condition.get("all") or condition.get("any") or []]
        if any(p is None for p in parts):
            return None
        known = [p for p in parts if p is not None]
        return _any(known) if "all" in condition else _all(known)
    item = condition["item"]
    if "answered" in condition:
        return {"item": item, "answered": not condition["answered"]}
    if "equals" in condition:
        return {"any": [{"item": item, "not_equals": condition["equals"]},
                        {"item": item, "answered": False}]}
    if "not_equals" in condition:
        return {"any": [{"item": item, "equals": condition["not_equals"]},
                        {"item": item, "answered": False}]}
    return None


# --------------------------------------------------------------------------- helpers


class _TextOnly(HTMLParser):
    BLOCKS: ClassVar[set[str]] = {"p", "div", "br", "li", "tr", "ul", "ol",
                                  "h1", "h2", "h3", "h4", "h5", "h6"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self.skip += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self.skip = max(0, self.skip - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(data)


def _clean(html: str) -> str:
    """Plain text of an HTML fragment: tags and entities gone, paragraphs kept."""
    parser = _TextOnly()
    parser.feed(html)
    parser.close()
    text = "".join(parser.parts).replace("\xa0", " ")
    lines = [" ".join(line.split()) for line in text.split("\n")]
    paragraphs: list[str] = []
    for line in lines:
        if line:
            paragraphs.append(line)
    return "\n\n".join(paragraphs)


def _pipe(text: str, questions: dict[str, dict[str, Any]]) -> str:
    """Replace Qualtrics piped text ``${q://QID19/...}`` by ``[Q7]`` (the export tag)."""
    def replace(match: re.Match[str]) -> str:
        ref = match.group(1)
        found = re.match(r"q://(QID\d+)/", ref)
        if found and found.group(1) in questions:
            return f"[{questions[found.group(1)].get('DataExportTag') or found.group(1)}]"
        return f"[{ref.rsplit('/', 1)[-1] or ref}]"

    return re.sub(r"\$\{([^}]*)\}", replace, text)


def _describe(raw: Any) -> str:
    if not isinstance(raw, dict):
        return str(raw)
    words = [_clean(str(e.get("Description") or "")) for g in _numbered(raw)
             for e in _numbered(g)]
    text = " ".join(w for w in words if w)
    return text if len(text) <= 160 else text[:157] + "..."


def _numbered(mapping: dict[str, Any]) -> list[dict[str, Any]]:
    keys = sorted((k for k in mapping if str(k).isdigit()), key=int)
    return [mapping[k] for k in keys if isinstance(mapping[k], dict)]


def _order(order: Any, mapping: Any) -> list[str]:
    if not isinstance(mapping, dict):
        return []
    ids = [str(i) for i in order] if isinstance(order, list) else sorted(
        mapping, key=lambda k: (not str(k).isdigit(), int(k) if str(k).isdigit() else 0, k))
    return [i for i in ids if i in mapping]


def _dig(data: Any, keys: tuple[str, ...]) -> Any:
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _slug(text: str, prefix: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    if not slug or not slug[0].isalpha():
        slug = f"{prefix}_{slug}".strip("_") if slug else prefix
    return slug[:ID_MAX].rstrip("_")


def _unique(name: str, used: set[str]) -> str:
    candidate, n = name, 2
    while candidate in used:
        suffix = f"_{n}"
        candidate, n = f"{name[:ID_MAX - len(suffix)]}{suffix}", n + 1
    used.add(candidate)
    return candidate


def _language_code(qualtrics: str) -> str:
    code = qualtrics.split("-")[0].split("_")[0].lower()
    return code if re.fullmatch(r"[a-z]{2,3}", code) else ""


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def _float(value: Any) -> float | int | None:
    try:
        number = float(str(value).strip())
    except ValueError:
        return None
    return int(number) if number.is_integer() else number


class _BlockDumper(yaml.SafeDumper):
    """Safe YAML with multi-line strings written as literal blocks, and no anchors."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BlockDumper.add_representer(str, _represent_str)
