"""One ingest, start to finish: detect, read, map, convert, exclude, check, store.

Everything is decided before anything is written; the store then takes the
whole file in one transaction, so an ingest either lands completely or not at
all.
"""

from __future__ import annotations

import csv
import hashlib
import io
import shutil
from collections import Counter
from collections.abc import Callable, Generator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import NamedTuple

from consult.errors import ConsultError, IngestFileError, Issue
from consult.ingest.convert import (
    FINGERPRINT_PREFIX,
    Converted,
    RowConverter,
    legacy_fingerprint,
)
from consult.ingest.mapping import Mapping, draft_mapping, load_mapping, save_mapping
from consult.ingest.mapping_fit import check_columns, check_same_survey, unread_questions
from consult.ingest.parallel import Forked, InProcess, can_fork
from consult.ingest.sources import READERS, SourceReader, reader
from consult.ingest.sources.text import sniff_delimiter
from consult.project import Project
from consult.questionnaire import Questionnaire, load_questionnaire
from consult.store.bulk import collector_paused
from consult.store.responses import (
    AnswerRecord,
    PreparedResponses,
    normal_code,
    prepare_responses,
)

Progress = Callable[[int, int], None]


@dataclass
class IngestResult:
    """What an ingest did; ``status`` is ``ingested``, ``already``, ``review`` or ``failed``."""

    file: Path
    status: str
    format: str = ""
    ingest_id: int | None = None
    rows_read: int = 0
    included: int = 0
    excluded: Counter[str] = field(default_factory=Counter)
    unchanged: int = 0
    replaced: int = 0
    mapping_path: Path | None = None
    mapping: Mapping | None = None
    drafted: bool = False
    issues: list[Issue] = field(default_factory=list)

    @property
    def errors(self) -> list[Issue]:
        """Issues that stop the ingest."""
        return [i for i in self.issues if i.severity == "error"]


def ingest_file(project: Project, path: Path, *, format: str | None = None,
                mapping_name: str | None = None, accept_mapping: bool = False,
                replace_changed: bool = False, progress: Progress | None = None,
                before_commit: Callable[[], None] | None = None) -> IngestResult:
    """Ingest ``path`` into the project's store; see docs/ingest.md.

    Nothing is written unless the whole file passes: on any error the store
    is exactly as before.
    """
    from consult.store import open_store
    from consult.store.responses import find_ingest

    path = path.resolve()
    if not path.is_file():
        raise IngestFileError(f"{path}: no such file")
    sha256 = _sha256(path)
    questionnaire = load_questionnaire(project.questionnaire_path)
    with open_store(project.database_url) as store:
        earlier = find_ingest(store, sha256)
    if earlier is not None and not replace_changed:
        return IngestResult(file=path, status="already", ingest_id=earlier)

    with collector_paused():
        return _ingest(project, path, sha256, questionnaire, format, mapping_name, accept_mapping,
                       replace_changed, progress, before_commit)


