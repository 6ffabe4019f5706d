"""The claims ledger: every checkable claim of the five documents, as data (``claims/<paper>.yaml``).

One file per paper::

    paper: 004_b5b197064a80ecd0.txt
    claims:
      - id: 004-t1-sig-all-modes          # unique over all files
        quote: "SIG captures all the modes"
        where: "004 §5.2, Table 1"
        job: sig-table1                    # a job id (not an alias)
        metric: modes                      # a metric of that job (``near``: metrics: [w1, w2])
        cells: [{method: sig}]             # method / dataset / axis values; omitted dims: see below
        rule: {kind: at_least, value: 25, every_run: true}
        scale: cpu                         # smallest scale whose records may decide it (default cpu)
        note: "..."                        # optional: a disagreement and its evidence, printed with the verdict
        contradiction: "..."               # optional: where the document contradicts itself (its own note)

A statement no job can test: ``rule: {kind: untested, reason: no-data|needs-gpu|by-eye|no-job, why: "..."}``
(``job`` optional). ``{kind: by_eye, reason: "..."}`` is the older spelling of reason by-eye.

A cell names values of the job's dimensions (method, dataset, grid axes). A dimension left out takes the
grid's only value, else its first one (the convention of the spec's ``paper_values``); axes in the table's
``best_over`` (003's learning-rate pairs) are never named: the cell is the best setting, as in the table.

Validation names the claim and the field in one line (:class:`ClaimError`); :func:`check_against_specs`
checks every job, metric and cell against the specs.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .. import paths
from ..spec import SCALES, Spec, SpecError, load_spec, parse_value

RULES = {
    # kind: (number of cells: exact int, or (min, None), whether it compares with the paper's number)
    "within_error": (1, True),
    "near": (1, True),
    "less_than": (2, False),
    "greater_than": (2, False),
    "ordering": ((2, None), False),
    "best_of": ((2, None), False),
    "at_least": ((1, None), False),
    "at_most": ((1, None), False),
    "label": ((1, None), False),
    "ks_test": ((1, None), False),
    "untested": ((0, None), False),
    "by_eye": ((0, None), False),
}
UNTESTED_REASONS = ("no-data", "needs-gpu", "by-eye", "no-job")  # declared by an `untested` rule
RULE_KEYS = {
    "within_error": {"k", "tol", "min_n", "value"},
    "near": {"point", "tol"},
    "less_than": set(),
    "greater_than": set(),
    "ordering": {"direction"},
    "best_of": {"direction"},
    "at_least": {"value", "every_run"},
    "at_most": {"value", "every_run"},
    "label": {"threshold", "below", "above", "expect"},
    "ks_test": {"samples"},
    "untested": {"reason", "why"},
    "by_eye": {"reason", "figure"},
}
NO_METRIC = ("untested", "by_eye")  # kinds that read no records
CLAIM_KEYS = {"id", "quote", "where", "job", "metric", "metrics", "cells", "rule", "scale", "note", "kind",
              "contradiction"}


class ClaimError(ValueError):
    """A claim that cannot be checked: one line naming the claim and the field."""


@dataclass
class Claim:
    id: str
    paper: str
    quote: str
    where: str
    job: str | None
    metrics: list[str]
    cells: list[dict]
    rule: dict
    scale: str = "cpu"
    note: str | None = None
    contradiction: str | None = None
    source: Path | None = None
    extra: dict = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return self.rule["kind"]

    @property
    def absolute(self) -> bool:
        """Compares with the paper's number (meaningless on stand-in data or an uncalibrated extractor)."""
        return RULES[self.kind][1]

    @property
    def metric(self) -> str | None:
        return self.metrics[0] if self.metrics else None

    @property
    def declared_untested(self) -> str | None:
        """The reason of an ``untested`` (or ``by_eye``) rule, else None."""
        return {"untested": self.rule.get("reason"), "by_eye": "by-eye"}.get(self.kind)


def _fail(where: str, cid: str, fld: str, what: str) -> ClaimError:
    return ClaimError(f"{where}: claim '{cid}': field '{fld}': {what}")


