"""Solver adapters: options, a solve that never raises on a bad outcome, and its status."""

from solvers.options import SolveOptions
from solvers.run import SolveResult, SolverNotFound, lp_duals, solve

__all__ = ["SolveOptions", "SolveResult", "SolverNotFound", "lp_duals", "solve"]
