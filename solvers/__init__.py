"""Solver adapters: a problem in arrays, two back-ends, options, a solve that never raises on a bad
outcome, and its status. Nothing here knows the model's meaning."""

from solvers.options import SolveOptions
from solvers.problem import Lin, Problem
from solvers.result import SolveResult, SolverNotFound
from solvers.run import iis, solve

__all__ = ["Lin", "Problem", "SolveOptions", "SolveResult", "SolverNotFound", "iis", "solve"]
