"""Child codes to pass on, and personal links for any survey platform.

Every invitee holds a personal code; every respondent who completes gets
``[fielding] child_codes`` more to pass on, one wave deeper. A link is the
project's ``link_template`` with the code in place of ``{code}``, so the same
codes work with the web form and with any platform that reads a URL parameter.
"""

from __future__ import annotations

import csv
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TextIO

from consult.csvcells import safe_row
from consult.errors import ConsultError
from consult.sampling.codes import display, new_code
from consult.store import fielding
from consult.store.db import Store
from consult.store.fielding import Invitee

PLACEHOLDER = "{code}"
LINK_COLUMNS = ("code", "display", "link", "wave", "parent_code", "name", "email", "language")

PLATFORM_EXAMPLES = {
    "consult web form": "http://127.0.0.1:8000/r/{code}",
    "Qualtrics (embedded data 'code')": "https://example.qualtrics.com/jfe/form/SV_abc123?code={code}",
    "LimeSurvey (token)": "https://survey.example.org/index.php/123456?token={code}&lang=en",
    "REDCap (survey field 'ref')": "https://redcap.example.org/surveys/?s=ABCD1234&ref={code}",
    "ODK / KoboToolbox (field /data/code)": "https://ee.kobotoolbox.org/x/abcd?d[/data/code]={code}",
}
"""Link templates for common platforms, as documented in docs/fielding.md."""


@dataclass(frozen=True)
class PersonalLink:
    """One code with its link and, when known, its holder."""

    invitee: Invitee
    link: str

    def row(self) -> dict[str, str]:
        """The CSV row (see :data:`LINK_COLUMNS`)."""
        i = self.invitee
        return {"code": i.code, "display": display(i.code), "link": self.link,
                "wave": str(i.wave), "parent_code": i.parent_code or "", "name": i.name or "",
                "email": i.email or "", "language": i.language or ""}


def personal_link(template: str, code: str) -> str:
    """``template`` with ``code`` in place of ``{code}`` (every occurrence)."""
    check_link_template(template)
    return template.replace(PLACEHOLDER, code)


def check_link_template(template: str) -> None:
    """Raise :class:`ConsultError` unless ``template`` has a ``{code}`` placeholder."""
    if PLACEHOLDER not in template:
        raise ConsultError(
            f"link template {template!r} has no {PLACEHOLDER}; put {PLACEHOLDER} where the code "
            "goes, e.g. https://survey.example.org/s/abc?code={code} (see [fielding] "
            "link_template in consult.toml)")


def issue_child_codes(store: Store, per_respondent: int, *,
                      parent_waves: Collection[int] | None = None,
                      now: datetime | None = None) -> list[Invitee]:
    """Give every completed respondent (of ``parent_waves``) ``per_respondent`` codes.

    Idempotent: a respondent who already holds some gets only the missing ones.
    Each new code has ``parent_code`` = the respondent's code and ``wave`` = the
    respondent's wave + 1.
    """
    return fielding.issue_child_codes(store, per_respondent, new_code, now or datetime.now(UTC),
                                      parent_waves)


def personal_links(store: Store, template: str, *,
                   waves: Collection[int] | None = None) -> list[PersonalLink]:
    """Every issued code (of ``waves``) with its personal link."""
    check_link_template(template)
    return [PersonalLink(invitee, personal_link(template, invitee.code))
            for invitee in fielding.invitees(store, waves)]


def record_links_handed_out(store: Store, links: Sequence[PersonalLink], *,
                            now: datetime | None = None) -> int:
    """Record that ``links`` were handed out (written for the coordinator to pass on).

    Status counts a code as invited once it was handed out: until then a child
    code of a respondent ingested from a platform export never left the
    database. A code handed out before keeps its first moment. Returns how many
    codes were handed out for the first time.
    """
    return fielding.record_handed_out(store, [link.invitee.code for link in links],
                                      now or datetime.now(UTC))


def write_links_csv(links: Sequence[PersonalLink], stream: TextIO) -> None:
    """Write ``links`` as CSV with the columns of :data:`LINK_COLUMNS`.

    A cell a spreadsheet would run as a formula (a name starting with ``=``,
    ``+``, ``-``, ``@``, a tab or a carriage return) gets a leading apostrophe.
    """
    writer = csv.DictWriter(stream, fieldnames=LINK_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for link in links:
        writer.writerow(safe_row(link.row()))
