"""``themes.yaml``: the authors' decisions about themes, read, checked and added to.

The file holds one list, ``themes:``, of entries; each is one theme of one
free-text item with a stable ``id``. ``consult themes fit`` appends the themes
it finds that match no entry, with ``status: proposed``; authors edit entries
in place (docs/themes.md shows a worked example). consult never rewrites or
removes what is there: new proposals are added as text at the end, so the
authors' comments and layout survive.

An entry's fields (only ``id`` and ``item`` are required):

``id``
    Stable name; ``merge`` and ``split_from`` refer to it. Never rename it.
``item``
    The free-text item the theme belongs to.
``status``
    ``proposed`` (found by the machine) or ``curated`` (taken over by the
    authors). Any decision below also makes an entry curated.
``label``
    The theme's name in results and reports: rename here.
``exclude``
    ``true``: left out of results and best practices (its answers lose it).
``best_practice``
    ``true``: flagged as a best practice.
``pin``
    A quote, or part of one, to show first (it must still be among the theme's answers).
``merge``
    Ids of themes of the same item folded into this one.
``split_from``, ``seeds``, ``words``
    A new theme taking from the ``split_from`` theme its answers containing
    one of ``words``, and those nearer to the ``seeds`` texts than to that
    theme's anchors.
``anchors``
    Texts (redacted answers) defining the theme: a re-fit finds the theme
    again by the centroid of their embeddings.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from consult.errors import ConsultError, Issue, ValidationFailed

THEMES_FILE = "themes.yaml"
PROPOSED_FILE = "themes-proposed.yaml"
Status = Literal["proposed", "curated"]
FIELDS = ("id", "item", "status", "label", "exclude", "best_practice", "pin", "merge",
          "split_from", "seeds", "words", "anchors")
HEADER = """\
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
"""


@dataclass(frozen=True)
class ThemeEntry:
    """One entry of themes.yaml: a theme of one item and the authors' decisions about it."""

    id: str
    item: str
    status: Status = "proposed"
    label: str = ""
    exclude: bool = False
    best_practice: bool = False
    pin: str | None = None
    merge: tuple[str, ...] = ()
    split_from: str | None = None
    seeds: tuple[str, ...] = ()
    words: tuple[str, ...] = ()
    anchors: tuple[str, ...] = ()
    line: int | None = None
    """Where the entry starts in the file (1-based), for messages."""

    @property
    def decided(self) -> bool:
        """Whether the authors took the entry over: ``status: curated`` or any decision."""
        return (self.status == "curated" or self.exclude or self.best_practice
                or self.pin is not None or bool(self.merge) or self.split_from is not None)


@dataclass(frozen=True)
class Curation:
    """The entries of one themes.yaml (none when the file does not exist)."""

    path: Path
    entries: tuple[ThemeEntry, ...] = ()
    exists: bool = True
    appendable: bool = True
    """Whether new entries can be appended as text (``themes:`` is the last key, block style)."""

    def of_item(self, item_id: str) -> tuple[ThemeEntry, ...]:
        """The entries of ``item_id``, in file order."""
        return tuple(e for e in self.entries if e.item == item_id)

    def entry(self, entry_id: str) -> ThemeEntry:
        """The entry ``entry_id``; ``KeyError`` when there is none."""
        for entry in self.entries:
            if entry.id == entry_id:
                return entry
        raise KeyError(entry_id)

    def next_id(self, item_id: str, taken: set[str]) -> str:
        """A fresh id ``<item>.<n>`` for a new proposal, above every number used so far."""
        numbers = [int(m.group(1)) for i in {e.id for e in self.entries} | taken
                   if (m := re.fullmatch(re.escape(item_id) + r"\.(\d+)", i))]
        return f"{item_id}.{max(numbers, default=0) + 1}"


