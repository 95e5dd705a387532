"""Reports: a documented template context built from results.json, rendered with Jinja2.

This part reads ``out/results.json`` (and the project's settings, questionnaire
and ``text/*.md``) only; it never runs analysis. See docs/report.md.
"""
