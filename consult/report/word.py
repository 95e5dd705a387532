"""Word output: the glance page and the full report written with python-docx from the context.

Word documents are built from the same :class:`ReportContext` as the HTML, not
converted from it: headings use Word's heading styles (so the navigation pane
and the table of contents work), tables and figures have captions numbered
with ``SEQ`` fields, figures are PNG with their alt text, quotes use the Quote
style, and the front matter ends with a page break. Template overrides do not
apply here; the wording comes from the context (``t``, text/*.md).

Word fills the table of contents when the document is opened (it asks to
update fields); the lists of tables and figures are written out in full.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from consult.errors import ConsultError
from consult.report.model import Figure, Passage, ReportContext, Table

_LANG_TAGS = {"en": "en-CA", "fr": "fr-CA"}


def write_docx(context: ReportContext, document: str, path: Path) -> Path:
    """Write ``document`` (``glance`` or ``full``) of ``context`` to ``path`` as Word."""
    try:
        import docx
    except ImportError:
        raise ConsultError("Word output needs python-docx: pip install python-docx "
                           "(or use --format html)") from None
    doc = docx.Document()
    _setup(doc, context)
    writer = _Writer(doc, context)
    if document == "glance":
        writer.glance()
    else:
        writer.full()
    doc.save(str(path))
    return path


class _Writer:
    """Appends the parts of a report to one python-docx ``Document``."""

    def __init__(self, doc: Any, context: ReportContext) -> None:
        self.doc = doc
        self.c = context
        self.t = context.t

    # ------------------------------------------------------------------ documents

    def glance(self) -> None:
        c, t = self.c, self.t
        self.doc.add_paragraph(t["glance_title"], style="Subtitle")
        self.doc.add_heading(c.project.title, level=0)
        self.passage(c.glance.headline, bold=True)
        self.doc.add_heading(t["why"], level=1)
        self.passage(c.glance.why)
        self.doc.add_heading(t["what_we_did"], level=1)
        for sentence in c.glance.did:
            self.doc.add_paragraph(sentence)
        self.doc.add_heading(t["what_we_found"], level=1)
        self.passage(c.glance.found)
        for fact in c.glance.facts:
            self.doc.add_paragraph(fact, style="List Bullet")
        self.doc.add_heading(t["what_it_means"], level=1)
        self.passage(c.glance.means)
        self.doc.add_heading(t["more_information"], level=1)
        self.doc.add_paragraph(c.project.citation)
        self.passage(c.glance.contact)

    def full(self) -> None:
        self.cover()
        self.contents()
        self.front_matter()
        self.body()
        self.appendices()

    # ------------------------------------------------------------------ parts

    def cover(self) -> None:
        from docx.enum.text import WD_ALIGN_PARAGRAPH

        c, t = self.c, self.t
        series = t["research_report"] + (f" {c.project.report_number}"
                                         if c.project.report_number else "")
        for text, style in ((series, "Subtitle"), (c.project.title, "Title"),
                            (c.project.authors_text, None), (c.rendered_on, None)):
            if text:
                self.doc.add_paragraph(text, style=style).alignment = WD_ALIGN_PARAGRAPH.CENTER
        self.page_break()

    def contents(self) -> None:
        c, t = self.c, self.t
        self.doc.add_heading(t["contents"], level=1)
        _field(self.doc.add_paragraph(), 'TOC \\o "1-3" \\h \\z \\u', t["toc_update"])
        self.doc.add_heading(t["list_of_tables"], level=2)
        for table in c.tables:
            self.doc.add_paragraph(f"{t['table']} {table.number}. {table.title}")
        self.doc.add_heading(t["list_of_figures"], level=2)
        for figure in c.figures:
            self.doc.add_paragraph(f"{t['figure']} {figure.number}. {figure.title}")
        self.page_break()

    def front_matter(self) -> None:
        t, text = self.t, self.c.text
        self.doc.add_heading(t["acknowledgements"], level=1)
        self.passage(text["acknowledgements"])
        self.doc.add_heading(t["executive_summary"], level=1)
        self.passage(text["summary"])
        self.page_break()  # the body starts on a new page

    def body(self) -> None:
        c, t = self.c, self.t
        self.doc.add_heading(t["introduction"], level=1)
        self.passage(c.text["introduction"])
        self.doc.add_heading(t["method"], level=1)
        self.doc.add_heading(t["instrument"], level=2)
        self.doc.add_paragraph(c.instrument_text)
        self.doc.add_heading(t["sample"], level=2)
        for sentence in [*c.glance.did, c.sample.exclusions_text,
                         t["suppression_note"].format(threshold=c.sample.threshold),
                         c.sample_refs.text]:
            self.doc.add_paragraph(sentence)
        if c.region_table is not None:
            self.table(c.region_table)
        if c.region_figure is not None:
            self.figure(c.region_figure)
        if c.chains is not None:
            self.doc.add_heading(c.chains.heading, level=2)
            for said in c.chains.sentences:
                self.doc.add_paragraph(said.text)
            for figure in c.chains.figures:
                self.figure(figure)
            if c.chains.table is not None:
                self.table(c.chains.table)
            for note in c.chains.notes:
                self.doc.add_paragraph().add_run(note).italic = True
        self.doc.add_heading(t["results"], level=1)
        for domain in c.domains:
            self.doc.add_heading(domain.title, level=2)
            if domain.intro:
                self.doc.add_paragraph(domain.intro)
            for finding in domain.findings:
                self.doc.add_paragraph(finding.text)
            for figure in domain.figures:
                self.figure(figure)
            for table in domain.tables:
                self.table(table)
            if domain.practices_note:
                self.doc.add_heading(t["best_practices"], level=3)
                self.doc.add_paragraph(domain.practices_note)
                for practice in domain.practices:
                    paragraph = self.doc.add_paragraph()
                    paragraph.add_run(practice.label).bold = True
                    marked = f" ({t['practice_marked']})" if practice.marked else ""
                    paragraph.add_run(f"{t['colon']}{practice.support}{marked}.")
                    for quote in practice.quotes:
                        self.doc.add_paragraph(quote.text, style="Quote")
                        self.doc.add_paragraph(f"— {quote.attribution}", style="Quote")
        self.doc.add_heading(t["synthesis"], level=1)
        for finding in c.synthesis.findings:
            self.doc.add_paragraph(finding.text)
        self.doc.add_paragraph(c.synthesis.ranking)
        if c.synthesis.figure is not None:
            self.figure(c.synthesis.figure)
        if c.synthesis.table is not None:
            self.table(c.synthesis.table)
        self.doc.add_heading(t["discussion"], level=1)
        self.passage(c.text["discussion"])

    def appendices(self) -> None:
        c, t = self.c, self.t
        self.page_break()
        self.doc.add_heading(t["appendix_questionnaire"], level=1)
        q = c.questionnaire
        self.doc.add_paragraph(q.meta)
        self.doc.add_heading(q.title, level=2)
        if q.description:
            self.doc.add_paragraph(q.description)
        for section in q.sections:
            self.doc.add_heading(section.title, level=2)
            if section.intro:
                self.doc.add_paragraph(section.intro)
            for item in section.items:
                paragraph = self.doc.add_paragraph()
                paragraph.add_run(f"{item.number}. {item.label}").bold = True
                facts = item.kind + (f". {item.condition}" if item.condition else "")
                self.doc.add_paragraph().add_run(facts).italic = True
                if item.help:
                    self.doc.add_paragraph(item.help)
                for choice in item.choices:
                    self.doc.add_paragraph(choice, style="List Bullet")
        self.page_break()
        self.doc.add_heading(t["appendix_tables"], level=1)
        self.doc.add_paragraph(t["full_tables_intro"])
        self.doc.add_heading(t["profile"], level=2)
        for table in c.appendix_tables:
            self.table(table)
        self.doc.add_heading(t["results"], level=2)
        for table in c.item_tables:
            self.table(table)
        self.page_break()
        self.doc.add_heading(t["appendix_provenance"], level=1)
        self.doc.add_paragraph(t["provenance_intro"])
        p = c.provenance
        rows = [(t["prov_questionnaire"], p.questionnaire), (t["prov_data"], p.data_sha256),
                (t["prov_tool"], f"consult {p.tool_version} ({p.libraries})"),
                (t["prov_resamples"], str(p.monte_carlo_resamples)),
                (t["prov_settings"], "\n".join(p.settings)),
                (t["prov_generated"], p.generated_at)]
        grid = self.doc.add_table(rows=len(rows), cols=2)
        grid.style = "Table Grid"
        for row, (name, value) in zip(grid.rows, rows, strict=True):
            row.cells[0].text = name
            row.cells[1].text = value

    # ------------------------------------------------------------------ pieces

    def passage(self, passage: Passage, *, bold: bool = False) -> None:
        """An author's Markdown as Word paragraphs; a highlighted placeholder while missing."""
        if passage.missing:
            from docx.enum.text import WD_COLOR_INDEX

            note = passage.markdown.strip("*")
            self.doc.add_paragraph().add_run(note).font.highlight_color = WD_COLOR_INDEX.YELLOW
            return
        _markdown(self.doc, passage.markdown, bold=bold)

    def table(self, table: Table) -> None:
        """A caption ("Table 3. …", numbered by a SEQ field), the table, its tests and notes."""
        caption = self.doc.add_paragraph(style="Caption")
        caption.add_run(f"{self.t['table']} ")
        _field(caption, "SEQ Table \\* ARABIC", str(table.number))
        caption.add_run(f". {table.title}")
        caption.paragraph_format.keep_with_next = True
        grid = self.doc.add_table(rows=1 + len(table.rows), cols=len(table.header))
        grid.style = "Table Grid"
        _repeat_header(grid.rows[0])
        for cell, text in zip(grid.rows[0].cells, table.header, strict=True):
            cell.text = ""
            cell.paragraphs[0].add_run(text).bold = True
        for row, data in zip(grid.rows[1:], table.rows, strict=True):
            for cell, text in zip(row.cells, [data.label, *data.cells], strict=True):
                cell.text = text
        for line in [*(["; ".join(table.tests)] if table.tests else []), *table.notes]:
            self.doc.add_paragraph().add_run(line).italic = True

    def figure(self, figure: Figure) -> None:
        """The figure as PNG (alt text in the picture's description), its caption below."""
        from docx.shared import Inches

        if figure.chart is not None or figure.drawing is not None:
            from consult.report.figures import drawing_png, png

            image = png(figure.chart) if figure.chart is not None else \
                drawing_png(figure.drawing) if figure.drawing is not None else b""
            paragraph = self.doc.add_paragraph()
            paragraph.paragraph_format.keep_with_next = True
            shape = paragraph.add_run().add_picture(io.BytesIO(image), width=Inches(6.3))
            shape._inline.docPr.set("descr", figure.alt)
            shape._inline.docPr.set("title", figure.title)
        else:  # the figure says what it shows, and where to see it
            self.doc.add_paragraph(self.t["figure_other_formats"].format(n=figure.number))
            self.doc.add_paragraph(figure.alt).runs[0].italic = True
        caption = self.doc.add_paragraph(style="Caption")
        caption.add_run(f"{self.t['figure']} ")
        _field(caption, "SEQ Figure \\* ARABIC", str(figure.number))
        caption.add_run(f". {figure.title}")

    def page_break(self) -> None:
        from docx.enum.text import WD_BREAK

        self.doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)


