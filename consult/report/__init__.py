"""Reports: a documented template context built from results.json, rendered to HTML, PDF,
Markdown (Jinja2 templates) and Word (python-docx).

This part reads ``out/results.json`` (and the project's settings, questionnaire
and ``text/*.md``) only; it never runs analysis. Modules: ``model`` (the context's
dataclasses), ``context`` (building it), ``tables``, ``sections``, ``practices``,
``instrument`` and ``chains`` (its parts), ``refs`` (numbering, cross-references),
``figures`` (matplotlib), ``formats`` and ``strings`` (wording per language),
``render`` (Jinja2, WeasyPrint), ``word`` (DOCX), ``reference`` (docs/report-context.md).
See docs/report.md.
"""
