"""Data flows down: no module imports, at module level, a module of a layer above its own.

The layers, bottom up (a module may import its own layer and those below):
    solvers: options, result, control, problem, silent  →  the back-ends and the run  (nothing of model/)
    errors, plan, options, periods  →  schema → selectors → kpis → tables  →  the families and their registry
    →  pairtable  →  loader, validate, the package (`load`)  →  data, labels  →  assemble, heuristic  →  check
    →  results, timeline, ledger
    →  report, outputs  →  run  →  the commands' modules (diagnose, sweep, pareto, compare, explain, ...)  →  cli
Imports inside functions (deferred: the command line starts without the model) and under
`TYPE_CHECKING` (type hints only) are not dependencies of the module and are not counted.
`python tests/test_layers.py` prints the graph.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

LAYERS = [
    ["solvers.options", "solvers.result", "solvers.control", "solvers.problem", "solvers.silent"],
    ["solvers.highs_direct", "solvers.pyomo_backend", "solvers.kernel", "solvers.lpbound"],
    ["solvers.run", "solvers"],
    ["model.errors", "model.plan", "model.options", "model.periods"],
    ["model.schema"],
    ["model.selectors", "model.jurisdictions"],
    ["model.kpis"],
    ["model.tables", "model.transfers"],
    ["model.families.*"],
    ["model.families"],
    ["model.pairtable"],
    ["model.loader"],
    ["model.validate"],
    ["model"],
    ["model.data", "model.labels", "model.lagrange"],
    ["model.colgen"],
    ["model.assemble", "model.heuristic"],
    ["model.check"],
    ["model.results", "model.timeline", "model.ledger"],
    ["model.report", "model.outputs"],
    ["model.run"],
    ["model.*"],
    ["cli"],
]


def layer(module: str) -> int:
    for n, names in enumerate(LAYERS):
        if module in names:
            return n
    for n, names in enumerate(LAYERS):
        if any(name.endswith(".*") and module.startswith(name[:-1]) and module.count(".") == name.count(".")
               for name in names):
            return n
    raise KeyError(module)


def modules() -> dict[str, Path]:
    out = {"cli": ROOT / "cli.py"}
    for package in ("model", "solvers"):
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def imports(path: Path, known: set[str]) -> set[str]:
    """Our modules imported at module level (not in functions, not under TYPE_CHECKING)."""
    found: set[str] = set()

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                continue
            if isinstance(node, ast.Import):
                found.update(a.name for a in node.names if a.name.split(".")[0] in ("model", "solvers", "cli"))
            elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in ("model", "solvers"):
                for a in node.names:  # `from model import kpis` imports the module model.kpis
                    found.add(f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in known else node.module)
            elif isinstance(node, (ast.If, ast.Try, ast.With)):
                visit(node.body)
                visit(getattr(node, "orelse", []))

    visit(ast.parse(path.read_text(encoding="utf-8")).body)
    return found


def graph() -> dict[str, set[str]]:
    mods = modules()
    return {name: imports(path, set(mods)) for name, path in sorted(mods.items())}


def test_no_module_imports_one_above_it():
    climbs = [f"{a} (layer {layer(a)}) imports {b} (layer {layer(b)})"
              for a, deps in graph().items() for b in deps if layer(b) > layer(a)]
    assert not climbs, "\n".join(climbs)


def test_the_solver_layer_knows_nothing_of_the_model():
    assert not [(a, b) for a, deps in graph().items() if a.startswith("solvers") for b in deps
                if b.startswith("model")]


if __name__ == "__main__":
    for name, deps in graph().items():
        print(f"{name:28s} (layer {layer(name):2d}) <- " + ", ".join(sorted(deps)), file=sys.stdout)
