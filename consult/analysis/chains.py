"""Referral chains: recruitment trees rebuilt from codes, cross-region recruitment, waves.

Every function takes the respondents frame as
:func:`consult.store.responses.load_responses` returns it (the columns used
are ``id``, ``referral_code``, ``referred_by``, ``region`` and ``wave``) or the
:class:`RecruitmentTrees` built from it, and returns tidy frames or frozen
dataclasses. Nothing here reads contacts, prints or renders.

How a tree is rebuilt
---------------------
A respondent's *recruiter* is the respondent whose ``referral_code`` equals
their ``referred_by``. Platforms that carry only the respondent's own code in
the link leave ``referred_by`` empty; pass ``code_parents`` (issued code →
parent code, from :func:`consult.store.fielding.code_parents`) and an empty
``referred_by`` is taken from the code's parent. Then:

- no ``referred_by``: a *seed*, the root of a tree (depth 0);
- a ``referred_by`` that is no respondent's code: kept, flagged
  ``unknown_referrer`` and made the root of its own tree (depth 0 counts from it);
- two respondents with the same code: the one with the smaller id recruits;
  both are flagged ``shared_code``;
- recruiters that loop back (A recruited B, B recruited A; or a respondent
  who "recruited" themselves) form a *cycle*: each cycle is reported, its
  members flagged ``in_cycle``, and it is broken at its smallest id, which
  becomes a root, so that every respondent has a depth and a seed.

A respondent's ``depth`` is their distance from the root: the wave in the
referral-tree sense, whatever wave was recorded.

Homophily
---------
Following the R package RDS (Handcock, Gile et al.; ``homophily.estimates``
with ``recruitment = TRUE``, R/homophily.R), for the recruiter → recruit
transition counts :math:`t_{gh}` between groups (here regions), with row sums
:math:`r_g` (recruits made by group *g*), column sums :math:`c_h` (recruits
who are in group *h*) and total :math:`T`, the recruitment homophily is::

    H = Σ_g t_gg / (Σ_g r_g · c_g / T)

observed same-group recruitments divided by those expected if recruits'
groups were independent of their recruiters' groups with the same margins.
H = 1: no homophily; H > 1: people recruit within their own region more than
chance would. Per region we report ``t_gg / (r_g · c_g / T)`` on the same
footing. Only transitions where both regions are known count (as in RDS).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

SEED_RECRUITER = "seed"
"""``recruiter.id`` of seeds in the RDS export: the default ``seed.id`` of RDS's
``rid.from.coupons``. RDS needs one placeholder shared by every seed that is no
respondent's id."""
NOT_STATED = "(not stated)"
"""The group of respondents without a region (as in :mod:`consult.analysis.data`)."""
NODE_COLUMNS = ("id", "referral_code", "referred_by", "region", "wave", "recruiter_id",
                "seed_id", "depth", "recruits", "is_seed", "unknown_referrer", "in_cycle",
                "shared_code")


@dataclass(frozen=True)
class RecruitmentTrees:
    """The rebuilt forest.

    ``nodes`` has one row per respondent, ordered by id:

    ========================  ============================================================
    ``id``                    the respondent's id
    ``referral_code``         their own code (``None`` when missing)
    ``referred_by``           their recruiter's code as recorded or filled from the code's
                              parent (``None`` for seeds)
    ``region``                their region (``None`` when missing)
    ``wave``                  the wave recorded at ingest (``<NA>`` when missing)
    ``recruiter_id``          the recruiter's id (``<NA>`` for a root)
    ``seed_id``               the id of the root of their tree
    ``depth``                 distance from that root (0 for a root)
    ``recruits``              how many respondents they recruited (in the rebuilt tree)
    ``is_seed``               no recruiter was recorded: a seed proper
    ``unknown_referrer``      a recruiter's code was recorded but matches no respondent
    ``in_cycle``              part of a recruitment cycle (broken at its smallest id)
    ``shared_code``           another respondent has the same code
    ========================  ============================================================

    ``cycles``: each cycle's ids, smallest first, in recruitment order.
    """

    nodes: pd.DataFrame
    cycles: tuple[tuple[int, ...], ...]

    @property
    def edges(self) -> pd.DataFrame:
        """One row per recruitment: ``recruiter_id``, ``recruit_id``, ``recruiter_region``,
        ``recruit_region`` (regions ``None`` when missing)."""
        import pandas as pd

        nodes = self.nodes
        region = dict(zip(nodes["id"], nodes["region"], strict=True))
        linked = nodes[nodes["recruiter_id"].notna()]
        return pd.DataFrame({
            "recruiter_id": linked["recruiter_id"].astype(int).to_list(),
            "recruit_id": linked["id"].astype(int).to_list(),
            "recruiter_region": [region[int(r)] for r in linked["recruiter_id"]],
            "recruit_region": linked["region"].to_list(),
        }, columns=["recruiter_id", "recruit_id", "recruiter_region", "recruit_region"])


