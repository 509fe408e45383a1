"""How the model is built: the formulation and whether it is elastic. Plain data, no solver."""

from __future__ import annotations

from dataclasses import dataclass

# Formulation name -> (link variant, with the cover cut, with the sector capacity cut). Researchers
# compare them with `bench`. `tight` (the default) is `strong` with the sector capacity cut of
# `model/families/diversity.py`: the same optimum, a smaller search tree (benchmarks/china_sweep.py).
FORMULATIONS = {"tight": ("strong", False, True), "strong": ("strong", False, False),
                "aggregated": ("aggregated", False, False), "strong_cover": ("strong", True, False)}
DEFAULT_FORMULATION = "tight"


@dataclass(frozen=True)
class BuildOptions:
    formulation: str = DEFAULT_FORMULATION
    elastic: bool = False  # every relaxable row gets penalised slack (the infeasibility diagnosis)

    def __post_init__(self) -> None:
        if self.formulation not in FORMULATIONS:
            raise ValueError(f"unknown formulation {self.formulation!r}; expected one of {list(FORMULATIONS)}")

    @property
    def link(self) -> str:
        return FORMULATIONS[self.formulation][0]

    @property
    def cover(self) -> bool:
        return FORMULATIONS[self.formulation][1]

    @property
    def sector_capacity(self) -> bool:
        return FORMULATIONS[self.formulation][2]
