"""Where the instruments, templates and codebooks shipped with consult live."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def shipped_dir(name: str) -> Path:
    """The shipped folder ``name`` (``questionnaires``, ``templates`` or ``codebooks``).

    A wheel carries them as ``consult/_shipped/<name>``; a source checkout (and
    an editable install) has them at the top of the repository.
    """
    for candidate in (_PACKAGE / "_shipped" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"consult's shipped folder {name!r} is missing; reinstall consult")


def shipped_questionnaires() -> dict[str, Path]:
    """Shipped instruments by name (file stem), e.g. ``{"r361": Path(...)}``."""
    folder = shipped_dir("questionnaires")
    return {p.stem: p for p in sorted(folder.glob("*.yaml"))}


def shipped_codebooks() -> dict[str, Path]:
    """Shipped theme codebooks by name (file stem), e.g. ``{"r361-roundtable": Path(...)}``."""
    folder = shipped_dir("codebooks")
    return {p.stem: p for p in sorted(folder.glob("*.yaml"))}