def parse_claim(raw: dict, paper: str, where: str, source: Path | None = None) -> Claim:
    """Schema check of one claim (no spec lookups)."""
    cid = str(raw.get("id") or "?") if isinstance(raw, dict) else "?"
    if not isinstance(raw, dict):
        raise _fail(where, cid, "claims", f"expected a mapping, got {type(raw).__name__}")
    rule = raw.get("rule")
    no_job = isinstance(rule, dict) and rule.get("kind") == "untested"
    for key in ("id", "quote", "where", "rule") + (() if no_job else ("job",)):
        if not raw.get(key):
            raise _fail(where, cid, key, "missing")
    unknown = set(raw) - CLAIM_KEYS
    if unknown:
        raise _fail(where, cid, sorted(unknown)[0], f"unknown field; allowed: {', '.join(sorted(CLAIM_KEYS))}")
    if not isinstance(rule, dict) or rule.get("kind") not in RULES:
        raise _fail(where, cid, "rule.kind", f"must be one of {', '.join(RULES)} (got {rule!r})")
    bad = set(rule) - RULE_KEYS[rule["kind"]] - {"kind"}
    if bad:
        raise _fail(where, cid, f"rule.{sorted(bad)[0]}", f"not an option of {rule['kind']}; allowed: "
                    f"{', '.join(sorted(RULE_KEYS[rule['kind']]))}")
    metrics = raw.get("metrics") or ([raw["metric"]] if raw.get("metric") else [])
    if rule["kind"] not in NO_METRIC and not metrics:
        raise _fail(where, cid, "metric", "missing")
    if rule["kind"] not in ("near", "within_error") and len(metrics) > 1:
        raise _fail(where, cid, "metrics", "only the rules near and within_error take several metrics")
    if rule["kind"] == "within_error" and len(metrics) > 1 and "value" in rule:
        raise _fail(where, cid, "rule.value", "one value for several metrics: leave it out (the spec's paper_values)")
    cells = raw.get("cells") or []
    if not isinstance(cells, list) or not all(isinstance(c, dict) for c in cells):
        raise _fail(where, cid, "cells", "expected a list of mappings such as {method: sig}")
    arity, _ = RULES[rule["kind"]]
    lo, hi = (arity, arity) if isinstance(arity, int) else arity
    if len(cells) < lo or (hi is not None and len(cells) > hi):
        want = f"exactly {lo}" if lo == hi else f"at least {lo}"
        raise _fail(where, cid, "cells", f"rule {rule['kind']} takes {want} cell(s), got {len(cells)}")
    scale = raw.get("scale", "cpu")
    if scale not in SCALES:
        raise _fail(where, cid, "scale", f"must be one of {', '.join(SCALES)}")
    kind = rule["kind"]
    if kind == "near":
        point, tol = rule.get("point"), rule.get("tol")
        if not isinstance(point, list) or len(point) != len(metrics):
            raise _fail(where, cid, "rule.point", f"needs one number per metric ({len(metrics)})")
        if tol is None:
            raise _fail(where, cid, "rule.tol", "missing (the tolerance per coordinate, stated in the claim)")
    if kind in ("at_least", "at_most") and not isinstance(rule.get("value"), (int, float)):
        raise _fail(where, cid, "rule.value", "missing or not a number")
    if kind == "ks_test" and not (isinstance(rule.get("samples"), int) and rule["samples"] > 0):
        raise _fail(where, cid, "rule.samples", "missing or not a positive integer (the draws each KS statistic is over)")
    if kind == "untested":
        if rule.get("reason") not in UNTESTED_REASONS:
            raise _fail(where, cid, "rule.reason", f"must be one of {', '.join(UNTESTED_REASONS)} (got {rule.get('reason')!r})")
        if not str(rule.get("why") or "").strip():
            raise _fail(where, cid, "rule.why", "missing: say in words why no job can test it")
    if kind == "label":
        for key in ("threshold", "below", "above", "expect"):
            if key not in rule:
                raise _fail(where, cid, f"rule.{key}", "missing")
        if rule["expect"] not in (rule["below"], rule["above"]):
            raise _fail(where, cid, "rule.expect", f"must be '{rule['below']}' or '{rule['above']}'")
    if kind in ("ordering", "best_of") and rule.get("direction", "lower") not in ("lower", "higher"):
        raise _fail(where, cid, "rule.direction", "must be lower or higher")
    if kind == "within_error" and "value" in rule:
        try:
            if parse_value(rule["value"])[0] is None:
                raise SpecError("null")
        except SpecError:
            raise _fail(where, cid, "rule.value", f"{rule['value']!r} is not 'mean' or 'mean ± std'") from None
    text = lambda key: " ".join(str(raw[key]).split()) if raw.get(key) else None  # noqa: E731
    return Claim(id=str(raw["id"]), paper=paper, quote=text("quote"), where=str(raw["where"]),
                 job=str(raw["job"]) if raw.get("job") else None, metrics=[str(m) for m in metrics],
                 cells=[dict(c) for c in cells], rule=dict(rule), scale=scale, note=text("note"),
                 contradiction=text("contradiction"), source=source)


