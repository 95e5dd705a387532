"""The project folder (a consultation) and its validated settings.

A project is a folder with a ``consult.toml``, like a git repository: commands
find it by walking up from the current folder, or take ``--project DIR``.
"""

from __future__ import annotations

import os
import shutil
import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from consult.errors import ConsultError, ProjectNotFoundError, SettingsError
from consult.resources import shipped_questionnaires

if TYPE_CHECKING:
    from consult.questionnaire import Questionnaire

SETTINGS_FILE = "consult.toml"
DATABASE_ENV = "CONSULT_DATABASE_URL"
PROJECT_FOLDERS = ("mapping", "templates", "out", ".consult", ".consult/raw", "text")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProjectSection(_Section):
    """``[project]``: what the consultation is and what it asks."""

    title: Annotated[str, Field(min_length=1)]
    questionnaire: str = "questionnaire.yaml"
    languages: Annotated[list[str], Field(min_length=1)] = ["en"]
    report_number: str = ""
    authors: list[str] = []


class RegionsSection(_Section):
    """``[regions]``: how countries group into regions.

    ``scheme`` is ``r361`` (R-361's six regions, the default), ``un`` (UN M49
    sub-regions) or the path of a YAML file mapping ISO3 codes to regions.
    """

    scheme: str = "r361"


class DisclosureSection(_Section):
    """``[disclosure]``: small-cell protection for published tables."""

    threshold: Annotated[int, Field(ge=1, le=100)] = 5


class DatabaseSection(_Section):
    """``[database]``: where responses are stored.

    ``url`` is a SQLAlchemy URL; a relative SQLite path is relative to the
    project folder. The environment variable ``CONSULT_DATABASE_URL`` overrides
    it, so that a PostgreSQL password never has to be written in the file.
    """

    url: str = "sqlite:///consult.db"


class IngestSection(_Section):
    """``[ingest]``: which responses count.

    By default only finished responses count; ``min_progress`` (0-100) counts
    unfinished ones that got at least that far instead. Responses submitted
    outside ``fielding_start``..``fielding_end`` (ISO dates, inclusive) are
    excluded when the dates are set. ``withdrawn`` lists response ids or
    referral codes of respondents who withdrew: they are excluded.
    """

    include: Literal["finished", "progress"] = "finished"
    min_progress: Annotated[int, Field(ge=0, le=100)] = 100
    fielding_start: date | None = None
    fielding_end: date | None = None
    exclude_previews: bool = True
    exclude_duplicates: bool = True
    withdrawn: list[str] = []
    timezone: str = "UTC"
    """The IANA time zone of dates written without one (a Qualtrics export without its
    ImportId row, LimeSurvey's submitdate): e.g. ``America/Toronto``."""

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}: use an IANA name such as "
                             "'UTC', 'America/Toronto' or 'Europe/Paris'") from None
        return value


class AnalysisSection(_Section):
    """``[analysis]``: how closed answers are summarised.

    ``percent``: ``round`` (half away from zero, the default) or ``truncate``
    (as R-361 printed 37/81 as 45.6%). ``largest_remainder`` makes each
    distribution's percentages sum to exactly 100. ``groupings``: what tables
    are crossed by (``region``, ``role`` or any profile item id).
    """

    percent: Literal["round", "truncate"] = "round"
    decimals: Annotated[int, Field(ge=0, le=3)] = 1
    largest_remainder: bool = False
    groupings: list[str] = ["region", "role"]


class FieldingSection(_Section):
    """``[fielding]``: referral codes and links.

    ``child_codes``: codes each respondent gets to pass on. ``link_template``:
    the personal link, with ``{code}`` where the code goes.
    """

    child_codes: Annotated[int, Field(ge=0, le=50)] = 3
    link_template: str = "http://127.0.0.1:8000/r/{code}"


class SmtpSection(_Section):
    """``[smtp]``: where invitations and reminders are sent from.

    The password is never written here: it is read from the environment
    variable named by ``password_env``.
    """

    host: str = "localhost"
    port: Annotated[int, Field(ge=1, le=65535)] = 25
    security: Literal["none", "starttls", "ssl"] = "none"
    user: str = ""
    password_env: str = "CONSULT_SMTP_PASSWORD"
    sender: str = "consultation@example.org"


class ThemesSection(_Section):
    """``[themes]``: how ``consult themes fit`` finds themes in free-text answers.

    ``stop_words``: domain words kept out of theme keywords and labels, replacing
    consult's list (offender, inmate, prison ...; unset keeps it);
    ``extra_stop_words``: words added to whichever list is used. ``threshold``:
    the cosine distance at which discovered themes stop merging (larger: fewer,
    broader themes; ``--threshold`` overrides it). ``model``: a local
    sentence-transformers folder, relative to the project (``--model``
    overrides it; empty: the shipped all-MiniLM-L6-v2). ``codebook``: a YAML
    codebook or a shipped one's name, used when ``--codebook`` is not given.
    """

    stop_words: list[str] | None = None
    extra_stop_words: list[str] = []
    threshold: Annotated[float, Field(gt=0, lt=2)] = 0.75
    model: str = ""
    codebook: str = ""