# --------------------------------------------------------------------------- helpers


def _setup(doc: Any, context: ReportContext) -> None:
    """Language, margins, footer (page number and provenance) and document properties."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    normal = doc.styles["Normal"]
    normal.font.size = Pt(10.5)
    lang = OxmlElement("w:lang")
    lang.set(qn("w:val"), _LANG_TAGS.get(context.lang, context.lang))
    normal.element.get_or_add_rPr().append(lang)
    section = doc.sections[0]
    section.left_margin = section.right_margin = Cm(2)
    section.top_margin = section.bottom_margin = Cm(2)
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _field(footer, "PAGE", "1")
    note = section.footer.add_paragraph(context.generated_line)
    note.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for run in note.runs:
        run.font.size = Pt(7)
    # Ask Word to fill the table of contents and the SEQ numbers on opening.
    update = OxmlElement("w:updateFields")
    update.set(qn("w:val"), "true")
    doc.settings.element.append(update)
    props = doc.core_properties
    props.title = context.project.title
    props.author = context.project.authors_text or "consult"
    props.subject = context.t["full_title"]
    props.language = _LANG_TAGS.get(context.lang, context.lang)
    props.keywords = f"data-sha256:{context.provenance.data_sha256}"
    props.comments = context.generated_line
    props.last_modified_by = "consult"
    stamp = _timestamp(context.provenance.generated_at)
    props.created = props.modified = stamp
    props.revision = 1


def _timestamp(iso: str) -> datetime:
    """results.json's ``generated_at`` as the document's date (so two renders are alike)."""
    try:
        return datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return datetime(2000, 1, 1, tzinfo=UTC)


def _field(paragraph: Any, instruction: str, shown: str) -> None:
    """A Word field (TOC, SEQ, PAGE) with ``shown`` as its result until Word updates it."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    def char(kind: str) -> Any:
        element = OxmlElement("w:fldChar")
        element.set(qn("w:fldCharType"), kind)
        return element

    paragraph.add_run()._r.append(char("begin"))
    code = OxmlElement("w:instrText")
    code.set(qn("xml:space"), "preserve")
    code.text = f" {instruction} "
    paragraph.add_run()._r.append(code)
    paragraph.add_run()._r.append(char("separate"))
    paragraph.add_run(shown)
    paragraph.add_run()._r.append(char("end"))


