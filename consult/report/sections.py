"""The results by domain: tables, figures of the key items, and sentences that cite them.

Key items are the single-choice and Likert items of a domain: each gets a
figure by region and role (a stacked bar of its answers, or a dot plot of the
percent who agreed). The sentences ("71.3% of those who answered agreed that …
(see Table 12, Table 13, and Figure 4).") are computed from results.json.
"""

from __future__ import annotations

from markupsafe import Markup, escape

from consult.questionnaire import Questionnaire
from consult.report import formats
from consult.report.figures import Chart, Series
from consult.report.model import DomainSection, Figure, Practice, Sentence, Table
from consult.report.refs import Numbering, sentence
from consult.report.tables import (
    answer_labels,
    apa,
    group_label,
    item_label,
    item_tables,
    question_only,
    significant,
)
from consult.results import ItemResult, Results


def domain_section(numbering: Numbering, questionnaire: Questionnaire, results: Results,
                   domain_id: str, lang: str, t: dict[str, str], practices: list[Practice],
                   practices_note: str, *, draw: bool) -> DomainSection:
    """One domain: its figures, its tables, the sentences citing them, its candidate practices."""
    domain = next(d for d in questionnaire.domains if d.id == domain_id)
    items = [item for item in results.items if item.domain == domain_id and item.type != "number"]
    key_items = [item for item in items if item.type in ("likert", "single_choice") and item.by]
    figures = {item.item_id: item_figure(numbering, item, results, lang, t, draw=draw)
               for item in key_items}
    tables = {item.item_id: item_tables(numbering, item, results, lang, t) for item in items}
    findings = [found for item in items
                for found in _findings(item, tables[item.item_id], figures.get(item.item_id),
                                       lang, t)]
    if any(cross.tests for item in items for cross in item.by.values()) and not any(
            significant(test) for item in items for cross in item.by.values()
            for test in cross.tests):
        findings.append(Sentence(t["finding_no_difference"], escape(t["finding_no_difference"])))
    practice_item = next((i for i in domain.items if i.practice), None)
    return DomainSection(
        id=domain.id, title=questionnaire.text(domain.title, lang),
        intro=questionnaire.text(domain.intro, lang), findings=findings,
        tables=[table for item in items for table in tables[item.item_id]],
        figures=list(figures.values()),
        practice_question=questionnaire.text(practice_item.label, lang) if practice_item else "",
        practices=practices, practices_note=practices_note if practice_item else "")


def item_figure(numbering: Numbering, item: ItemResult, results: Results, lang: str,
                t: dict[str, str], *, draw: bool) -> Figure:
    """A key item by region and role: Likert agreement as dots, single-choice answers as bars."""
    number = numbering.figure()
    question = item_label(item, lang).rstrip(".")
    if item.type == "likert":
        chart, labels, values, alt_list = _agree_chart(item, results, lang, t)
        overall = item.overall.likert.pct_agree if item.overall.likert else None
        title = t["figure_agree"].format(label=question)
        alt = t["figure_agree_alt"].format(list=alt_list,
                                           overall=formats.percent(overall, lang))
    else:
        chart, labels, values, alt_list = _answers_chart(item, results, lang, t)
        title = t["figure_answers"].format(label=question)
        alt = t["figure_answers_alt"].format(list=alt_list)
    drawn = None
    if draw:
        from consult.report.figures import svg

        drawn = svg(chart, title, alt, salt=f"figure-{number}")
    return Figure(number, f"figure-{number}", title, alt, drawn or Markup(""), labels,
                  values, chart)


# --------------------------------------------------------------------------- helpers


def _findings(item: ItemResult, tables: list[Table], figure: Figure | None, lang: str,
              t: dict[str, str]) -> list[Sentence]:
    refs: list[Table | Figure] = [*tables, *([figure] if figure else [])]
    question = question_only(item_label(item, lang))
    labels = answer_labels(item, lang, t)
    found = []
    if item.type == "likert" and item.overall.likert and item.overall.likert.pct_agree:
        found.append(sentence(t["finding_likert"], t, lang, refs,
                              pct=formats.percent(item.overall.likert.pct_agree, lang),
                              label=question.rstrip(".")))
    elif item.type in ("single_choice", "multiple_choice"):
        answers = [row for row in item.overall.rows if row.kind == "answer" and row.count > 0]
        if answers:
            most = max(row.count for row in answers)
            top = [row for row in answers if row.count == most]
            names = [labels.get(row.code, row.code) for row in top]
            key = "finding_single" if item.type == "single_choice" else "finding_multiple"
            found.append(sentence(t[key + ("_tie" if len(top) > 1 else "")], t, lang, refs,
                                  question=question, answer=names[0],
                                  answers=formats.join_list([t["quote"].format(n) for n in names],
                                                            lang),
                                  pct=formats.percent(top[0].pct_answered, lang)))
    differing = [(grouping, table, [test for test in cross.tests if significant(test)])
                 for (grouping, cross), table in zip(item.by.items(), tables, strict=True)]
    differing = [d for d in differing if d[2]]
    if differing:
        groupings = formats.join_list([t.get("grouping_" + g, g) for g, _, _ in differing], lang)
        tests = "; ".join(apa(test, labels, lang, t) for _, _, found_tests in differing
                          for test in found_tests)
        found.append(sentence(t["finding_differs"], t, lang, [table for _, table, _ in differing],
                              question=question, groupings=groupings, tests=tests))
    return found