def load_curation(path: Path) -> Curation:
    """Read and check themes.yaml; a missing file is an empty curation.

    Raises
    ------
    ValidationFailed
        Listing every problem (unknown field, missing id, duplicate id, a merge
        or split that names an unknown theme or one of another item ...), each
        with its line.
    """
    import yaml

    if not path.exists():
        return Curation(path=path, exists=False)
    try:
        text = path.read_text(encoding="utf-8")
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except (OSError, UnicodeDecodeError) as exc:
        raise ConsultError(f"{path}: cannot read it ({exc})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark is not None else ""
        raise ConsultError(f"{path}{where}: not valid YAML ({getattr(exc, 'problem', exc)}); "
                           "fix it or start again from an empty `themes: []`") from None
    if data is None:
        return Curation(path=path, appendable=True)
    if not isinstance(data, dict) or not isinstance(data.get("themes", []), list | type(None)):
        raise ConsultError(f"{path}: expected a mapping with one key, `themes:`, holding a list "
                           "of themes (see docs/themes.md)")
    raw = data.get("themes") or []
    lines = _entry_lines(root)
    issues: list[Issue] = _duplicate_fields(root, str(path))
    entries = [e for number, item in enumerate(raw)
               if (e := _entry(item, number, lines, str(path), issues)) is not None]
    issues += _check(entries, str(path))
    if any(i.severity == "error" for i in issues):
        raise ValidationFailed(f"{path} has problems", issues)
    return Curation(path=path, entries=tuple(entries), appendable=_appendable(text, data))


def append_entries(curation: Curation, entries: Sequence[ThemeEntry],
                   notes: dict[str, str] | None = None) -> Path:
    """Append ``entries`` to themes.yaml as text, leaving everything already there untouched.

    ``notes`` (entry id → one line) become a comment above each new entry.
    Creates the file (with its explanatory header) when it does not exist.

    Raises
    ------
    ConsultError
        When the file cannot take new entries as text (``themes:`` is not its
        last key, or is written in flow style) or the result would not read
        back as the same entries plus the new ones.
    """
    import yaml

    path = curation.path
    text = path.read_text(encoding="utf-8") if path.exists() else HEADER + "themes: []\n"
    data = yaml.safe_load(text) or {}
    if not _appendable(text, data):
        raise ConsultError(f"{path}: cannot add the new themes as text (`themes:` must be the "
                           "last key, written as a block list)")
    before = list(data.get("themes") or [])
    text = re.sub(r"(?m)^themes:[ \t]*\[\][ \t]*(#.*)?$", "themes:", text)
    if not re.search(r"(?m)^themes:", text):
        text = text.rstrip("\n") + ("\n" if text.strip() else "") + "themes:\n"
    indent = _list_indent(text)
    blocks = [entry_text(e, indent, (notes or {}).get(e.id)) for e in entries]
    new_text = (text if text.endswith("\n") else text + "\n") + "".join(blocks)
    after = (yaml.safe_load(new_text) or {}).get("themes") or []
    if after != before + [entry_data(e) for e in entries]:
        raise ConsultError(f"{path}: adding the new themes as text would change the entries "
                           "already there; add them by hand from out/" + PROPOSED_FILE)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(new_text, encoding="utf-8")
    partial.replace(path)
    return path


def write_proposals(path: Path, entries: Sequence[ThemeEntry],
                    notes: dict[str, str] | None = None) -> Path:
    """Write ``entries`` as a stand-alone themes file (``out/themes-proposed.yaml``)."""
    text = HEADER + "# New themes of the last fit, to copy into themes.yaml.\nthemes:\n"
    text += "".join(entry_text(e, "  ", (notes or {}).get(e.id)) for e in entries)
    if not entries:
        text = text.replace("themes:\n", "themes: []\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def entry_data(entry: ThemeEntry) -> dict[str, Any]:
    """The fields of ``entry`` that differ from the defaults, as YAML would read them back."""
    data: dict[str, Any] = {"id": entry.id, "item": entry.item, "status": entry.status}
    if entry.label:
        data["label"] = entry.label
    for name in ("exclude", "best_practice"):
        if getattr(entry, name):
            data[name] = True
    if entry.pin is not None:
        data["pin"] = entry.pin
    if entry.split_from is not None:
        data["split_from"] = entry.split_from
    for name in ("merge", "seeds", "words", "anchors"):
        if getattr(entry, name):
            data[name] = list(getattr(entry, name))
    return data


def entry_text(entry: ThemeEntry, indent: str = "  ", note: str | None = None) -> str:
    """``entry`` as a YAML block list item, one field a line, strings double-quoted."""
    inner = indent + "  "
    lines = [f"{indent}# {note}"] if note else []
    first = True
    for key, value in entry_data(entry).items():
        head = f"{indent}- " if first else inner
        first = False
        if isinstance(value, list):
            lines.append(f"{head}{key}:")
            lines += [f"{inner}  - {_scalar(v, '- ')}" for v in value]
        else:
            lines.append(f"{head}{key}: {_scalar(value, 'key: ')}")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- helpers


def _scalar(value: object, context: str) -> str:
    """``value`` plain when YAML reads it back unchanged in ``context``, double-quoted otherwise."""
    import yaml

    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if "\n" not in text and text == text.strip() and text:
        try:
            back = yaml.safe_load(context + text)
        except yaml.YAMLError:
            back = None
        if back in ({"key": text}, [text]):
            return text
    # A JSON string is a valid YAML double-quoted scalar.
    return json.dumps(text, ensure_ascii=False)


def _entry(raw: object, number: int, lines: list[int], file: str,
           issues: list[Issue]) -> ThemeEntry | None:
    line = lines[number] if number < len(lines) else None
    where = f"themes[{number}]"

    def problem(message: str, hint: str = "") -> None:
        issues.append(Issue(code="themes-yaml", message=message, file=file, where=where,
                            line=line, hint=hint))

    if not isinstance(raw, dict):
        problem("each theme must be a mapping of fields (id, item, label ...)")
        return None
    for key in raw:
        if key not in FIELDS:
            close = difflib.get_close_matches(str(key), FIELDS, n=1)
            problem(f"unknown field {key!r}", f"Did you mean {close[0]!r}?" if close else
                    f"Fields: {', '.join(FIELDS)}.")
    if not raw.get("id") or not raw.get("item"):
        problem("every theme needs an id and an item")
        return None
    where = f"{where} ({raw['id']})"
    status = raw.get("status") or "proposed"
    if status not in ("proposed", "curated"):
        problem(f"status {status!r}: use proposed or curated")
    flags = {}
    for name in ("exclude", "best_practice"):
        value = raw.get(name, False)
        if not isinstance(value, bool):
            problem(f"{name}: use true or false (got {value!r})")
        flags[name] = value is True
    texts = {}
    for name in ("merge", "seeds", "words", "anchors"):
        value = raw.get(name) or []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str | int | float) for v in value):
            problem(f"{name}: expected a list of texts")
            value = []
        texts[name] = tuple(str(v) for v in value)
    pin = raw.get("pin")
    split_from = raw.get("split_from")
    return ThemeEntry(id=str(raw["id"]), item=str(raw["item"]),
                      status="curated" if status == "curated" else "proposed",
                      label=str(raw.get("label") or ""), exclude=flags["exclude"],
                      best_practice=flags["best_practice"],
                      pin=None if pin is None or str(pin).strip() == "" else str(pin),
                      merge=texts["merge"], split_from=None if split_from is None
                      else str(split_from), seeds=texts["seeds"], words=texts["words"],
                      anchors=texts["anchors"], line=line)


