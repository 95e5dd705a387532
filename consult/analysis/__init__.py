"""Analysis: every number a report may show, computed once and handed over as results.json.

Closed answers (issue 4): :mod:`~consult.analysis.percent` (percentages
without float surprises), :mod:`~consult.analysis.disclosure` (small-cell
suppression), :mod:`~consult.analysis.stats` (tests and intervals; the one
module that calls pingouin), :mod:`~consult.analysis.data` (conditions,
groupings, the data fingerprint), :mod:`~consult.analysis.sample` (who
answered), :mod:`~consult.analysis.closed` (items overall),
:mod:`~consult.analysis.crossed` (items by group, with their tests) and
:mod:`~consult.analysis.run` (load, analyse, write). Referral chains live in
:mod:`~consult.analysis.chains`. Analysis never prints and never renders.
"""
