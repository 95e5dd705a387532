"""Redaction of quotes before they reach any output: e-mail addresses, phone numbers, names.

Patterns, not a trained model: spaCy's small models tag e-mail addresses as
organisations and phone numbers as dates (docs/themes.md). Person names are
caught after a title ("Officer Smith", "Dr Okafor", "Mme Tremblay").
"""

from __future__ import annotations

import re

REDACTED = "[redacted]"

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Seven or more digits, possibly grouped by spaces, dots, dashes or brackets, with an optional +.
_PHONE = re.compile(r"(?<![\w])\+?\(?\d[\d\s().-]{5,}\d(?![\w])")
_TITLES = (r"Officer|Constable|Sergeant|Sgt\.?|Warden|Inspector|Chaplain|Imam|Father|"
           r"Dr\.?|Doctor|Prof\.?|Professor|Mr\.?|Mrs\.?|Ms\.?|Miss|M\.|Mme\.?|Mlle\.?|"
           r"Monsieur|Madame|Sr\.?|Sra\.?|Señor|Señora")
_NAME = r"[A-ZÀ-ÖØ-Þ][\w'’-]+"
_TITLED_NAME = re.compile(rf"\b({_TITLES})(\s+)({_NAME}(?:\s+{_NAME})?)")


def redact(text: str) -> str:
    """``text`` with e-mail addresses, phone numbers and titled names replaced by [redacted].

    The title stays ("Officer [redacted]"): it says a role, not who.
    """
    text = _EMAIL.sub(REDACTED, text)
    text = _PHONE.sub(lambda m: REDACTED if sum(c.isdigit() for c in m.group()) >= 7
                      else m.group(), text)
    return _TITLED_NAME.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
