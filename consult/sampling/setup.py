"""What fielding needs to know about the project, gathered once."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from consult.project import Project


@dataclass(frozen=True)
class FieldingSetup:
    """The settings fielding uses, taken from ``consult.toml``.

    ``templates_dir`` is the project's own ``templates/`` folder, searched
    before the shipped templates (``None``: shipped templates only).
    """

    title: str
    languages: tuple[str, ...] = ("en",)
    child_codes: int = 3
    link_template: str = "http://127.0.0.1:8000/r/{code}"
    sender: str = "consultation@example.org"
    templates_dir: Path | None = None

    @property
    def default_language(self) -> str:
        """The language of contacts who have none: the project's first."""
        return self.languages[0]


def fielding_setup(project: Project) -> FieldingSetup:
    """The fielding settings of ``project``."""
    settings = project.settings
    return FieldingSetup(
        title=settings.project.title,
        languages=tuple(settings.project.languages),
        child_codes=settings.fielding.child_codes,
        link_template=settings.fielding.link_template,
        sender=settings.smtp.sender,
        templates_dir=project.root / "templates",
    )