def load_file(path: Path) -> list[Claim]:
    try:
        data = yaml.safe_load(Path(path).read_text())
    except yaml.YAMLError as err:
        raise ClaimError(f"{Path(path).name}: not valid YAML: {err}".replace("\n", " ")) from None
    if not isinstance(data, dict) or not data.get("paper") or not isinstance(data.get("claims"), list):
        raise ClaimError(f"{Path(path).name}: expected 'paper: <seed file>' and 'claims: [...]'")
    return [parse_claim(raw, str(data["paper"]), Path(path).name, Path(path)) for raw in data["claims"]]


def load_claims(claims_dir: Path | None = None) -> list[Claim]:
    """Every claim of every ``*.yaml`` in the claims folder, in file order; duplicate ids are an error."""
    folder = Path(claims_dir or paths.claims_dir())
    claims: list[Claim] = []
    seen: dict[str, str] = {}
    for path in sorted(folder.glob("*.yaml")):
        for claim in load_file(path):
            if claim.id in seen:
                raise ClaimError(f"{path.name}: claim '{claim.id}': field 'id': duplicate (also in {seen[claim.id]})")
            seen[claim.id] = path.name
            claims.append(claim)
    return claims


def _spec_values(spec: Spec, dim: str) -> list[str]:
    if dim in ("method", "dataset"):
        return [str(v) for v in spec.grid[dim + "s"]]
    return [str(v) for v in spec.axes[dim]]


def resolve_cell(spec: Spec, cell: dict) -> dict[str, str]:
    """Cell -> every cell dimension's value (as strings); omitted dims take the grid's first value."""
    out = {}
    for dim in spec.cell_dims():
        values = _spec_values(spec, dim)
        out[dim] = str(cell[dim]) if dim in cell else values[0]
    return out


def check_claim(claim: Claim, specs: dict[str, Spec]) -> None:
    """Every job, metric and cell the claim names exists in the specs; else ClaimError naming the field."""
    where = claim.source.name if claim.source else claim.paper
    if claim.job is None:  # an untested rule without a job
        return
    spec = specs.get(claim.job)
    if spec is None:
        raise _fail(where, claim.id, "job", f"no job '{claim.job}' in the specs (`repro list`)")
    for metric in claim.metrics:
        if metric not in spec.metric_names:
            raise _fail(where, claim.id, "metric", f"job {claim.job} has no metric '{metric}' "
                        f"(has: {', '.join(spec.metric_names) or 'none'})")
    for i, cell in enumerate(claim.cells):
        for dim, value in cell.items():
            if dim not in spec.dims():
                raise _fail(where, claim.id, f"cells[{i}].{dim}", f"job {claim.job} has no dimension '{dim}' "
                            f"(has: {', '.join(spec.cell_dims())})")
            if dim in spec.best_over:
                raise _fail(where, claim.id, f"cells[{i}].{dim}", f"'{dim}' is a best_over axis of {claim.job}: "
                            "the cell is the best setting; leave it out")
            if str(value) not in _spec_values(spec, dim):
                raise _fail(where, claim.id, f"cells[{i}].{dim}", f"job {claim.job} has no {dim} '{value}' "
                            f"(has: {', '.join(_spec_values(spec, dim))})")
    if claim.kind == "within_error" and "value" not in claim.rule:
        from ..aggregate import paper_lookup

        for metric in claim.metrics:
            key = tuple(resolve_cell(spec, claim.cells[0])[d] for d in spec.cell_dims()) + (metric,)
            if parse_value(paper_lookup(spec).get(key))[0] is None:
                raise _fail(where, claim.id, "rule.value", f"job {claim.job} has no paper value for this cell and "
                            f"metric {metric}; give one in the rule ('mean ± std')")


def specs_by_id(jobs_dir: Path | None = None) -> dict[str, Spec]:
    folder = Path(jobs_dir or paths.jobs_dir())
    specs = {}
    for path in sorted(folder.glob("*.yaml")):
        try:
            spec = load_spec(path)
        except SpecError:
            continue  # an invalid spec is reported by `repro list`; its claims then fail on 'job'
        specs[spec.id] = spec
    return specs


def check_against_specs(claims: list[Claim], specs: dict[str, Spec]) -> list[str]:
    """One line per claim that names a missing job, metric or cell (empty when all are fine)."""
    problems = []
    for claim in claims:
        try:
            check_claim(claim, specs)
        except ClaimError as err:
            problems.append(str(err))
    return problems
