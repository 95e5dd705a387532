"""Analysis: every number a report may show, computed once and handed over as results.json.

Modules: :mod:`~consult.analysis.percent` (percentages without float
surprises), :mod:`~consult.analysis.disclosure` (small-cell suppression),
:mod:`~consult.analysis.stats` (tests of association; the one module that
calls pingouin), :mod:`~consult.analysis.data` (the loaded frames, made tidy),
:mod:`~consult.analysis.sample` (who answered), :mod:`~consult.analysis.closed`
(closed items overall and by group) and :mod:`~consult.analysis.run` (load,
analyse, write). Analysis never prints and never renders.
"""
