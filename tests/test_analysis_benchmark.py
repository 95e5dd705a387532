"""The public proctoring benchmark: closed-item tables against the CSV and the paper.

Reads ../shared/benchmarks/proctoring-educators/responses_qualtrics.csv directly
with pandas (two header rows: column ids, then question texts), so that it needs
nothing but the analysis functions. The paper (Balash et al., USENIX Security
2023) reports n = 125; see ../shared/benchmarks/README.md for its figures.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from consult.analysis.closed import tabulate_item
from consult.analysis.percent import PercentRule
from consult.questionnaire import Item

pytestmark = pytest.mark.benchmark_data

CSV = (Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "proctoring-educators"
       / "responses_qualtrics.csv")

# The paper's figures (README.md): school (Q2) and use of proctoring tools (Q6).
PAPER_Q2 = {"Columbian College of Arts & Sciences": (49, "39"),
            "Milken Institute School of Public Health": (16, "13"),
            "School of Medicine & Health Sciences": (12, "10"),
            "School of Business": (11, "9")}
PAPER_Q6_YES = (26, "21")


@pytest.fixture(scope="module")
def export() -> pd.DataFrame:
    if not CSV.is_file():
        pytest.skip(f"public benchmark data not found at {CSV} (../shared/benchmarks is not "
                    "part of this repository)")
    return pd.read_csv(CSV, skiprows=[1], dtype=str, keep_default_na=False)


def code(label: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", label).strip("_").lower()


def as_item(frame: pd.DataFrame, column: str) -> tuple[Item, pd.DataFrame]:
    """A single-choice item from the export's labels, and the column as tidy answers."""
    labels = sorted(v for v in frame[column].unique() if v)
    item = Item.model_validate({"id": column.lower(), "type": "single_choice",
                                "label": {"en": column},
                                "choices": [{"code": code(v), "label": {"en": v}} for v in labels]})
    answered = frame.loc[frame[column] != ""]
    answers = pd.DataFrame({"respondent_id": answered.index.astype(int), "item_id": item.id,
                            "value": answered[column].map(code), "ordinal": 0})
    return item, answers


@pytest.mark.parametrize("column", ["Q2", "Q6"])
def test_counts_match_the_csv(export: pd.DataFrame, column: str) -> None:
    item, answers = as_item(export, column)
    table = tabulate_item(answers, item, export.index.astype(int)).set_index("code")
    direct = export.loc[export[column] != "", column].value_counts()
    for label, count in direct.items():
        assert table.loc[code(str(label)), "count"] == count
    assert table.loc["(missing)", "count"] == (export[column] == "").sum()
    assert set(table["n_applied"]) == {len(export)}


def test_school_matches_the_paper(export: pd.DataFrame) -> None:
    item, answers = as_item(export, "Q2")
    # The paper prints whole percentages.
    table = tabulate_item(answers, item, export.index.astype(int),
                          PercentRule(decimals=0)).set_index("code")
    for label, (count, pct) in PAPER_Q2.items():
        assert abs(int(table.loc[code(label), "count"]) - count) <= 1, label
        assert table.loc[code(label), "pct_answered"] == pct, label


def test_use_of_tools_matches_the_paper(export: pd.DataFrame) -> None:
    item, answers = as_item(export, "Q6")
    table = tabulate_item(answers, item, export.index.astype(int),
                          PercentRule(decimals=0)).set_index("code")
    count, pct = PAPER_Q6_YES
    assert abs(int(table.loc["yes", "count"]) - count) <= 1
    assert table.loc["yes", "pct_answered"] == pct
