"""How the model is built: the formulation and whether it is elastic. Plain data, no solver."""

from __future__ import annotations

from dataclasses import dataclass

# Formulation name -> (link variant, with the cover cut). Researchers compare them with `bench`.
FORMULATIONS = {"strong": ("strong", False), "aggregated": ("aggregated", False),
                "strong_cover": ("strong", True)}


@dataclass(frozen=True)
class BuildOptions:
    formulation: str = "strong"
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