def _repeat_header(row: Any) -> None:
    """Repeat the header row on each page a table runs over."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    row._tr.get_or_add_trPr().append(header)


def _markdown(doc: Any, source: str, *, bold: bool = False) -> None:
    """Author Markdown as paragraphs: headings, lists, quotes, emphasis, code; raw HTML as text."""
    from markdown_it import MarkdownIt

    styles: list[str] = []
    heading = 0
    quoted = 0
    for token in MarkdownIt("commonmark", {"html": False}).parse(source):
        if token.type == "bullet_list_open":
            styles.append("List Bullet")
        elif token.type == "ordered_list_open":
            styles.append("List Number")
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            styles.pop()
        elif token.type == "heading_open":
            heading = int(token.tag[1:])
        elif token.type == "heading_close":
            heading = 0
        elif token.type == "blockquote_open":
            quoted += 1
        elif token.type == "blockquote_close":
            quoted -= 1
        elif token.type in ("code_block", "fence"):
            doc.add_paragraph(token.content.rstrip("\n"), style="macro")
        elif token.type == "inline":
            style = (f"Heading {min(heading + 1, 4)}" if heading else
                     styles[-1] if styles else "Quote" if quoted else None)
            _inline(doc.add_paragraph(style=style), token.children or [], bold=bold)


def _inline(paragraph: Any, children: list[Any], *, bold: bool) -> None:
    strong, emphasis = 0, 0
    for child in children:
        if child.type == "strong_open":
            strong += 1
        elif child.type == "strong_close":
            strong -= 1
        elif child.type == "em_open":
            emphasis += 1
        elif child.type == "em_close":
            emphasis -= 1
        elif child.type in ("text", "code_inline", "html_inline", "image"):
            run = paragraph.add_run(child.content)
            run.bold = bold or strong > 0 or None
            run.italic = emphasis > 0 or None
            if child.type == "code_inline":
                run.font.name = "Courier New"
        elif child.type == "softbreak":
            paragraph.add_run(" ")
        elif child.type == "hardbreak":
            paragraph.add_run().add_break()