def _blocks(item: ItemResult, results: Results, lang: str,
            t: dict[str, str]) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """(grouping, heading, [(group key, label)]) for each grouping of ``item``."""
    headings = {"region": t["region"], "role": t["role"]}
    return [(grouping, headings.get(grouping, grouping.replace("_", " ").capitalize()),
             [(g.key, group_label(grouping, g, results, lang, t)) for g in cross.groups])
            for grouping, cross in item.by.items()]


def _agree_chart(item: ItemResult, results: Results, lang: str, t: dict[str, str]
                 ) -> tuple[Chart, list[str], list[float | None], str]:
    categories: list[str] = []
    headings: list[int] = []
    series: list[Series] = []
    labels: list[str] = []
    values: list[float | None] = []
    described: list[str] = []
    blocks = _blocks(item, results, lang, t)
    rows = sum(len(groups) + 1 for _, _, groups in blocks)
    for grouping, heading, groups in blocks:
        summaries = {s.group: s.likert for s in item.by[grouping].summaries}
        headings.append(len(categories))
        categories.append(heading)
        series_values: list[float | None] = [None] * rows
        printed = [""] * rows
        for key, label in groups:
            index = len(categories)
            categories.append(label)
            likert = summaries.get(key)
            pct = likert.pct_agree if likert is not None else None
            value = float(pct) if pct is not None else None
            series_values[index] = value
            printed[index] = formats.percent(pct, lang) if pct is not None else t["withheld"]
            labels.append(formats.labelled(heading, label, lang))
            values.append(value)
            described.append(f"{label} {printed[index]}")
        series.append(Series(heading, series_values, printed))
    overall = item.overall.likert.pct_agree if item.overall.likert else None
    chart = Chart("dots", categories, series, axis=t["axis_agree"], headings=tuple(headings),
                  maximum=100, reference=float(overall) if overall is not None else None,
                  reference_label=f"{t['overall']} {formats.percent(overall, lang)}",
                  withheld=t["withheld"], legend=False)
    return chart, labels, values, formats.join_list(described, lang)


def _answers_chart(item: ItemResult, results: Results, lang: str, t: dict[str, str]
                   ) -> tuple[Chart, list[str], list[float | None], str]:
    answer_rows = [row for row in item.overall.rows if row.kind != "missing"]
    names = answer_labels(item, lang, t)
    categories = [t["overall"]]
    headings: list[int] = []
    columns: list[tuple[str | None, str | None]] = [(None, None)]  # (grouping, group key)
    for grouping, heading, groups in _blocks(item, results, lang, t):
        headings.append(len(categories))
        categories.append(heading)
        columns.append((None, ""))
        for key, label in groups:
            categories.append(label)
            columns.append((grouping, key))
    cells = {(grouping, c.group, c.code): c for grouping, cross in item.by.items()
             for c in cross.cells}
    series = []
    labels: list[str] = []
    values: list[float | None] = []
    described: dict[int, list[str]] = {}
    for row in answer_rows:
        name = names.get(row.code, row.code)
        series_values: list[float | None] = []
        printed: list[str] = []
        for index, (grouping_id, group_key) in enumerate(columns):
            pct: str | None
            if grouping_id is None and group_key is None:  # the overall row: never suppressed
                pct = row.pct_answered
                shown = formats.percent(pct, lang) if pct is not None else ""
            elif grouping_id is None:  # a heading row
                series_values.append(None)
                printed.append("")
                continue
            else:
                cell = cells.get((grouping_id, group_key or "", row.code))
                pct = cell.pct_answered if cell is not None and cell.count is not None else None
                shown = (formats.percent(pct, lang) if pct is not None
                         else cell.display if cell is not None else "")
            value = float(pct) if pct is not None else None
            series_values.append(value)
            printed.append(shown)
            labels.append(formats.labelled(categories[index], name, lang))
            values.append(value)
            described.setdefault(index, []).append(f"{name} {shown}")
        series.append(Series(name, series_values, printed))
    chart = Chart("bars", categories, series, axis=t["axis_answered"], headings=tuple(headings),
                  maximum=100, withheld=t["withheld"])
    alt = "; ".join(f"{categories[i]}{t['colon']}{', '.join(parts)}"
                    for i, parts in described.items())
    return chart, labels, values, alt