class Settings(BaseModel):
    """Every setting in ``consult.toml``, validated."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    project: ProjectSection
    regions: RegionsSection = RegionsSection()
    disclosure: DisclosureSection = DisclosureSection()
    database: DatabaseSection = DatabaseSection()
    ingest: IngestSection = IngestSection()
    analysis: AnalysisSection = AnalysisSection()
    fielding: FieldingSection = FieldingSection()
    smtp: SmtpSection = SmtpSection()
    themes: ThemesSection = ThemesSection()


@dataclass(frozen=True)
class Project:
    """A consultation project on disk."""

    root: Path
    settings: Settings

    @property
    def questionnaire_path(self) -> Path:
        """The project's copy of the instrument."""
        return self.root / self.settings.project.questionnaire

    @property
    def out_dir(self) -> Path:
        """Where reports, figures and results.json are written."""
        return self.root / "out"

    @property
    def cache_dir(self) -> Path:
        """Caches and raw imports (``.consult/``)."""
        return self.root / ".consult"

    @property
    def database_url(self) -> str:
        """The database URL, with the environment override and paths resolved."""
        url = os.environ.get(DATABASE_ENV) or self.settings.database.url
        return resolve_sqlite_url(url, self.root)


def load_project(start: Path | None = None, explicit: Path | None = None) -> Project:
    """Find and load the project: ``explicit`` if given, else walk up from ``start``.

    Raises
    ------
    ProjectNotFoundError
        When no ``consult.toml`` is found.
    SettingsError
        When the settings are invalid.
    """
    if explicit is not None:
        root = explicit.resolve()
        if not root.exists():
            raise ProjectNotFoundError(
                f"--project {explicit}: no such folder ({root}); give the folder of an existing "
                f"project, or create one with: consult init {explicit}"
            )
        if not (root / SETTINGS_FILE).is_file():
            raise ProjectNotFoundError(
                f"{root} is not a consult project (no {SETTINGS_FILE}); "
                f"create one with: consult init {explicit}"
            )
    else:
        root = find_project_root(start or Path.cwd())
    settings = read_settings(root / SETTINGS_FILE)
    _check_regions(settings, root)
    return Project(root=root, settings=settings)


def find_project_root(start: Path) -> Path:
    """The nearest folder at or above ``start`` holding ``consult.toml``."""
    here = start.resolve()
    for folder in (here, *here.parents):
        if (folder / SETTINGS_FILE).is_file():
            return folder
    raise ProjectNotFoundError(
        f"no {SETTINGS_FILE} in {here} or any folder above it; run the command inside a "
        "project, pass --project DIR, or create one with: consult init DIR"
    )


