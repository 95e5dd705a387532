"""Referral codes: unambiguous alphabet, check character catches typos (property-based)."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from consult.sampling.codes import ALPHABET, check_character, display, is_valid, new_code, normalise

bodies = st.text(alphabet=ALPHABET, min_size=8, max_size=8)


def test_alphabet_has_no_look_alikes() -> None:
    assert not set("0O1I") & set(ALPHABET)
    assert len(set(ALPHABET)) == len(ALPHABET) == 32


def test_new_codes_are_valid_and_distinct() -> None:
    codes = {new_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(is_valid(c) and len(c) == 9 for c in codes)


def test_seeded_codes_repeat() -> None:
    assert new_code(random.Random(1)) == new_code(random.Random(1))


@given(bodies, st.integers(0, 7), st.sampled_from(ALPHABET))
def test_any_single_substitution_is_detected(body: str, position: int, char: str) -> None:
    code = body + check_character(body)
    typo = code[:position] + char + code[position + 1:]
    assert is_valid(typo) == (typo == code)


@given(bodies, st.integers(0, 7))
def test_any_adjacent_swap_is_detected(body: str, position: int) -> None:
    code = body + check_character(body)
    swapped = code[:position] + code[position + 1] + code[position] + code[position + 2:]
    assert is_valid(swapped) == (swapped == code)


@given(bodies)
def test_display_and_normalise_round_trip(body: str) -> None:
    code = body + check_character(body)
    assert normalise(display(code).lower()) == code
    assert is_valid(" " + display(code).lower() + " ")


def test_malformed_codes_are_invalid() -> None:
    assert not is_valid("")
    assert not is_valid("ABCD")
    assert not is_valid("0OOO-1111-I")


def test_swap_of_first_and_last_letters_is_detected() -> None:
    # The pair Luhn mod 32 cannot see.
    body = "2Z" + "ABCDEF"
    code = body + check_character(body)
    assert is_valid(code) and not is_valid("Z2" + code[2:])
