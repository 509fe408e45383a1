"""The family registry: the one list that names the constraint families (`FAMILIES`).

A family is a module (see docs/adding-a-family.md) with
    NAME                  its name
    add(problem, data, options)     its variables and rows, as blocks over the pair table
and, as it needs them,
    RULES                 rule schema classes (pydantic, `kind: Literal[...]`) it owns
    RELAX                 {relaxation name: default weight} of the rows it marks relaxable
    KPIS                  KPIs it defines (`model.kpis.Kpi`)
    TRANSFERS, transfers(problem, data, t), check_transfers(ctx)   amounts it moves between
                          jurisdictions (`model/transfers.py`), and decided(problem, data) for those
                          the model decides (`Plan.transfers`)
    validate(rule, path, refs)      checks of its rules across sections (refs: see `model/validate.py`)
    check(ctx)            the independent check of a plan: plain data in, violations out
    rows(ctx)             its rows of the results: {"limits.csv" | "parks.csv" | own table: [row dicts]}
    describe(inst, relax, label, amount)   the diagnosis's sentence for one relaxed row
Everything else is derived from this list: the `Rule` union of the schema, `RULE_KINDS`, the
diagnosis's relaxations and default weights, the KPI registry's extra KPIs, the help texts.
`register` adds a family defined elsewhere (a plug-in, or a test).
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from model import schema
from model.families import (
    assign,
    capacity,
    capacity_replacement,
    carbon_trade,
    cover,
    diversity,
    eco_compensation,
    enclave,
    forbid,
    limit,
    link,
    objective,
    participation,
    supply_chain,
    transfer_target,
)

# carbon_trade before limit (a traded cap's row reads its allowances); participation after every
# family with transfers (its rows count them); objective last (it sums every family's KPIs).
FAMILIES: list[ModuleType] = [assign, forbid, link, capacity, cover, carbon_trade, limit, transfer_target, diversity,
                              capacity_replacement, supply_chain, enclave, eco_compensation, participation, objective]


def rule_classes() -> list[type]:
    return [cls for f in FAMILIES for cls in getattr(f, "RULES", ())]


def rule_kinds() -> dict[str, type]:
    """Rule kind (the YAML `kind:`) -> its schema class."""
    return {cls.model_fields["kind"].annotation.__args__[0]: cls for cls in rule_classes()}


def family_of_rule(kind: str) -> ModuleType:
    return next(f for f in FAMILIES if any(c.model_fields["kind"].annotation.__args__[0] == kind
                                           for c in getattr(f, "RULES", ())))


def relaxations() -> dict[str, float]:
    """Relaxation name -> default weight in the diagnosis, in the families' order."""
    return {name: w for f in FAMILIES for name, w in getattr(f, "RELAX", {}).items()}


def family_of_relaxation(name: str) -> ModuleType:
    return next(f for f in FAMILIES if name in getattr(f, "RELAX", {}))


def family_kpis() -> tuple[Any, ...]:
    return tuple(k for f in FAMILIES for k in getattr(f, "KPIS", ()))


def register(family: ModuleType) -> None:
    """Add a family (before the objective, which sums the KPIs every family defines)."""
    if not hasattr(family, "NAME") or not callable(getattr(family, "add", None)):
        raise TypeError("a family needs NAME and add(problem, data, options)")
    if any(f.NAME == family.NAME for f in FAMILIES):
        raise ValueError(f"a family named {family.NAME!r} is registered already")
    taken = set(rule_kinds())
    new = {cls.model_fields["kind"].annotation.__args__[0] for cls in getattr(family, "RULES", ())}
    if taken & new:
        raise ValueError(f"rule kinds {sorted(taken & new)} are taken")
    clash = set(relaxations()) & set(getattr(family, "RELAX", {}))
    if clash:
        raise ValueError(f"relaxation names {sorted(clash)} are taken")
    from model.kpis import registry

    clash = set(registry()) & {k.name for k in getattr(family, "KPIS", ())}
    if clash:
        raise ValueError(f"KPI names {sorted(clash)} are taken")
    FAMILIES.insert(FAMILIES.index(objective), family)
    _changed()


def unregister(family: ModuleType) -> None:
    FAMILIES.remove(family)
    _changed()


def _changed() -> None:
    from model.kpis import registry

    registry.cache_clear()
    schema.use_rules(rule_classes())


schema.use_rules(rule_classes())
