"""Free-text answers made ready for themes: non-answers set aside, languages identified.

Whole answers are the units by default: splitting into sentences did not raise
agreement with human coders on the benchmarks (docs/themes.md), and multi-label
assignment already gives an answer several themes.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

UNKNOWN_LANGUAGE = "unknown"
# Answers shorter than this many words get no language: lingua guesses too often on them.
MIN_WORDS_FOR_LANGUAGE = 3

# Compared after lower-casing, stripping accents, punctuation and spaces at both ends.
NON_ANSWERS = frozenset({
    "", "-", "--", "---", ".", "..", "...", "?", "x", "na", "n/a", "n.a", "n.a.", "nil", "none",
    "no", "nothing", "nothing to add", "no comment", "no comments", "not applicable",
    "don't know", "dont know", "do not know", "unsure", "not sure", "idk", "see above",
    "as above", "see previous answer", "same as above", "no experience with this",
    "none at this time", "nothing at this time", "no answer",
    "rien", "rien a ajouter", "aucun", "aucune", "aucun commentaire", "s.o", "s.o.", "so",
    "sans objet", "je ne sais pas", "idem", "voir la reponse precedente", "ne sait pas",
    "pas d'experience dans ce domaine", "nsp",
    "no se", "sin comentarios", "nada", "nada que anadir", "no aplica", "ninguno", "ninguna",
})


@dataclass(frozen=True)
class Answer:
    """One free-text answer of one respondent to one item."""

    respondent_id: int
    item_id: str
    text: str


@dataclass(frozen=True)
class Prepared:
    """What :func:`prepare` kept and what it set aside."""

    units: tuple[Answer, ...]
    languages: tuple[str, ...] = ()
    non_answers: int = 0
    non_answer_texts: Counter[str] = field(default_factory=Counter)

    def language_counts(self) -> dict[str, int]:
        """Units by detected language, largest first."""
        counts = Counter(self.languages)
        return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def is_non_answer(text: str) -> bool:
    """Whether ``text`` says nothing: blank, "N/A", "no comment", "rien", "S.O.", "-" ..."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    plain = re.sub(r"\s+", " ", plain.lower()).strip()
    plain = plain.replace("\u2019", "'")
    if plain in NON_ANSWERS:
        return True
    return plain.strip(" .!,;:-_*/()[]") in NON_ANSWERS


def prepare(answers: Sequence[Answer], languages: Sequence[str] = ("en",), *,
            detect: bool = True) -> Prepared:
    """Set non-answers aside and identify each kept answer's language.

    ``languages`` are the consultation's (ISO 639-1); Spanish is always added,
    as respondents write in it even when the form is not offered in it.
    """
    kept = [a for a in answers if not is_non_answer(a.text)]
    skipped = Counter(a.text.strip() for a in answers if is_non_answer(a.text))
    found = (detect_languages([a.text for a in kept], languages) if detect
             else (UNKNOWN_LANGUAGE,) * len(kept))
    return Prepared(units=tuple(kept), languages=tuple(found),
                    non_answers=sum(skipped.values()), non_answer_texts=skipped)


def detect_languages(texts: Sequence[str], languages: Sequence[str] = ("en",)) -> tuple[str, ...]:
    """ISO 639-1 code of each text among ``languages`` (+ es), or ``unknown``.

    Texts under :data:`MIN_WORDS_FOR_LANGUAGE` words, and texts lingua cannot
    place, are ``unknown``.
    """
    if not texts:
        return ()
    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

    wanted = []
    for code in dict.fromkeys([*languages, "es"]):
        try:
            wanted.append(Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())))
        except AttributeError:
            continue  # a language lingua does not know is simply never detected
    if len(wanted) < 2:
        wanted.append(Language.ENGLISH if Language.ENGLISH not in wanted else Language.FRENCH)
    detector = LanguageDetectorBuilder.from_languages(*wanted).build()
    found = []
    for text in texts:
        if len(text.split()) < MIN_WORDS_FOR_LANGUAGE:
            found.append(UNKNOWN_LANGUAGE)
            continue
        language = detector.detect_language_of(text)
        found.append(language.iso_code_639_1.name.lower() if language else UNKNOWN_LANGUAGE)
    return tuple(found)


def split_sentences(text: str) -> list[str]:
    """Sentences or list lines of ``text`` (optional units; off by default)."""
    parts = re.split(r"(?<=[.!?;])\s+|\n+\s*(?:[-*\u2022]\s*)?", text.strip())
    return [p.strip(" -*\u2022") for p in parts if p and p.strip(" -*\u2022")]