@dataclass(frozen=True)
class Homophily:
    """Recruitment homophily on a grouping (see the module docstring for the formula).

    ``index`` is ``None`` when no transition has both groups known. ``by_group``
    columns: ``group``, ``recruits_made`` (r_g), ``recruits_in`` (c_g),
    ``same_observed`` (t_gg), ``same_expected`` (r_g·c_g/T), ``ratio``
    (``None`` where nothing is expected).
    """

    index: float | None
    observed_same: int
    expected_same: float
    transitions: int
    by_group: pd.DataFrame


def recruitment_trees(respondents: pd.DataFrame, *,
                      code_parents: Mapping[str, str | None] | None = None) -> RecruitmentTrees:
    """Rebuild the recruitment forest from referral codes (see the module docstring)."""
    import pandas as pd

    frame = respondents.sort_values("id")
    ids = [int(i) for i in frame["id"]]
    code = dict(zip(ids, (_text(v) for v in frame["referral_code"]), strict=True))
    referred = dict(zip(ids, (_text(v) for v in frame["referred_by"]), strict=True))
    if code_parents:
        for rid in ids:
            own = code[rid]
            if referred[rid] is None and own is not None:
                referred[rid] = code_parents.get(own)
    owner: dict[str, int] = {}
    holders: dict[str, int] = {}
    for rid in ids:
        own = code[rid]
        if own is not None:
            owner.setdefault(own, rid)
            holders[own] = holders.get(own, 0) + 1
    parent: dict[int, int] = {}
    unknown: set[int] = set()
    for rid in ids:
        ref = referred[rid]
        if ref is None:
            continue
        if ref in owner:
            parent[rid] = owner[ref]
        else:
            unknown.add(rid)
    cycles = _cycles(ids, parent)
    in_cycle = {rid for cycle in cycles for rid in cycle}
    for cycle in cycles:
        del parent[cycle[0]]
    children: dict[int, list[int]] = {}
    for rid in ids:
        if rid in parent:
            children.setdefault(parent[rid], []).append(rid)
    depth: dict[int, int] = {}
    seed: dict[int, int] = {}
    for root in (rid for rid in ids if rid not in parent):
        stack = [(root, 0)]
        while stack:
            node, level = stack.pop()
            depth[node], seed[node] = level, root
            stack += [(child, level + 1) for child in reversed(children.get(node, []))]
    regions = [_text(v) for v in frame["region"]]
    waves: list[int | None] = ([None if _missing(w) else int(w) for w in frame["wave"]]
                               if "wave" in frame.columns else [None] * len(ids))
    nodes = pd.DataFrame({
        "id": ids,
        "referral_code": [code[rid] for rid in ids],
        "referred_by": [referred[rid] for rid in ids],
        "region": regions,
        "wave": pd.array(waves, dtype="Int64"),
        "recruiter_id": pd.array([parent.get(rid) for rid in ids], dtype="Int64"),
        "seed_id": [seed[rid] for rid in ids],
        "depth": [depth[rid] for rid in ids],
        "recruits": [len(children.get(rid, [])) for rid in ids],
        "is_seed": [referred[rid] is None for rid in ids],
        "unknown_referrer": [rid in unknown for rid in ids],
        "in_cycle": [rid in in_cycle for rid in ids],
        "shared_code": [holders.get(code[rid] or "", 0) > 1 for rid in ids],
    }, columns=list(NODE_COLUMNS))
    return RecruitmentTrees(nodes=nodes, cycles=tuple(cycles))


