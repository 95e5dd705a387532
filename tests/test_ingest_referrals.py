"""Referral checks walk each chain once, and report what walking every chain in full reports."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from consult.errors import Issue
from consult.ingest.convert import Converted
from consult.ingest.run import _check_referrals
from consult.store.responses import RespondentRecord

CODES = st.sampled_from(["A", "B", "C", "D", "E", "F", None])
ROWS = st.lists(st.tuples(CODES, CODES, st.booleans()), max_size=12)


def walk_every_chain(rows: list[Converted], known: set[str]) -> list[tuple[str, int | None, str]]:
    """The plain rule, row by row: follow the referrers until the chain ends or repeats."""
    found: list[tuple[str, int | None, str]] = []
    included = [r for r in rows if r.record.included]
    first: dict[str, int] = {}
    for row in included:
        code = row.record.referral_code
        if code and code in first:
            found.append(("code-reused", row.row, code))
        elif code:
            first[code] = row.row
    parent = {r.record.referral_code: r.record.referred_by for r in included
              if r.record.referral_code}
    for row in included:
        ref = row.record.referred_by
        if ref and ref not in first and ref not in known:
            found.append(("unknown-referrer", row.row, ref))
        seen, current = {row.record.referral_code}, ref
        while current and current in parent:
            if current in seen:
                found.append(("referral-cycle", row.row, current))
                break
            seen.add(current)
            current = parent[current]
    return found


@settings(max_examples=500, deadline=None)
@given(rows=ROWS, known=st.sets(st.sampled_from(["A", "B", "Z"])))
def test_referral_issues_are_those_of_walking_every_chain(
        rows: list[tuple[str | None, str | None, bool]], known: set[str]) -> None:
    converted = [Converted(record=RespondentRecord(
        source="t", source_id=str(n), referral_code=code, referred_by=ref,
        exclusions=() if kept else (("preview", "status preview"),)), row=n + 2, status="complete")
        for n, (code, ref, kept) in enumerate(rows)]
    issues: list[Issue] = []
    _check_referrals(converted, known, issues, "x.csv")
    # The code each message names: "referral code A was also used...", "referrer code A
    # belongs to no...", "referral codes form a cycle through A".
    got = [(i.code, i.row, i.message.split()[-1 if i.code == "referral-cycle" else 2])
           for i in issues]
    expected = walk_every_chain(converted, known)
    assert sorted(got, key=repr) == sorted(expected, key=repr)
    assert [i.code for i in issues] == [code for code, _, _ in expected]
