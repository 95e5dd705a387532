"""Numbered tables from results.json: items crossed by region and role, full distributions.

Counts print as results.json has them: a count withheld by disclosure control
prints its ``display`` (``<5`` or ``x``), never a number. Group and answer
labels are printed in the report's language (region names through
``strings.region_name``, profile choices through the instrument's labels).
"""

from __future__ import annotations

from consult.report import formats
from consult.report.model import Table, TableRow
from consult.report.notes import in_language, namer
from consult.report.refs import Numbering
from consult.report.strings import region_name
from consult.results import ItemResult, Results
from consult.results.model import CrossTable, Group, StatTest


def item_tables(numbering: Numbering, item: ItemResult, results: Results, lang: str,
                t: dict[str, str]) -> list[Table]:
    """``item`` crossed by each grouping, one numbered table a grouping, tests in APA style."""
    labels = answer_labels(item, lang, t)
    question = item_label(item, lang)
    tables = []
    for grouping, cross in item.by.items():
        number = numbering.table()
        title = f"{question} ({t['by']} {t.get('grouping_' + grouping, grouping)})"
        tables.append(Table(number, f"table-{number}", title,
                            *_cross_rows(item, cross, results, labels, lang, t),
                            tests=[apa(test, labels, lang, t) for test in cross.tests],
                            notes=in_language(cross.notes, lang, namer(results, lang, t))))
    return tables


def number_tables(numbering: Numbering, item: ItemResult, results: Results, lang: str,
                  t: dict[str, str]) -> list[Table]:
    """A number item (years of experience) summarised in each group of each grouping."""
    question = item_label(item, lang)
    header = ["", t["count"], t["mean"], t["sd"], t["median"], t["iqr"]]
    tables = []
    for grouping, cross in item.by.items():
        groups = {g.key: g for g in cross.groups}
        rows = []
        for summary in cross.summaries:
            if summary.number is None or summary.group not in groups:
                continue
            rows.append(_number_row(group_label(grouping, groups[summary.group], results, lang, t),
                                    summary.number.n, summary.number, lang))
        if item.overall.number is not None:
            rows.append(_number_row(t["overall"], item.overall.number.n, item.overall.number,
                                    lang))
        number = numbering.table()
        title = t["item_number"].format(question=question,
                                        grouping=t.get("grouping_" + grouping, grouping))
        tables.append(Table(number, f"table-{number}", title, header, rows,
                            notes=in_language(cross.notes, lang, namer(results, lang, t))))
    return tables


def overall_table(numbering: Numbering, item: ItemResult, lang: str, t: dict[str, str]) -> Table:
    """Every answer of ``item`` over all respondents it applied to, with Wilson 95% intervals."""
    labels = answer_labels(item, lang, t)
    rows = []
    for row in item.overall.rows:
        ci = ""
        if row.ci_low is not None and row.ci_high is not None:
            ci = (f"{formats.number(row.ci_low * 100, lang, 1)}–"
                  f"{formats.number(row.ci_high * 100, lang, 1)}")
        rows.append(TableRow(labels.get(row.code, row.code),
                             [formats.number(row.count, lang),
                              formats.percent(row.pct_answered, lang) if row.pct_answered
                              is not None else "", ci]))
    number = numbering.table()
    n = formats.number(item.overall.n_applied, lang)
    return Table(number, f"table-{number}",
                 t["item_overall"].format(question=item_label(item, lang)) + f", N = {n}",
                 [t["answer"], t["count"], t["pct_answered"], t["ci"]], rows,
                 notes=in_language(item.overall.notes, lang, lambda name: region_name(name, lang)))


def apa(test: StatTest, labels: dict[str, str], lang: str, t: dict[str, str]) -> str:
    """One test in APA style: ``χ²(3, N = 80) = 7.81, p = .050``."""
    n = formats.number(test.n, lang)
    dof = formats.number(test.dof, lang, 0) if test.dof is not None else "?"
    stat = formats.number(test.statistic, lang, 2)
    p = formats.p_value(test.p_value, lang)
    if test.test == "fisher_exact":
        text = f"{t['fisher_exact']}, N = {n}, {p}"
    elif test.test == "kruskal_wallis":
        text = f"H({dof}, N = {n}) = {stat}, {p}"
    else:
        text = f"χ²({dof}, N = {n}) = {stat}, {p}"
        if test.test == "monte_carlo_chi2":
            text += f" ({t['monte_carlo'].format(resamples=formats.number(test.resamples, lang))})"
    if test.p_holm is not None:
        text += "; " + formats.p_value(test.p_holm, lang).replace("p ", "p (Holm) ", 1)
    if test.choice is not None:
        text = f"{labels.get(test.choice, test.choice)}{t['colon']}{text}"
    return text


