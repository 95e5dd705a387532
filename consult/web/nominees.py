"""Checking the thank-you page's nomination form: one message per bad field, in the form's language."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from consult.sampling.contacts import LIMITS, check_contact, has_accents_before_at
from consult.web.strings import message

NOMINEE_LIMITS = dict(LIMITS)  # fielding's own limits, so the form never accepts what it refuses

# Kept here rather than in consult.web.strings while only this check uses it;
# a language without an entry gets English, as in strings.
_EMAIL_NOT_ASCII = {
    "en": "Please write the address in plain letters, without accents before the @ "
          "(for example jurgen@example.org): addresses with accents before the @ cannot be "
          "delivered by the consultation's mailer.",
    "fr": "Veuillez écrire l’adresse en lettres simples, sans accents avant le @ "
          "(par exemple jurgen@example.org) : les adresses avec des accents avant le @ ne "
          "peuvent pas être acheminées par la messagerie de la consultation.",
}


def nominee_errors(nominee: Mapping[str, str], language: str,
                   languages: Sequence[str]) -> dict[str, str]:
    """``field → message`` for each bad field of a posted nomination (empty when it is fine).

    The contact rules are fielding's own (``check_contact``); only the words are
    the web form's, so that a French respondent reads French beside the field.
    """
    errors = {name: message("too_long", language, limit=limit)
              for name, limit in NOMINEE_LIMITS.items() if len(nominee.get(name, "")) > limit}
    if errors:
        return errors
    email = nominee.get("email", "").strip()
    _, problems = check_contact(nominee.get("name", ""), email,
                                nominee.get("organisation", ""), languages=languages)
    for name, _ in problems:
        if name == "name":
            errors[name] = message("nominee_name_missing", language)
        elif name == "email" and not email:
            errors[name] = message("nominee_email_missing", language)
        elif name == "email" and "@" in email and has_accents_before_at(email):
            errors[name] = _EMAIL_NOT_ASCII.get(language, _EMAIL_NOT_ASCII["en"])
        elif name == "email":
            errors[name] = message("nominee_email_invalid", language)
    return errors
