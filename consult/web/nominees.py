"""Checking the thank-you page's nomination form: one message per bad field, in the form's language."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from consult.sampling.contacts import LIMITS
from consult.web.strings import message

NOMINEE_LIMITS = dict(LIMITS)  # fielding's own limits, so the form never accepts what it refuses


def nominee_errors(nominee: Mapping[str, str], language: str,
                   languages: Sequence[str]) -> dict[str, str]:
    """``field → message`` for each bad field of a posted nomination (empty when it is fine).

    The contact rules are fielding's own (``check_contact``); only the words are
    the web form's, so that a French respondent reads French beside the field.
    """
    from consult.sampling.contacts import check_contact

    errors = {name: message("too_long", language, limit=limit)
              for name, limit in NOMINEE_LIMITS.items() if len(nominee.get(name, "")) > limit}
    if errors:
        return errors
    _, problems = check_contact(nominee.get("name", ""), nominee.get("email", ""),
                                nominee.get("organisation", ""), languages=languages)
    for name, _ in problems:
        if name == "name":
            errors[name] = message("nominee_name_missing", language)
        elif name == "email":
            empty = not nominee.get("email", "").strip()
            errors[name] = message("nominee_email_missing" if empty else "nominee_email_invalid",
                                   language)
    return errors