def read_settings(path: Path) -> Settings:
    """Read and validate ``consult.toml``; errors name the key and what is allowed.

    ``[project] title`` and ``languages`` default to the questionnaire's, and
    each language must be one of the questionnaire's. When the questionnaire
    cannot be read, ``languages`` defaults to ``["en"]`` and is not checked:
    ``consult questionnaire check`` is what reports a broken questionnaire.
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}: not valid TOML: {exc}") from None
    header = _questionnaire_header(path.parent, data)
    settings = parse_settings(_with_questionnaire_defaults(data, header), str(path))
    if header is not None:
        offered = header[1]
        missing = [lang for lang in settings.project.languages if lang not in offered]
        if missing:
            raise SettingsError(
                f"{path}: [project] languages: {', '.join(map(repr, missing))} "
                f"{'is not a language' if len(missing) == 1 else 'are not languages'} of "
                f"{settings.project.questionnaire}, which is written in {', '.join(offered)}; "
                "write languages = [" + ", ".join(_toml_str(lang) for lang in offered) + "] "
                "or a part of it")
    return settings


def parse_settings(data: dict[str, Any], source: str = SETTINGS_FILE) -> Settings:
    """Validate settings given as a dict (as read from TOML)."""
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        messages = [_setting_message(err) for err in exc.errors()]
        raise SettingsError(f"{source}: " + "; ".join(messages)) from None


def init_project(
    folder: Path,
    questionnaire: str = "r361",
    title: str | None = None,
    languages: list[str] | None = None,
) -> Project:
    """Create a project in ``folder`` (which must not hold one already).

    ``questionnaire`` is the name of a shipped instrument (``r361``) or the path
    of a YAML file; it is checked, then copied into the project. The database
    is created with the current schema.
    """
    from consult.questionnaire import load_questionnaire
    from consult.store import open_store

    folder = folder.resolve()
    if (folder / SETTINGS_FILE).exists():
        raise ConsultError(f"{folder} already holds a consult project ({SETTINGS_FILE} exists)")
    if folder.exists() and not folder.is_dir():
        raise ConsultError(f"{folder} exists and is not a folder")
    source = _questionnaire_source(questionnaire)
    instrument = load_questionnaire(source)
    chosen_languages = languages or list(instrument.languages)
    missing = [lang for lang in chosen_languages if lang not in instrument.languages]
    if missing:
        raise SettingsError(
            f"--language {', '.join(missing)}: the questionnaire {source.name} is written in "
            f"{', '.join(instrument.languages)} only"
        )
    settings = Settings(
        project=ProjectSection(
            title=title or instrument.text(instrument.title),
            languages=chosen_languages,
        ),
        analysis=AnalysisSection(groupings=supported_groupings(instrument)),
    )
    folder.mkdir(parents=True, exist_ok=True)
    for name in PROJECT_FOLDERS:
        (folder / name).mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, folder / settings.project.questionnaire)
    (folder / "themes.yaml").write_text(THEMES_STUB, encoding="utf-8")
    (folder / ".gitignore").write_text(GITIGNORE, encoding="utf-8")
    (folder / SETTINGS_FILE).write_text(render_settings(settings), encoding="utf-8")
    project = Project(root=folder, settings=settings)
    open_store(project.database_url).close()
    return project


def supported_groupings(questionnaire: Questionnaire) -> list[str]:
    """The groupings ``init`` writes: ``region`` and ``role``, each only if the questionnaire has it.

    ``region`` needs a country item (regions come from countries); ``role`` a
    single-choice profile item ``role``. A questionnaire with neither gets an
    empty list: tables overall only.
    """
    from consult.questionnaire import ItemType

    kinds = {item.id: item.type for item in questionnaire.profile}
    found = []
    if ItemType.COUNTRY in kinds.values():
        found.append("region")
    if kinds.get("role") is ItemType.SINGLE_CHOICE:
        found.append("role")
    return found


def render_settings(settings: Settings) -> str:
    """The text of a fresh ``consult.toml``, with a comment on every setting."""
    p = settings.project
    return SETTINGS_TEMPLATE.format(
        title=_toml_str(p.title),
        questionnaire=_toml_str(p.questionnaire),
        languages=", ".join(_toml_str(lang) for lang in p.languages),
        scheme=_toml_str(settings.regions.scheme),
        threshold=settings.disclosure.threshold,
        url=_toml_str(settings.database.url),
        groupings=", ".join(_toml_str(name) for name in settings.analysis.groupings),
    )


def resolve_sqlite_url(url: str, root: Path) -> str:
    """Make a relative ``sqlite:///file.db`` URL absolute against ``root``."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith("sqlite:////"):
        rest = url[len(prefix):]
        if rest and rest != ":memory:":
            return prefix + str((root / rest).resolve())
    return url


# --------------------------------------------------------------------------- helpers


def _check_regions(settings: Settings, root: Path) -> None:
    """An unusable ``[regions] scheme`` stops every command, not only the next ingest."""
    from consult.regions import check_scheme

    try:
        check_scheme(settings.regions.scheme, root)
    except SettingsError as exc:
        raise SettingsError(f"{root / SETTINGS_FILE}: {exc}") from None