def recruits_per_seed(trees: RecruitmentTrees) -> pd.DataFrame:
    """One row per tree, largest first.

    Columns: ``seed_id``, ``region`` (the root's), ``root`` (``seed``,
    ``unknown_referrer`` or ``cycle``: why it is a root), ``size`` (respondents
    in the tree, root included), ``recruits`` (size − 1), ``depth`` (the deepest level).
    """
    import pandas as pd

    nodes = trees.nodes
    roots = nodes[nodes["recruiter_id"].isna()]
    grouped = nodes.groupby("seed_id").agg(size=("id", "size"), depth=("depth", "max"))
    rows = [{
        "seed_id": int(root.id),
        "region": root.region,
        "root": ("unknown_referrer" if root.unknown_referrer
                 else "cycle" if root.in_cycle else "seed"),
        "size": int(grouped.loc[root.id, "size"]),
        "recruits": int(grouped.loc[root.id, "size"]) - 1,
        "depth": int(grouped.loc[root.id, "depth"]),
    } for root in roots.itertuples()]
    columns = ["seed_id", "region", "root", "size", "recruits", "depth"]
    table = pd.DataFrame(rows, columns=columns)
    return table.sort_values(["size", "seed_id"], ascending=[False, True]).reset_index(drop=True)


def recruits_per_respondent(trees: RecruitmentTrees) -> pd.DataFrame:
    """How many respondents recruited 0, 1, 2 ... others.

    Columns: ``recruits``, ``respondents``, ``share`` (of all respondents).
    """
    import pandas as pd

    counts = trees.nodes["recruits"].value_counts().sort_index()
    total = int(counts.sum())
    return pd.DataFrame({
        "recruits": [int(k) for k in counts.index],
        "respondents": [int(v) for v in counts.to_list()],
        "share": [int(v) / total for v in counts.to_list()],
    }, columns=["recruits", "respondents", "share"])


def longest_chain(trees: RecruitmentTrees) -> tuple[int, ...]:
    """The ids from a root down to the deepest respondent (ties: the smallest ids)."""
    nodes = trees.nodes
    if nodes.empty:
        return ()
    deepest = nodes.sort_values(["depth", "id"], ascending=[False, True]).iloc[0]
    recruiter = dict(zip(nodes["id"], nodes["recruiter_id"], strict=True))
    chain = [int(deepest["id"])]
    while not _missing(recruiter[chain[-1]]):
        chain.append(int(recruiter[chain[-1]]))
    return tuple(reversed(chain))


def transition_matrix(trees: RecruitmentTrees) -> pd.DataFrame:
    """Recruiter region (rows) × recruit region (columns): counts of recruitments.

    Rows and columns are every region a respondent has, sorted; recruitments
    with either region missing are left out (as RDS's ``count.transitions``).
    """
    import pandas as pd

    regions = sorted({r for r in trees.nodes["region"] if r is not None})
    matrix = pd.DataFrame(0, index=pd.Index(regions, name="recruiter_region"),
                          columns=pd.Index(regions, name="recruit_region"), dtype="int64")
    edges = trees.edges
    # Count first, then fill: one .loc write per recruitment is slow on large samples.
    counts = Counter((g, h) for g, h in zip(edges["recruiter_region"], edges["recruit_region"],
                                             strict=True) if g is not None and h is not None)
    for (g, h), n in counts.items():
        matrix.loc[g, h] = n
    return matrix