def _check(entries: list[ThemeEntry], file: str) -> list[Issue]:
    """Problems between entries: duplicate ids, merges and splits that cannot be done."""
    issues: list[Issue] = []
    by_id: dict[str, ThemeEntry] = {}

    def problem(entry: ThemeEntry, message: str, hint: str = "") -> None:
        issues.append(Issue(code="themes-yaml", message=message, file=file, where=entry.id,
                            line=entry.line, hint=hint))

    for entry in entries:
        if entry.id in by_id:
            problem(entry, f"id {entry.id!r} is used twice (also line {by_id[entry.id].line})",
                    "Give each theme its own id.")
        by_id.setdefault(entry.id, entry)
    absorbed: dict[str, str] = {}
    for entry in entries:
        for other in entry.merge:
            target = by_id.get(other)
            if target is None or other == entry.id:
                problem(entry, f"merge: {other!r} is not another theme of this file")
            elif target.item != entry.item:
                problem(entry, f"merge: {other!r} belongs to {target.item}, not {entry.item}",
                        "Only themes of the same item can be merged.")
            elif other in absorbed and absorbed[other] != entry.id:
                problem(entry, f"merge: {other!r} is already merged into {absorbed[other]!r}")
            else:
                absorbed[other] = entry.id
        if entry.split_from is not None:
            parent = by_id.get(entry.split_from)
            if parent is None or parent.id == entry.id:
                problem(entry, f"split_from: {entry.split_from!r} is not another theme of "
                               "this file")
            elif parent.item != entry.item:
                problem(entry, f"split_from: {entry.split_from!r} belongs to {parent.item}, "
                               f"not {entry.item}")
            elif parent.split_from is not None:
                problem(entry, f"split_from: {entry.split_from!r} is itself split from "
                               f"{parent.split_from!r}", "Split from the original theme.")
            if not entry.seeds and not entry.words:
                problem(entry, "split_from needs seeds (texts) or words saying which answers "
                               "move to this theme")
        elif entry.seeds or entry.words:
            problem(entry, "seeds and words only work with split_from")
        elif not entry.anchors:
            problem(entry, "a theme needs anchors (texts that define it) or split_from",
                    "Copy the anchors of the proposal it came from.")
    for start in absorbed:
        seen, current = {start}, start
        while current in absorbed:
            current = absorbed[current]
            if current in seen:
                problem(by_id[start], f"merge: {start!r} is part of a merge cycle")
                break
            seen.add(current)
    return issues


