"""Countries to ISO 3166 codes, and ISO codes to regions by a region scheme.

Country names are resolved by ``country_converter`` (imported lazily: it reads
its table at import). Region schemes:

- ``r361``: the six regions R-361 reports (North America; Latin America and the
  Caribbean; Europe; Asia; Oceania; Africa), derived from UN M49 sub-regions.
- ``un``: the UN M49 sub-regions as they are ("Western Europe", ...).
- a path to a YAML file ``{regions: {ISO3: region, ...}, default: region}``.
"""

from __future__ import annotations

import functools
import logging
import unicodedata
from pathlib import Path
from typing import Any

import yaml

from consult.errors import SettingsError

R361_REGIONS = (
    "North America",
    "Latin America and the Caribbean",
    "Europe",
    "Asia",
    "Oceania",
    "Africa",
)

_UN_TO_R361 = {
    "Northern America": "North America",
    "Central America": "Latin America and the Caribbean",
    "South America": "Latin America and the Caribbean",
    "Caribbean": "Latin America and the Caribbean",
    "Australia and New Zealand": "Oceania",
    "Melanesia": "Oceania",
    "Micronesia": "Oceania",
    "Polynesia": "Oceania",
}


# Names countries use for themselves that country_converter's patterns miss.
# country_converter resolves everything else (English names, ISO codes,
# abbreviations, regions of a country such as "England" or "Australia (NSW)").
ENDONYMS = {
    "nederland": "NLD", "espana": "ESP", "deutschland": "DEU", "sverige": "SWE",
    "norge": "NOR", "danmark": "DNK", "belgie": "BEL", "belgique": "BEL", "suisse": "CHE",
    "schweiz": "CHE", "svizzera": "CHE", "osterreich": "AUT", "italia": "ITA", "polska": "POL",
    "eire": "IRL", "magyarorszag": "HUN", "cesko": "CZE", "suomi": "FIN", "turkiye": "TUR",
    "brasil": "BRA", "hellas": "GRC", "ellada": "GRC", "island": "ISL", "nihon": "JPN",
    "nippon": "JPN", "aotearoa": "NZL", "royaume-uni": "GBR", "etats-unis": "USA",
    "allemagne": "DEU", "espagne": "ESP", "pays-bas": "NLD", "belgica": "BEL",
    "estados unidos": "USA", "reino unido": "GBR", "alemania": "DEU", "francia": "FRA",
}


def to_iso3(name: str) -> str | None:
    """The ISO 3166 alpha-3 code of a country written any common way, or ``None``.

    Accents are tried as written and then stripped ("Israël" → ISR); names a
    country uses for itself ("Nederland", "España") come from :data:`ENDONYMS`.
    """
    text = " ".join(name.split())
    if not text:
        return None
    plain = _strip_accents(text).casefold().strip(" .")
    if plain in ENDONYMS:
        return ENDONYMS[plain]
    for candidate in dict.fromkeys((text, _strip_accents(text))):
        code = _convert(candidate, "ISO3")
        if code:
            return code
    return None


def country_suggestions(name: str, limit: int = 3) -> list[str]:
    """Country names close to an unresolvable ``name``, for a hint."""
    import difflib

    names = [str(n) for n in _converter().data["name_short"].tolist()]
    return difflib.get_close_matches(name.strip(), names, n=limit, cutoff=0.5)


def country_name(iso3: str) -> str:
    """The short English name of ``iso3`` ("USA" → "United States")."""
    return _convert(iso3, "name_short", src="ISO3") or iso3


def region_of(iso3: str, scheme: str = "r361", root: Path | None = None) -> str | None:
    """The region of ``iso3`` under ``scheme``; ``None`` when the scheme has none."""
    if scheme == "un":
        return _convert(iso3, "UNregion", src="ISO3")
    if scheme == "r361":
        un = _convert(iso3, "UNregion", src="ISO3")
        if un is None:
            return None
        if un in _UN_TO_R361:
            return _UN_TO_R361[un]
        for word in ("Europe", "Asia", "Africa"):
            if word in un:
                return word
        return None
    mapping, default = _custom_scheme(scheme, root)
    return mapping.get(iso3.upper(), default)


def check_scheme(scheme: str, root: Path | None = None) -> None:
    """Raise :class:`SettingsError` unless ``scheme`` is usable."""
    if scheme not in {"r361", "un"}:
        _custom_scheme(scheme, root)


# --------------------------------------------------------------------------- helpers


def _strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


@functools.cache
def _converter() -> Any:
    import country_converter as coco

    # coco logs every name it cannot match; consult reports those itself.
    logging.getLogger("country_converter").setLevel(logging.ERROR)
    return coco.CountryConverter()


@functools.cache
def _convert(name: str, to: str, src: str | None = None) -> str | None:
    converted = _converter().convert(name, src=src, to=to, not_found=None)
    if isinstance(converted, list):  # an ambiguous name matches several countries
        return None
    if converted is None or (converted == name and to == "ISO3" and len(name) != 3):
        return None
    text = str(converted)
    return text if text and text.lower() != "nan" else None


@functools.cache
def _custom_scheme_cached(path: Path) -> tuple[dict[str, str], str | None]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise SettingsError(f"[regions] scheme: cannot read {path}: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("regions"), dict):
        raise SettingsError(
            f"[regions] scheme: {path} must be YAML with a 'regions' mapping of ISO3 codes to "
            "region names, e.g. regions: {{CAN: North America, FRA: Europe}}"
        )
    mapping = {str(k).upper(): str(v) for k, v in data["regions"].items()}
    default = data.get("default")
    return mapping, str(default) if default is not None else None


def _custom_scheme(scheme: str, root: Path | None) -> tuple[dict[str, str], str | None]:
    path = Path(scheme)
    if not path.is_absolute() and root is not None:
        path = root / path
    if not path.is_file():
        raise SettingsError(
            f"[regions] scheme = {scheme!r}: use 'r361', 'un' or the path of a YAML file "
            "mapping ISO3 codes to regions"
        )
    return _custom_scheme_cached(path.resolve())
