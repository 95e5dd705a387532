"""Referral codes: short, unguessable, easy to read aloud, with a check character.

A code is eight random characters from a 32-letter alphabet without the
look-alikes 0/O and 1/I (40 bits from :mod:`secrets`), followed by one check
character, so that any single mistyped character and any swap of two
neighbouring characters is detected. The check is Damm's scheme over the
quasigroup x∘y = 2x + y in GF(32), which is totally anti-symmetric; Luhn mod 32
would miss the swap of the first and last letters of the alphabet. Codes are shown in two groups of four
plus the check, e.g. ``K7QM-4XRT-9``; dashes, spaces and case are ignored.
"""

from __future__ import annotations

import random
import secrets

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
BODY_LENGTH = 8
_INDEX = {c: i for i, c in enumerate(ALPHABET)}


def new_code(rng: random.Random | None = None) -> str:
    """A fresh code. ``rng`` is for reproducible synthetic data only; never for real codes."""
    if rng is None:
        body = "".join(secrets.choice(ALPHABET) for _ in range(BODY_LENGTH))
    else:
        body = "".join(rng.choice(ALPHABET) for _ in range(BODY_LENGTH))
    return body + check_character(body)


def check_character(body: str) -> str:
    """The check character of ``body`` (characters of :data:`ALPHABET`)."""
    return ALPHABET[_gf32_double(_interim(body))]


def normalise(text: str) -> str:
    """Upper-case ``text`` and drop the dashes and spaces people type in codes."""
    return "".join(text.split()).replace("-", "").upper()


def is_valid(text: str) -> bool:
    """Whether ``text`` is a well-formed code with a correct check character."""
    code = normalise(text)
    if len(code) != BODY_LENGTH + 1 or any(c not in _INDEX for c in code):
        return False
    return _interim(code) == 0


def display(code: str) -> str:
    """``K7QM4XRT9`` → ``K7QM-4XRT-9``, for printing and reading aloud."""
    return f"{code[:4]}-{code[4:8]}-{code[8:]}"


def _gf32_double(x: int) -> int:
    """2·x in GF(32) with the primitive polynomial x⁵ + x² + 1."""
    x <<= 1
    return x ^ 0b100101 if x & 0b100000 else x


def _interim(text: str) -> int:
    interim = 0
    for char in text:
        interim = _gf32_double(interim) ^ _INDEX[char]
    return interim
