"""Quote attributions never name a group smaller than the tables would show."""

from __future__ import annotations

import random
from collections import Counter

import pandas as pd
import pytest

from consult.analysis.data import Grouping
from consult.analysis.text.run import ANONYMOUS, attributions

REGIONS = {"NA": "North America", "OC": "Oceania", "AS": "Asia", "EU": "Europe"}
ROLES = {"custodial": "Custodial (institutional)", "community": "Community supervision",
         "policy": "Policy"}


def grouping(name: str, of: dict[int, str], labels: dict[str, str]) -> Grouping:
    return Grouping(name, pd.Series(of), tuple(labels), labels, "Other")


def people(regions: list[str], roles: list[str]) -> tuple[Grouping, Grouping]:
    return (grouping("region", dict(enumerate(regions)), REGIONS),
            grouping("role", dict(enumerate(roles)), ROLES))


def test_small_regions_merge_and_small_pairs_lose_the_role() -> None:
    regions = ["NA"] * 10 + ["OC"] * 6 + ["AS"] * 2 + ["EU"] * 3
    roles = ["custodial"] * 6 + ["community"] * 4 + ["custodial"] * 6 + ["policy"] * 5
    found = attributions(*people(regions, roles), threshold=5)
    # Only 4 community respondents in North America: no quote from there names a role,
    # or "North America" alone would mean community.
    assert found[0] == found[6] == "North America"
    assert found[10] == "Oceania, custodial"
    # Asia (2) and Europe (3) are shown together, as the tables show them.
    # Community (4) is merged with the next smallest role, policy (5), as tables merge them.
    assert found[16] == "Other regions, other roles" and found[20] == "Other regions, other roles"
    assert all("Asia" not in a and "Europe" not in a for a in found.values())


def test_without_a_role_item_the_region_alone() -> None:
    region, _ = people(["NA"] * 6 + ["AS"] * 1, ["custodial"] * 7)
    found = attributions(region, None, threshold=5)
    # Asia alone cannot be merged into a group of 5: the region is not named for anyone.
    assert set(found.values()) == {ANONYMOUS}
    region, _ = people(["NA"] * 6 + ["OC"] * 5, ["custodial"] * 11)
    assert set(attributions(region, None, threshold=5).values()) == {"North America", "Oceania"}


def test_everyone_from_one_region_is_attributed_by_role() -> None:
    found = attributions(*people(["NA"] * 12, ["custodial"] * 7 + ["community"] * 5), 5)
    assert found[0] == "Custodial" and found[11] == "Community supervision"


@pytest.mark.parametrize("seed", range(30))
def test_no_attribution_names_fewer_than_the_threshold(seed: int) -> None:
    rng = random.Random(seed)
    n = rng.randint(5, 80)
    regions = [rng.choice(list(REGIONS)) for _ in range(n)]
    roles = [rng.choice(list(ROLES)) for _ in range(n)]
    threshold = rng.choice([3, 5, 10])
    found = attributions(*people(regions, roles), threshold)
    shared = Counter(found.values())
    for text, count in shared.items():
        # Everyone attributed alike is a group at least as large as the tables' smallest.
        assert text == ANONYMOUS or count >= threshold, (text, count)
    # A region named without a role is named so for all its respondents.
    for text in shared:
        if text != ANONYMOUS and ", " not in text and text in REGIONS.values():
            assert not [t for t in shared if t.startswith(f"{text}, ")]