def _ingest(project: Project, path: Path, sha256: str, questionnaire: Questionnaire,
            format: str | None, mapping_name: str | None, accept_mapping: bool,
            replace_changed: bool, progress: Progress | None,
            before_commit: Callable[[], None] | None) -> IngestResult:
    from consult.store import open_store

    source_reader = reader(format) if format else detect_format(path)
    table = source_reader.read(path)
    if not table.rows:
        raise IngestFileError(f"{path}: the file has a header but no responses")
    result = IngestResult(file=path, status="review", format=table.format,
                          rows_read=len(table.rows))

    mapping_file = project.root / "mapping" / f"{mapping_name or table.format}.yaml"
    result.mapping_path = mapping_file
    if mapping_file.is_file():
        mapping = load_mapping(mapping_file, questionnaire)
        check_same_survey(mapping, table, mapping_file, questionnaire)
        check_columns(mapping, table, mapping_file)
        result.mapping = mapping
        if not mapping.reviewed and (mapping.uncertain or mapping.unmatched):
            return result  # a draft still waiting for review
    else:
        mapping = draft_mapping(table, questionnaire)
        _check_same_survey(mapping, questionnaire, path)
        mapping.reviewed = accept_mapping and not (mapping.uncertain or mapping.unmatched)
        save_mapping(mapping, mapping_file, path)
        result.mapping, result.drafted = mapping, True
        if not mapping.reviewed:
            return result
    not_read = unread_questions(mapping, table, mapping_file)

    from zoneinfo import ZoneInfo

    total, source_format = len(table.rows), table.format
    raw = _raw_copy(project, path, sha256)

    with open_store(project.database_url) as store:
        from consult.store.responses import (
            IngestRecord,
            codes_in_use,
            ingest_transaction,
            stored_codes,
            stored_fingerprints,
        )

        conversion = _Conversion(
            RowConverter(table, mapping, questionnaire, project.settings.regions.scheme,
                         source=source_format, root=project.root,
                         zone=ZoneInfo(project.settings.ingest.timezone)),
            _Exclusions(project, path.name), stored_fingerprints(store, source_format),
            stored_codes(store), codes_in_use(store), replace_changed, path.name)
        record = IngestRecord(
            source_format=source_format, file_name=path.name, sha256=sha256,
            rows_read=total, mapping=str(mapping_file.relative_to(project.root)),
            raw_path=str(raw.relative_to(project.root)))
        # The file goes through in parts: while the store writes one part (in
        # a second thread), the next is converted and checked; a large file is
        # converted in a forked process (consult.ingest.parallel), forked here,
        # before the writing thread starts. The parts are written as long as no
        # error has been found; one transaction holds them all, and it commits
        # only if the whole file passed.
        producer: InProcess[_Part, _Tally] | Forked[_Part, _Tally] = (
            Forked(conversion.parts, name="consult-ingest") if _in_second_process(total)
            else InProcess(conversion.parts))
        # Only the conversion needs the table now. Forked, this process frees
        # its copy here, while the child converts the first part, rather than
        # at the end of the ingest.
        del table, conversion
        try:
            with ingest_transaction(store, record, before_commit=before_commit) as writer:
                for part in producer:
                    if part.responses is not None:
                        writer.write_prepared(part.responses, replace=part.replace)
                    if progress is not None:
                        progress(part.stop, total)
                tally = producer.result
                result.included, result.excluded = tally.included, tally.excluded
                result.unchanged, result.replaced = tally.unchanged, tally.replaced
                result.issues = [*not_read, *tally.issues]
                if result.errors:
                    writer.abandon()
                else:
                    _keep_raw(path, raw)
        finally:
            producer.close()
    if result.errors:
        result.status = "failed"
        return result
    result.ingest_id = writer.ingest_id
    result.status = "ingested"
    return result


class _Part(NamedTuple):
    """One part of the file, converted and laid out for the store."""

    stop: int
    """Rows of the file done so far."""
    responses: PreparedResponses | None
    """``None`` once an error has been found: nothing more is written."""
    replace: list[str]


@dataclass
class _Tally:
    """What the conversion found, once every part is done."""

    included: int = 0
    excluded: Counter[str] = field(default_factory=Counter)
    unchanged: int = 0
    replaced: int = 0
    issues: list[Issue] = field(default_factory=list)


@dataclass
class _Conversion:
    """The file's rows, part by part: converted, excluded, checked against the store."""

    converter: RowConverter
    exclusions: _Exclusions
    stored: dict[str, str | None]
    known_codes: set[str]
    used_codes: dict[str, list[tuple[str, str]]]
    """Referral codes of included responses already stored: their source and response id."""
    replace_changed: bool
    file: str

    def parts(self) -> Generator[_Part, None, _Tally]:
        """Every part in order, then (as the generator's value) the tally with all issues.

        Runs here or in a forked process: it reads the table and writes nothing.
        """
        converter, tally = self.converter, _Tally()
        changed: list[Issue] = []
        included: list[Converted] = []
        total = len(converter.table.rows)
        for start in range(0, total, _ROWS_PER_PART):
            stop = min(total, start + _ROWS_PER_PART)
            rows = self.exclusions.apply(converter.convert_rows(start, stop))
            rows, to_replace = _against_store(rows, self.stored, self.replace_changed, changed,
                                              self.file, tally)
            kept = [r for r in rows if r.record.included]
            included += kept
            tally.included += len(kept)
            tally.excluded.update(reason for r in rows for reason, _ in r.record.exclusions)
            if _has_error(converter.issues) or _has_error(changed):
                yield _Part(stop, None, [])
            else:
                yield _Part(stop, prepare_responses([r.record for r in rows]), to_replace)
        referrals: list[Issue] = []
        _check_referrals(included, self.known_codes, referrals, self.file, self.used_codes)
        tally.issues = [*converter.issues, *self.exclusions.issues, *changed, *referrals]
        return tally