def homophily(trees: RecruitmentTrees) -> Homophily:
    """Recruitment homophily on region (the RDS definition; see the module docstring)."""
    import pandas as pd

    matrix = transition_matrix(trees)
    total = int(matrix.to_numpy().sum())
    made = matrix.sum(axis=1)
    received = matrix.sum(axis=0)
    rows = []
    for group in matrix.index:
        expected = float(made[group] * received[group] / total) if total else 0.0
        observed = int(matrix.loc[group, group])
        rows.append({"group": group, "recruits_made": int(made[group]),
                     "recruits_in": int(received[group]), "same_observed": observed,
                     "same_expected": expected,
                     "ratio": observed / expected if expected else None})
    by_group = pd.DataFrame(rows, columns=["group", "recruits_made", "recruits_in",
                                           "same_observed", "same_expected", "ratio"])
    observed_same = int(sum(r["same_observed"] for r in rows))
    expected_same = float(sum(r["same_expected"] for r in rows))
    return Homophily(index=observed_same / expected_same if expected_same else None,
                     observed_same=observed_same, expected_same=expected_same,
                     transitions=total, by_group=by_group)


def composition_by_wave(trees: RecruitmentTrees) -> pd.DataFrame:
    """The regional mix of each wave (depth) and of all waves up to it.

    One row per wave × region (zeros included), for a convergence figure: does
    the mix settle as waves go on? Columns: ``wave``, ``region`` (``(not
    stated)`` when missing), ``n``, ``share`` (of the wave), ``cumulative_n``,
    ``cumulative_share`` (of waves 0..wave).
    """
    import pandas as pd

    nodes = trees.nodes
    regions = sorted({r if r is not None else NOT_STATED for r in nodes["region"]})
    waves = sorted({int(d) for d in nodes["depth"]})
    counts: dict[tuple[int, str], int] = {}
    for depth, region in zip(nodes["depth"], nodes["region"], strict=True):
        key = (int(depth), region if region is not None else NOT_STATED)
        counts[key] = counts.get(key, 0) + 1
    rows = []
    cumulative = dict.fromkeys(regions, 0)
    for wave in waves:
        in_wave = sum(counts.get((wave, r), 0) for r in regions)
        for region in regions:
            cumulative[region] += counts.get((wave, region), 0)
        so_far = sum(cumulative.values())
        for region in regions:
            n = counts.get((wave, region), 0)
            rows.append({"wave": wave, "region": region, "n": n,
                         "share": n / in_wave if in_wave else 0.0,
                         "cumulative_n": cumulative[region],
                         "cumulative_share": cumulative[region] / so_far if so_far else 0.0})
    return pd.DataFrame(rows, columns=["wave", "region", "n", "share", "cumulative_n",
                                       "cumulative_share"])


def rds_table(trees: RecruitmentTrees,
              network_size: Mapping[int, float | None] | None = None) -> pd.DataFrame:
    """The table R's RDS package reads with ``as.rds.data.frame``.

    Columns: ``id``; ``recruiter.id`` (the recruiter's id as text, or
    :data:`SEED_RECRUITER` for every root: seeds, respondents whose recruiter
    is unknown, and each cycle's breaking point); ``network.size`` only when
    ``network_size`` is given (``id → size``; missing ones empty); ``wave``
    (the rebuilt depth); ``seed`` (the root's id).
    """
    import pandas as pd

    nodes = trees.nodes
    table = pd.DataFrame({
        "id": nodes["id"].astype(int).to_list(),
        "recruiter.id": [SEED_RECRUITER if _missing(r) else str(int(r))
                         for r in nodes["recruiter_id"]],
    })
    if network_size is not None:
        table["network.size"] = pd.array([network_size.get(int(i)) for i in nodes["id"]],
                                         dtype="Float64")
    table["wave"] = nodes["depth"].astype(int).to_list()
    table["seed"] = nodes["seed_id"].astype(int).to_list()
    return table