def _questionnaire_header(root: Path,
                          data: dict[str, Any]) -> tuple[dict[str, str], list[str]] | None:
    """The title (by language) and languages of the project's questionnaire, or ``None``.

    Only these two keys are read, without checking the rest of the file, so
    that a settings check stays cheap and a broken questionnaire does not stop
    the commands that diagnose it.
    """
    import yaml

    project = data.get("project")
    name = project.get("questionnaire", "questionnaire.yaml") if isinstance(project, dict) else None
    if not isinstance(name, str):
        return None
    try:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        found = yaml.load((root / name).read_text(encoding="utf-8"), Loader=loader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    if not isinstance(found, dict):
        return None
    title, languages = found.get("title"), found.get("languages")
    if (not isinstance(languages, list) or not languages
            or not all(isinstance(lang, str) for lang in languages)):
        return None
    if isinstance(title, str):
        title = {languages[0]: title}
    titles = {str(k): str(v) for k, v in title.items() if v} if isinstance(title, dict) else {}
    return titles, languages


def _with_questionnaire_defaults(data: dict[str, Any],
                                 header: tuple[dict[str, str], list[str]] | None
                                 ) -> dict[str, Any]:
    """``data`` with ``[project] title`` and ``languages`` taken from the questionnaire if unset."""
    project = data.get("project")
    if header is None or not isinstance(project, dict):
        return data
    titles, languages = header
    filled = dict(project)
    filled.setdefault("languages", list(languages))
    chosen = filled["languages"] if isinstance(filled["languages"], list) else []
    if "title" not in filled and titles:
        wanted = [*(lang for lang in chosen if isinstance(lang, str)), *languages]
        filled["title"] = next((titles[lang] for lang in wanted if titles.get(lang)),
                               next(iter(titles.values())))
    return {**data, "project": filled}


def _questionnaire_source(name_or_path: str) -> Path:
    shipped = shipped_questionnaires()
    if name_or_path in shipped:
        return shipped[name_or_path]
    path = Path(name_or_path)
    if path.is_file():
        return path
    names = ", ".join(sorted(shipped)) or "none"
    raise ConsultError(
        f"--questionnaire {name_or_path!r}: no such file and no shipped questionnaire of that "
        f"name (shipped: {names})"
    )


def _setting_message(err: Any) -> str:
    key = ".".join(str(p) for p in err["loc"])
    section, _, name = key.partition(".")
    where = f"[{section}] {name}" if name else key
    kind = err["type"]
    if kind == "extra_forbidden":
        return f"unknown setting {where}"
    if kind == "missing":
        return f"missing setting {where}"
    return f"{where}: {err['msg']} (got {err.get('input')!r})"


def _toml_str(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


THEMES_STUB = """\
# Curated themes: the authors' decisions about the themes `consult themes fit` finds.
# Each fit appends the themes it finds that match no entry here, with status: proposed.
# Edit entries in place; consult never rewrites or removes them (docs/themes.md).
#   id             stable name: keep it (merge and split_from refer to it)
#   item           the free-text question the theme belongs to
#   status         proposed (found by the machine) or curated (yours)
#   label          the theme's name in results and reports: rename it here
#   exclude        true: leave the theme out of results and best practices
#   best_practice  true: flag it as a best practice
#   pin            a quote, or part of one, to show first
#   merge          [ids]: fold these themes of the same item into this one
#   split_from     id: a new theme taking answers from that theme: those containing
#   words          one of these words, or nearer to
#   seeds          these texts than to that theme's anchors
#   anchors        answers (redacted) that define the theme: a re-fit finds it by them
themes: []
"""

GITIGNORE = """\
# Local state of a consult project: never publish respondents' data.
consult.db
consult.db-*
.consult/
out/
"""

SETTINGS_TEMPLATE = """\
# consult project settings. Every key is documented in docs/settings.md.

# What the consultation is and what it asks.
[project]
title = {title}
questionnaire = {questionnaire}   # the instrument, checked with: consult questionnaire check
languages = [{languages}]             # languages of the report and the web form
report_number = ""                   # e.g. "R-361"
authors = []                         # e.g. ["Axford, M.", "Stys, Y."]

# How countries group into regions: "r361" (R-361's regions), "un" (UN
# sub-regions) or the path of a YAML file mapping ISO3 codes to regions.
[regions]
scheme = {scheme}

# Small-cell protection: counts below this are never published.
[disclosure]
threshold = {threshold}

# Where responses are stored. A relative SQLite path is relative to this folder.
# For PostgreSQL, set CONSULT_DATABASE_URL in the environment instead of
# writing a password here, e.g. postgresql+psycopg://user:pw@host/dbname
[database]
url = {url}

# Which responses count. include = "finished" (default) or "progress" with
# min_progress; fielding dates (YYYY-MM-DD) exclude responses outside them.
[ingest]
include = "finished"
min_progress = 100
# fielding_start = 2014-09-01
# fielding_end = 2014-11-30
# timezone = "America/Toronto"   # zone of dates written without one (default UTC)

# How closed answers are summarised: percent = "round" or "truncate";
# groupings = what tables are crossed by: "region" (needs a country item), or the
# id of a single-choice profile item such as "role"; [] for overall tables only.
[analysis]
percent = "round"
decimals = 1
largest_remainder = false
groupings = [{groupings}]

# Referral codes: how many each respondent passes on, and the personal link.
[fielding]
child_codes = 3
link_template = "http://127.0.0.1:8000/r/{{code}}"

# Where invitations are sent from. The password comes from the environment
# variable named by password_env, never from this file.
[smtp]
host = "localhost"
port = 25
security = "none"
user = ""
password_env = "CONSULT_SMTP_PASSWORD"
sender = "consultation@example.org"

# Themes of free-text answers (docs/themes.md). threshold: larger gives fewer,
# broader themes. Domain words never make keywords: stop_words replaces
# consult's list (offender, inmate, prison ...), extra_stop_words adds to it.
[themes]
threshold = 0.75
extra_stop_words = []
# stop_words = ["offender", "offenders", "inmate", "inmates"]
# model = "models/paraphrase-multilingual-MiniLM-L12-v2"   # a local sentence-transformers folder
# codebook = "r361-roundtable"                             # or codebooks/mine.yaml
"""