def _in_second_process(rows: int) -> bool:
    """Whether to convert in a forked process: a large file, where fork is safe."""
    return rows >= _FORK_FROM_ROWS and can_fork()


# A forked process costs some tens of milliseconds and (as its pages are
# touched) memory up to the table's size again; it pays from some thousands of
# rows. Tests set this to 0 to take the forked path on small files.
_FORK_FROM_ROWS = 20_000


# Rows converted and handed to the store at a time: large enough that the
# per-part work (each item's distinct cells) is small beside the rows', small
# enough that the store starts early and the last part is written quickly.
# On 100,000 rows, 5,000 took 14.2 s, 10,000 14.9 s and 2,500 14.6 s.
_ROWS_PER_PART = 5_000


def detect_format(path: Path) -> SourceReader:
    """The reader surest that ``path`` is its platform's export."""
    head = _head(path)
    ranked = sorted(((reader(name).sniff(path, head), name) for name in READERS), reverse=True)
    best, name = ranked[0]
    if best < 0.5:
        raise IngestFileError(
            f"{path}: cannot tell which survey platform exported this file; pass --format "
            f"({', '.join(READERS)})"
        )
    return reader(name)


# --------------------------------------------------------------------------- helpers


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _head(path: Path, rows: int = 6) -> list[list[str]]:
    if path.suffix.lower() in {".xlsx", ".xlsm", ".jsonl", ".ndjson", ".json"}:
        return []
    raw = path.open("rb").read(1 << 16)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        text = raw[: exc.start].decode("utf-8-sig", errors="ignore")
    try:
        return list(csv.reader(io.StringIO(text), delimiter=sniff_delimiter(text)))[:rows]
    except csv.Error:
        return []


def _check_same_survey(mapping: Mapping, questionnaire: Questionnaire, path: Path) -> None:
    matched = [q for q in mapping.questions.values() if q.item is not None]
    if mapping.questions and len(matched) < max(1, 0.3 * len(mapping.questions)):
        raise ConsultError(
            f"{path}: only {len(matched)} of {len(mapping.questions)} questions match the "
            f"questionnaire {questionnaire.id} {questionnaire.version}; this looks like an export "
            "of another survey. Check the file, or write mapping by hand (docs/mapping.md)"
        )


class _Exclusions:
    """Exclusion reasons of each row, given the rows before it (so, part by part)."""

    def __init__(self, project: Project, file: str) -> None:
        self.rules = project.settings.ingest
        self.withdrawn_codes = {code for code in map(normal_code, self.rules.withdrawn) if code}
        self.file = file
        self.issues: list[Issue] = []
        self.seen_ids: dict[str, int] = {}
        self.seen_answers: dict[tuple[str, tuple[AnswerRecord, ...]], int] = {}

    def apply(self, rows: list[Converted]) -> list[Converted]:
        """``rows`` with their exclusions set; a repeated response id is reported and dropped."""
        rules, seen_ids, seen_answers = self.rules, self.seen_ids, self.seen_answers
        kept: list[Converted] = []
        for row in rows:
            record = row.record
            reasons: list[tuple[str, str]] = []
            if record.source_id in seen_ids:
                self.issues.append(Issue(
                    "duplicate-id", f"response id {record.source_id} repeats row "
                    f"{seen_ids[record.source_id]}; the repeat is not stored",
                    file=self.file, row=row.row, severity="warning"))
                continue
            seen_ids[record.source_id] = row.row
            if rules.exclude_previews and row.status in ("preview", "test", "spam"):
                reasons.append(("spam" if row.status == "spam" else "preview",
                                f"status {row.status}"))
            if rules.include == "finished" and not record.finished:
                reasons.append(("incomplete", "not finished"))
            elif rules.include == "progress" and (record.progress or 0) < rules.min_progress:
                reasons.append(("incomplete",
                                f"progress {record.progress} < {rules.min_progress}"))
            when = record.submitted_at
            if when is not None and (
                (rules.fielding_start and when.date() < rules.fielding_start)
                or (rules.fielding_end and when.date() > rules.fielding_end)
            ):
                reasons.append(("outside_fielding", f"submitted {when.date().isoformat()}"))
            if (record.source_id in rules.withdrawn
                    or (record.referral_code or "") in self.withdrawn_codes):
                reasons.append(("withdrawn", "listed in [ingest] withdrawn"))
            if rules.exclude_duplicates and not reasons and record.referral_code:
                key = (record.referral_code, record.answers)  # answers come sorted
                if key in seen_answers:
                    reasons.append(("duplicate",
                                    f"same code and answers as row {seen_answers[key]}"))
                else:
                    seen_answers[key] = row.row
            kept.append(row if not reasons else replace(
                row, record=replace(record, exclusions=tuple(reasons))))
        return kept