def chain_summary(respondents: pd.DataFrame, *,
                  code_parents: Mapping[str, str | None] | None = None) -> dict[str, Any]:
    """Everything above as JSON-ready values, for Python callers and checks.

    It names respondents by id (``longest_chain``, ``tree`` ...), so it is
    never written to results.json: :func:`consult.analysis.chains_section.chains_section`
    makes the published, protected aggregates.

    Keys: ``respondents``, ``seeds``, ``trees``, ``max_depth``,
    ``longest_chain`` (ids), ``unknown_referrers`` (ids), ``cycles`` (lists of
    ids), ``shared_codes`` (ids), ``wave_mismatches`` (ids whose recorded wave
    differs from their depth), ``recruits_per_seed`` and
    ``recruits_per_respondent`` (records of the frames above),
    ``mean_recruits``, ``transitions`` (``regions`` and ``counts``, rows =
    recruiters), ``homophily`` (``index``, ``observed_same``,
    ``expected_same``, ``transitions``, ``by_region`` records),
    ``composition_by_wave`` (records) and ``tree`` (one record per respondent:
    ``id``, ``recruiter_id``, ``seed_id``, ``depth``, ``region``; for a tree figure).
    """
    trees = recruitment_trees(respondents, code_parents=code_parents)
    nodes = trees.nodes
    matrix = transition_matrix(trees)
    h = homophily(trees)
    wave_known = nodes[nodes["wave"].notna()]
    return {
        "respondents": len(nodes),
        "seeds": int(nodes["is_seed"].sum()),
        "trees": int(nodes["recruiter_id"].isna().sum()),
        "max_depth": int(nodes["depth"].max()) if len(nodes) else 0,
        "longest_chain": list(longest_chain(trees)),
        "unknown_referrers": _ids(nodes, "unknown_referrer"),
        "cycles": [list(cycle) for cycle in trees.cycles],
        "shared_codes": _ids(nodes, "shared_code"),
        "wave_mismatches": [int(i) for i, w, d in zip(wave_known["id"], wave_known["wave"],
                                                       wave_known["depth"], strict=True)
                            if int(w) != int(d)],
        "recruits_per_seed": _records(recruits_per_seed(trees)),
        "recruits_per_respondent": _records(recruits_per_respondent(trees)),
        "mean_recruits": float(nodes["recruits"].mean()) if len(nodes) else None,
        "transitions": {"regions": [str(r) for r in matrix.index],
                        "counts": [[int(v) for v in row] for row in matrix.to_numpy()]},
        "homophily": {"index": h.index, "observed_same": h.observed_same,
                      "expected_same": h.expected_same, "transitions": h.transitions,
                      "by_region": _records(h.by_group.rename(columns={"group": "region"}))},
        "composition_by_wave": _records(composition_by_wave(trees)),
        "tree": [{"id": int(n.id), "recruiter_id": None if _missing(n.recruiter_id)
                  else int(n.recruiter_id), "seed_id": int(n.seed_id), "depth": int(n.depth),
                  "region": n.region} for n in nodes.itertuples()],
    }


# --------------------------------------------------------------------------- helpers


def _cycles(ids: list[int], parent: dict[int, int]) -> list[tuple[int, ...]]:
    """Cycles of the recruiter relation, each rotated to start at its smallest id."""
    state: dict[int, int] = {}  # 1: on the current path, 2: done
    cycles: list[tuple[int, ...]] = []
    for start in ids:
        path: list[int] = []
        position: dict[int, int] = {}
        node: int | None = start
        while node is not None and node not in state:
            state[node] = 1
            position[node] = len(path)
            path.append(node)
            node = parent.get(node)
        if node is not None and state.get(node) == 1:
            # path runs recruit → recruiter; report the cycle in recruitment order.
            loop = list(reversed(path[position[node]:]))
            first = loop.index(min(loop))
            cycles.append(tuple(loop[first:] + loop[:first]))
        for step in path:
            state[step] = 2
    return cycles


def _text(value: Any) -> str | None:
    if value is None or _missing(value):
        return None
    text = str(value).strip()
    return text or None


def _missing(value: Any) -> bool:
    import pandas as pd

    return value is None or bool(pd.isna(value))


def _ids(nodes: pd.DataFrame, flag: str) -> list[int]:
    return [int(i) for i in nodes.loc[nodes[flag], "id"]]


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts of plain Python values (NaN → None)."""
    records = []
    for row in frame.to_dict(orient="records"):
        records.append({str(k): _plain(v) for k, v in row.items()})
    return records


def _plain(value: Any) -> Any:
    if _missing(value):
        return None
    if hasattr(value, "item"):
        return value.item()
    return value
