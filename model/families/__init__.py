"""Constraint families: one module each, each with `add(m, data, options)` and its math above it.

`model/build.py` calls them in the order of `FAMILIES`. Every Pyomo component a family creates is
named as the concept is named in the YAML, the results and the docs.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyomo.environ as pyo
from pyomo.core.expr.numeric_expr import LinearExpression


def linear(coefs: Sequence[float] | np.ndarray, variables: Sequence[pyo.Var], constant: float = 0.0
           ) -> LinearExpression:
    """Σ coef·var as one LinearExpression, zero coefficients dropped (faster than `sum()`)."""
    c = np.asarray(coefs, dtype=float)
    keep = np.flatnonzero(c)
    return LinearExpression(constant=float(constant), linear_coefs=c[keep].tolist(),
                            linear_vars=[variables[k] for k in keep])