def significant(test: StatTest, alpha: float = 0.05) -> bool:
    """Whether ``test`` is significant at ``alpha``, after Holm's correction when there is one."""
    p = test.p_holm if test.p_holm is not None else test.p_value
    return p is not None and p < alpha


def item_label(item: ItemResult, lang: str) -> str:
    """The question in ``lang`` (or the first language it has)."""
    return item.label.get(lang) or next(iter(item.label.values()), item.item_id)


def question_only(label: str) -> str:
    """The question of a label without what follows it ("… offender? Select all that apply.")."""
    return label[:label.index("?") + 1] if "?" in label else label.rstrip(".")


def answer_labels(item: ItemResult, lang: str, t: dict[str, str]) -> dict[str, str]:
    """Choice code → label in ``lang``, with the missing and "other" rows."""
    labels = {c.code: c.label.get(lang) or (t["other"] if c.code == "other" else
                                            next(iter(c.label.values()), c.code))
              for c in item.choices}
    labels.setdefault("other", t["other"])
    labels["(missing)"] = t["missing"]
    return labels


def group_label(grouping: str, group: Group, results: Results, lang: str,
                t: dict[str, str]) -> str:
    """A column of a crossed table in ``lang``: a region, a profile answer, "Other regions"."""
    if group.key == "(not stated)":
        return t["not_stated"]
    if group.key == "(other)":
        return t["other_regions"] if grouping == "region" else t["other"]
    if grouping in ("region", "country"):
        return region_name(group.label, lang) if grouping == "region" else group.label
    try:
        profile = results.item(grouping)
    except KeyError:
        return group.label
    return answer_labels(profile, lang, t).get(group.key, group.label)


# --------------------------------------------------------------------------- helpers


def _cross_rows(item: ItemResult, cross: CrossTable, results: Results, labels: dict[str, str],
                lang: str, t: dict[str, str]) -> tuple[list[str], list[TableRow]]:
    header = [t["answer"]]
    header += [f"{group_label(cross.grouping, g, results, lang, t)} "
               f"({_n(g.n_applied, lang, t)})" for g in cross.groups]
    header.append(f"{t['overall']} ({_n(item.overall.n_applied, lang, t)})")
    overall = {row.code: row for row in item.overall.rows}
    cells = {(c.group, c.code): c for c in cross.cells}
    rows = []
    for row in item.overall.rows:
        printed = []
        for group in cross.groups:
            cell = cells.get((group.key, row.code))
            if cell is None:
                printed.append("–")
            elif cell.count is None or cell.pct_answered is None:
                printed.append(cell.display)
            else:
                printed.append(f"{cell.display} ({formats.percent(cell.pct_answered, lang)})")
        whole = overall[row.code]
        printed.append(f"{formats.number(whole.count, lang)}"
                       + (f" ({formats.percent(whole.pct_answered, lang)})"
                          if whole.pct_answered is not None else ""))
        rows.append(TableRow(labels.get(row.code, row.code), printed))
    return header, rows


def _n(n: int, lang: str, t: dict[str, str]) -> str:
    """``n = 36``, kept on one line."""
    return f"{t['n']}\u00a0=\u00a0{formats.number(n, lang)}"


def _number_row(label: str, n: int, summary: object, lang: str) -> TableRow:
    def value(name: str) -> str:
        number = getattr(summary, name)
        return formats.number(number, lang, 1) if number is not None else "–"

    q1, q3 = value("q1"), value("q3")
    return TableRow(label, [formats.number(n, lang), value("mean"), value("sd"), value("median"),
                            f"{q1}–{q3}" if "–" not in (q1, q3) else "–"])
