"""Free-text answers made ready for themes: non-answers set aside, languages identified,
answers cut into units, units turned into lemmas for keywords.

Units are sentences (spaCy's rule-based sentencizer, plus list lines and
semicolons), so that an answer naming several practices yields several units;
themes are assigned per unit and rolled up per answer (docs/themes.md, "How
themes are found"). Lemmas come from spaCy's lookup lemmatizer
(``spacy-lookups-data``: en, fr, es, nl, de); nothing is downloaded.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Any

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
    """Sentences or list lines of ``text`` by punctuation alone (see :func:`split_units`)."""
    parts = re.split(r"(?<=[.!?;])\s+|\n+\s*(?:[-*\u2022]\s*)?", text.strip())
    return [p.strip(" -*\u2022") for p in parts if p and p.strip(" -*\u2022")]


# Where content_lemmas left words out (and where one unit ends and the next begins):
# no bigram spans it.
GAP = "|"
# A sentence may end inside the piece: punctuation, a space, then more text.
_MAYBE_SENTENCES = re.compile(r"[.!?\u2026]['\")\]]*\s+\S")
_WORD = re.compile(r"[^\W\d_]+")
# Languages whose lookup lemmas ship in spacy-lookups-data.
LEMMA_LANGUAGES = frozenset({"en", "fr", "es", "nl", "de"})


def split_units(texts: Sequence[str], languages: Sequence[str] | None = None) -> list[list[str]]:
    """The units of each text: its sentences, list lines and semicolon-separated clauses.

    List lines and ``;`` cut first, then spaCy's sentencizer (its tokenizer
    keeps "e.g." and "Dr." whole, which a bare regular expression does not).
    A piece without a content word ("Yes.", "1)", "Thanks!") joins a
    neighbour. A text always has at least one unit.
    """
    languages = languages or ["en"] * len(texts)
    found: dict[tuple[str, str], list[str]] = {}
    wanted = list(dict.fromkeys(zip(texts, (_spacy_language(x) for x in languages), strict=True)))
    for language in dict.fromkeys(lang for _, lang in wanted):
        mine = [text for text, lang in wanted if lang == language]
        pieces = [[p for p in (q.strip(" -*\u2022\t") for q in re.split(r"\n+|;\s+", t.strip())) if p]
                  for t in mine]
        # Only pieces where a sentence could end before their last word go through spaCy.
        longer = list(dict.fromkeys(p for ps in pieces for p in ps if _MAYBE_SENTENCES.search(p)))
        sentences = {p: [s.text.strip() for s in doc.sents] for p, doc in
                     zip(longer, _pipeline(language).pipe(longer, batch_size=512), strict=True)}
        stops = _stop_words(language)
        for text, parts in zip(mine, pieces, strict=True):
            cut = [s for p in parts for s in sentences.get(p, [p])]
            found[(text, language)] = _join_empty(cut, stops) or [text.strip() or text]
    return [found[(t, _spacy_language(x))] for t, x in zip(texts, languages, strict=True)]


def content_lemmas(texts: Sequence[str], languages: Sequence[str] | None = None,
                   stop_words: Sequence[str] = (), *, gaps: bool = False) -> list[str]:
    """Each text as its lower-case lemmas, stop words and non-words left out, space-separated.

    Stop words are spaCy's for the text's language (English, French and
    Spanish ones always) plus ``stop_words``, compared both as written and as
    lemmas, so "offenders" goes with "offender". Languages without lookup
    lemmas keep the lower-case words. With ``gaps``, :data:`GAP` stands where
    words were left out, so that a bigram is only ever two adjacent words.
    """
    languages = languages or ["en"] * len(texts)
    extra = frozenset(w.lower() for w in stop_words)
    always = _stop_words("en") | _stop_words("fr") | _stop_words("es")
    out: dict[tuple[str, str], str] = {}
    wanted = list(dict.fromkeys(zip(texts, (_spacy_language(x) for x in languages), strict=True)))
    for language in dict.fromkeys(lang for _, lang in wanted):
        mine = [text for text, lang in wanted if lang == language]
        nlp = _pipeline(language)
        table = _lemma_table(language)
        stops = _stop_words(language) | always | extra
        lemmas: dict[str, str] = {}  # each word looked up (and judged) once
        for text, doc in zip(mine, nlp.tokenizer.pipe([t.lower() for t in mine], batch_size=512),
                             strict=True):
            words: list[str] = []
            for token in doc:
                word = token.text
                lemma = lemmas.get(word)
                if lemma is None:
                    lemma = ""
                    if len(word) > 1 and word not in stops and word.replace("-", "").replace(
                            "'", "").isalpha():
                        lemma = _first(table.get(word, word))
                        lemma = "" if lemma in stops else lemma
                    lemmas[word] = lemma
                if lemma:
                    words.append(lemma)
                elif gaps and words and words[-1] != GAP:
                    words.append(GAP)
            while words and words[-1] == GAP:
                words.pop()
            out[(text, language)] = " ".join(words)
    return [out[(t, _spacy_language(x))] for t, x in zip(texts, languages, strict=True)]


def ngrams(document: str) -> list[str]:
    """Words and bigrams of a :func:`content_lemmas` document; no bigram spans a :data:`GAP`.

    The analyzer handed to scikit-learn's ``CountVectorizer`` for c-TF-IDF.
    """
    words = document.split()
    found = [w for w in words if w != GAP]
    found += [f"{a} {b}" for a, b in pairwise(words) if GAP not in (a, b) and a != b]
    return found


def _first(lemma: str | list[str]) -> str:
    """The lemma, or the first of several (some lookup tables list more than one)."""
    return lemma if isinstance(lemma, str) else (lemma[0] if lemma else "")


def _join_empty(sentences: Sequence[str], stops: frozenset[str]) -> list[str]:
    """The sentences, each one without a content word joined to the unit after it (or before)."""
    units: list[str] = []
    pending = ""
    for text in sentences:
        if not text:
            continue
        if not any(w not in stops for w in _WORD.findall(text.lower())):
            pending = f"{pending} {text}".strip()
            continue
        units.append(f"{pending} {text}".strip() if pending else text)
        pending = ""
    if pending:
        if units:
            units[-1] = f"{units[-1]} {pending}"
        else:
            units.append(pending)
    return units


@lru_cache(maxsize=64)
def _spacy_language(language: str | None) -> str:
    """A language spaCy can tokenise; unknown or missing languages are read as English."""
    if not language or language == UNKNOWN_LANGUAGE:
        return "en"
    try:
        import spacy.util

        spacy.util.get_lang_class(language)
    except (ImportError, KeyError, ValueError):  # spaCy raises ImportError for unknown codes
        return "en"
    return language


@lru_cache(maxsize=16)
def _pipeline(language: str) -> Any:
    """A blank spaCy pipeline with the rule-based sentencizer, built once per language."""
    import spacy

    nlp = spacy.blank(language)
    nlp.add_pipe("sentencizer")
    return nlp


@lru_cache(maxsize=16)
def _lemma_table(language: str) -> Any:
    """spaCy's lookup lemmas for ``language`` (a mapping; empty where none ship)."""
    if language not in LEMMA_LANGUAGES:
        return {}
    try:
        from spacy.lookups import load_lookups

        return load_lookups(language, ["lemma_lookup"]).get_table("lemma_lookup")
    except (ValueError, OSError, ImportError):  # lookups missing: keep the words as written
        return {}


