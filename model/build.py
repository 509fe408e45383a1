"""Build the Pyomo model: variables over the sparse pair set, then every family in order.

Variables (see `model/families/*` for the constraints):
    x[i,p] ∈ [0, modules_i]   modules of industry i placed at park p, (i,p) ∈ E; integer unless divisible
    stay[i] ∈ [0, modules_i]  modules left at the origin; 0 if must_transfer; integer unless divisible
    y[p] ∈ {0,1}              park p opens (fixed at 1 where open_cost is 0: it is already open)
    w[p,u] ∈ {0,1}            upgrade u of park p is built
    z[s,p] ∈ {0,1}            sector s present at park p (only where a diversity rule needs it)
"""

from __future__ import annotations

from dataclasses import dataclass

import pyomo.environ as pyo

from model.data import Data
from model.families import assign, capacity, cover, diversity, eligibility, limits, link, objective

FAMILIES = (assign, eligibility, link, capacity, cover, limits, diversity, objective)
# Formulation name -> (link variant, with the cover cut). Researchers compare them with `bench`.
FORMULATIONS = {"strong": ("strong", False), "aggregated": ("aggregated", False),
                "strong_cover": ("strong", True)}


@dataclass(frozen=True)
class BuildOptions:
    formulation: str = "strong"
    elastic: bool = False  # every family's rows get penalised slack (the infeasibility diagnosis)

    def __post_init__(self) -> None:
        if self.formulation not in FORMULATIONS:
            raise ValueError(f"unknown formulation {self.formulation!r}; expected one of {list(FORMULATIONS)}")

    @property
    def link(self) -> str:
        return FORMULATIONS[self.formulation][0]

    @property
    def cover(self) -> bool:
        return FORMULATIONS[self.formulation][1]


def build(data: Data, options: BuildOptions | None = None) -> pyo.ConcreteModel:
    """The Pyomo model of `data`; `m.x_list[r]` is x of pair row r of `data.pairs`."""
    options = options or BuildOptions()
    m = pyo.ConcreteModel(name=data.inst.name)
    m.I = pyo.Set(initialize=data.industries, ordered=True, doc="industries")
    m.P = pyo.Set(initialize=data.parks, ordered=True, doc="parks")
    index = list(zip(data.pairs["industry"], data.pairs["park"]))
    m.E = pyo.Set(initialize=index, dimen=2, ordered=True, doc="eligible pairs")

    modules = data.industry["modules"].astype(float).to_dict()
    divisible = data.industry["divisible"].to_dict()
    must = data.industry["must_transfer"].to_dict()

    def domain(i: str) -> object:
        return pyo.NonNegativeReals if divisible[i] else pyo.NonNegativeIntegers

    # The bound is modules_i, not the tighter x_max (used as big-M): capacity rows imply x_max, and
    # keeping it off the bound lets a binding capacity row, not the bound, carry the shadow price.
    m.x = pyo.Var(m.E, domain=lambda m, i, p: domain(i), bounds=lambda m, i, p: (0, modules[i]),
                  doc="modules of i placed at p")
    m.stay = pyo.Var(m.I, domain=lambda m, i: domain(i),
                     bounds=lambda m, i: (0, 0 if must[i] and not options.elastic else modules[i]),
                     doc="modules left at origin")
    m.y = pyo.Var(m.P, domain=pyo.Binary, doc="park opens")
    for p in data.park.index[data.park["already_open"]]:
        m.y[p].fix(1)
    m.UPGRADES = pyo.Set(initialize=list(zip(data.upgrades["park"], data.upgrades["upgrade"])), dimen=2,
                         ordered=True, doc="upgrades (park, upgrade)")
    m.w = pyo.Var(m.UPGRADES, domain=pyo.Binary, doc="upgrade built")
    m.x_list = [m.x[ix] for ix in index]

    for family in FAMILIES:
        family.add(m, data, options)
    return m