def _has_error(issues: list[Issue]) -> bool:
    return any(issue.severity == "error" for issue in issues)


def _against_store(rows: list[Converted], stored: dict[str, str | None], replace_changed: bool,
                   issues: list[Issue], file: str,
                   tally: _Tally) -> tuple[list[Converted], list[str]]:
    keep: list[Converted] = []
    to_replace: list[str] = []
    for row in rows:
        record = row.record
        if record.source_id not in stored:
            keep.append(row)
        elif _same(stored[record.source_id], row):
            tally.unchanged += 1
        elif replace_changed:
            to_replace.append(record.source_id)
            tally.replaced += 1
            keep.append(row)
        else:
            issues.append(Issue(
                "changed", f"response {record.source_id} is already stored with different "
                "answers", file=file, row=row.row,
                hint="Run again with --replace to take this file's version."))
    return keep, to_replace


def _same(stored: str | None, row: Converted) -> bool:
    """Whether a stored fingerprint is the row's, in the scheme it was stored in."""
    if stored is None or stored.startswith(FINGERPRINT_PREFIX):
        return stored == row.record.fingerprint
    return stored == legacy_fingerprint(row.said, row.record.answers)


def _check_referrals(included: list[Converted], known_codes: set[str], issues: list[Issue],
                     file: str, used: dict[str, list[tuple[str, str]]]) -> None:
    """Referral problems among the ``included`` rows, and against the codes ``used`` by
    included responses already stored."""
    by_code: dict[str, int] = {}
    for row in included:
        code = row.record.referral_code
        if not code:
            continue
        itself = (row.record.source, row.record.source_id)
        holder = next((h for h in used.get(code, ()) if h != itself), None)
        if holder is not None:
            issues.append(Issue(
                "code-reused", f"referral code {code} is already held by a stored response "
                f"({holder[0]} {holder[1]}); both count", file=file, row=row.row,
                severity="warning", hint="If they are the same person, list one response id "
                "in [ingest] withdrawn."))
        if code in by_code:
            issues.append(Issue("code-reused", f"referral code {code} was also used in row "
                                f"{by_code[code]}", file=file, row=row.row, severity="warning",
                                hint="Both responses are kept; exclude one with [ingest] withdrawn "
                                "if it is a duplicate."))
        else:
            by_code[code] = row.row
    parent = {r.record.referral_code: r.record.referred_by for r in included
              if r.record.referral_code}
    for row in included:
        ref = row.record.referred_by
        if ref and ref not in by_code and ref not in known_codes:
            issues.append(Issue("unknown-referrer", f"referrer code {ref} belongs to no "
                                "respondent and was never issued", file=file, row=row.row,
                                severity="warning",
                                hint="Kept and flagged as a chain with an unknown referrer."))
        seen = {row.record.referral_code}
        current = ref
        while current and current in parent:
            if current in seen:
                issues.append(Issue("referral-cycle", f"referral codes form a cycle through "
                                    f"{current}", file=file, row=row.row, severity="warning"))
                break
            seen.add(current)
            current = parent[current]


def _raw_copy(project: Project, path: Path, sha256: str) -> Path:
    """Where the raw file is kept once ingested."""
    return project.cache_dir / "raw" / f"{sha256[:16]}-{path.name}"


def _keep_raw(path: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        shutil.copyfile(path, target)