@lru_cache(maxsize=16)
def _stop_words(language: str) -> frozenset[str]:
    """spaCy's stop words for ``language``, read from its ``stop_words.py`` alone.

    Importing ``spacy.lang.fr`` compiles its tokenizer exceptions (about 4 s);
    the stop-word list is a plain set in a module of its own.
    """
    import importlib.util

    import spacy

    path = Path(spacy.__file__).parent / "lang" / language / "stop_words.py"
    spec = importlib.util.spec_from_file_location(f"_consult_stop_words_{language}", path)
    if spec is None or spec.loader is None or not path.is_file():
        return frozenset()
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return frozenset(w.lower() for w in getattr(module, "STOP_WORDS", ()))


class TextCache:
    """Units and lemmas of texts already prepared, kept on disk so that re-runs skip spaCy.

    Like the embedding cache (:mod:`consult.analysis.text.embed`), entries are
    keyed by the SHA-256 of what they were computed from: the text and its
    language for units; also the stop words and ``gaps`` for lemmas. The files
    carry consult's version, so a new version computes everything afresh; the
    folder (``.consult/text/`` in a project) can be deleted at any time.
    ``folder=None`` keeps nothing.
    """

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self.hits = 0
        """Texts found in the cache so far."""

    def split_units(self, texts: Sequence[str],
                    languages: Sequence[str] | None = None) -> list[list[str]]:
        """:func:`split_units`, computing only the texts not cached."""
        found = self._fetch("units", texts, languages, split_units)
        return [list(units) for units in found]

    def content_lemmas(self, texts: Sequence[str], languages: Sequence[str] | None = None,
                       stop_words: Sequence[str] = (), *, gaps: bool = False) -> list[str]:
        """:func:`content_lemmas`, computing only the texts not cached."""
        import hashlib

        words = "\n".join(sorted({w.lower() for w in stop_words}))
        salt = hashlib.sha256(f"{gaps}\n{words}".encode()).hexdigest()[:16]

        def compute(missing: Sequence[str], langs: Sequence[str] | None) -> list[str]:
            return content_lemmas(missing, langs, stop_words, gaps=gaps)

        return [str(x) for x in self._fetch(f"lemmas-{salt}", texts, languages, compute)]

    def _fetch(self, kind: str, texts: Sequence[str], languages: Sequence[str] | None,
               compute: Any) -> list[Any]:
        import hashlib

        langs = list(languages) if languages is not None else ["en"] * len(texts)
        keys = [hashlib.sha256(f"{lang}\0{text}".encode()).hexdigest()
                for text, lang in zip(texts, langs, strict=True)]
        stored = self._read(kind)
        missing = {k: i for i, k in enumerate(keys) if k not in stored}
        self.hits += sum(k in stored for k in keys)
        if missing:
            order = list(missing.values())
            fresh = compute([texts[i] for i in order], [langs[i] for i in order])
            stored.update(zip(missing, fresh, strict=True))
            self._write(kind, stored)
        return [stored[k] for k in keys]

    def _path(self, kind: str) -> Path | None:
        from consult import __version__

        return None if self.folder is None else self.folder / f"{kind}-{__version__}.json"

    def _read(self, kind: str) -> dict[str, Any]:
        import json

        path = self._path(kind)
        if path is None or not path.is_file():
            return {}
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}  # a damaged cache is only a slower run
        return data if isinstance(data, dict) else {}

    def _write(self, kind: str, stored: dict[str, Any]) -> None:
        import json

        path = self._path(kind)
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.partial")
        partial.write_text(json.dumps(stored, ensure_ascii=False), encoding="utf-8")
        partial.replace(path)  # never leave a half-written file where a reader looks