def _duplicate_fields(root: Any, file: str) -> list[Issue]:
    """A field written twice in one entry: YAML would silently keep the last one."""
    import yaml

    issues = []
    for number, node in enumerate(_entry_nodes(root)):
        if not isinstance(node, yaml.MappingNode):
            continue
        seen: set[str] = set()
        for key, _ in node.value:
            name = str(getattr(key, "value", ""))
            if name in seen:
                issues.append(Issue(code="themes-yaml", file=file, where=f"themes[{number}]",
                                    line=key.start_mark.line + 1,
                                    message=f"field {name!r} is written twice in one theme",
                                    hint="Keep one (edit the existing line)."))
            seen.add(name)
    return issues


def _entry_nodes(root: Any) -> list[Any]:
    """The composed YAML node of each entry of the ``themes:`` list."""
    import yaml

    if not isinstance(root, yaml.MappingNode):
        return []
    for key, value in root.value:
        if getattr(key, "value", None) == "themes" and isinstance(value, yaml.SequenceNode):
            return list(value.value)
    return []


def _entry_lines(root: Any) -> list[int]:
    """1-based line of each entry of the ``themes:`` list, from the composed YAML nodes."""
    return [node.start_mark.line + 1 for node in _entry_nodes(root)]


def _appendable(text: str, data: dict[str, Any]) -> bool:
    """``themes:`` is absent, or the last top-level key and empty or a block list."""
    if "themes" not in data:
        return True  # "themes:" is added at the end, where it is the last key
    keys = re.findall(r"(?m)^([^\s#-][^:]*):", text)
    if not keys or keys[-1] != "themes":
        return False
    after = text[list(re.finditer(r"(?m)^themes:", text))[-1].end():]
    first = after.lstrip(" \t")
    return first.startswith(("\n", "#", "[]")) or first == ""


def _list_indent(text: str) -> str:
    """The indentation of the entries already under ``themes:`` (two spaces when none)."""
    after = text[list(re.finditer(r"(?m)^themes:", text))[-1].end():]
    found = re.search(r"(?m)^([ \t]*)- ", after)
    return found.group(1) if found else "  "
