"""Model build and hand-off to HiGHS at scale: ours against a direct numpy + highspy build.

The model is the single-sourcing capacitated facility location of the OR-Library files (the shape
the issue measured): every customer (a must-transfer industry of one module) may go to every
facility (a park with an opening cost and one resource), pair costs from a table.
    ours     `build_data` (the data layer) and `assemble` + `highs_direct.load` (the families'
             blocks → one CSR matrix → `passModel`), timed apart
    direct   the same model written by hand in numpy from the instance's figures as arrays
             (column-wise, no sorting: assign, strong link and capacity rows; x, stay, y columns)
             → the same `passModel`: the baseline, measured in the same run
    pyomo    `to_pyomo` + Pyomo's HiGHS hand-off (the reference back-end), at the sizes asked for
Each size runs in a fresh process, `--repeat` times (medians reported); peak memory is the
process's peak resident set (instance objects, data, problem and HiGHS together).

    python benchmarks/build_scale.py [--sizes 500x200 1000x300 2000x500] [--repeat 3] [--pyomo 500x200]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def instance(n_i: int, n_p: int, seed: int = 1):  # noqa: ANN201 (an Instance)
    """A random CFLP instance as the importer would make it, built without validation (the
    validation of a million pairs is the loader's cost, not the model's)."""
    import numpy as np

    from model.schema import Industry, Instance, Pair, Park, Resource

    rng = np.random.default_rng(seed)
    demand = rng.integers(5, 35, n_i).astype(float)
    cap = np.full(n_p, float(demand.sum() / n_p * 3))
    cost = rng.uniform(1, 100, (n_i, n_p)).round(3)
    resources = {"capacity": Resource.model_construct(category="infrastructure", unit="units", description="")}
    industries = [Industry.model_construct(id=f"c{i}", origin="o", sector="s", modules=1, divisible=False,
                                           must_transfer=True, use={"capacity": float(demand[i])}, tags=[])
                  for i in range(n_i)]
    parks = [Park.model_construct(id=f"f{p}", province="x", region="r", zone="", tags=[],
                                  open_cost=float(rng.uniform(500, 1500)), capacity={"capacity": float(cap[p])},
                                  upgrades=[], unit_costs={}) for p in range(n_p)]
    flat = cost.ravel().tolist()
    pairs = [Pair.model_construct(industry=f"c{n // n_p}", park=f"f{n % n_p}", cost=flat[n], use={})
             for n in range(n_i * n_p)]
    return Instance.model_construct(name="cflp", resources=resources, industries=industries, parks=parks,
                                    pairs=pairs, rules=[])


def arrays(inst) -> tuple:  # noqa: ANN001
    """The instance's figures as arrays (what a hand-written build starts from; not timed)."""
    import numpy as np

    return (np.array([i.use["capacity"] for i in inst.industries]),
            np.array([p.capacity["capacity"] for p in inst.parks]),
            np.array([p.open_cost for p in inst.parks]), np.array([pr.cost for pr in inst.pairs]))


def columns(demand, cap) -> tuple:  # noqa: ANN001
    """The single-sourcing CFLP matrix column-wise, with no sorting: columns x[i,p] (i-major),
    stay[i], y[p]; rows assign[i], link[i,p], capacity[p]. Returns start, index, value and the sizes."""
    import numpy as np

    n_i, n_p = len(demand), len(cap)
    n = n_i * n_p
    ii, pp = np.divmod(np.arange(n), n_p)
    n_rows, n_cols = n_i + n + n_p, n + n_i + n_p
    # x[i,p]: assign i, link (i,p), capacity p — already in row order.
    x_index = np.stack([ii, n_i + np.arange(n), n_i + n + pp], axis=1).ravel()
    x_value = np.stack([np.ones(n), np.ones(n), demand[ii]], axis=1).ravel()
    # y[p]: link (i,p) for every i, then capacity p.
    y_index = np.concatenate([(n_i + np.arange(n).reshape(n_i, n_p)).T, (n_i + n + np.arange(n_p))[:, None]],
                             axis=1).ravel()
    y_value = np.concatenate([-np.ones((n_p, n_i)), -cap[:, None]], axis=1).ravel()
    index = np.concatenate([x_index, np.arange(n_i), y_index])
    value = np.concatenate([x_value, np.ones(n_i), y_value])
    start = np.concatenate([3 * np.arange(n + 1), 3 * n + 1 + np.arange(n_i),
                            3 * n + n_i + (n_i + 1) * np.arange(1, n_p + 1)]).astype(np.int64)
    return start, index, value, n_rows, n_cols


def direct(demand, cap, open_cost, cost) -> object:  # noqa: ANN001
    """The same model by hand, column-wise with no sorting: columns x[i,p] (i-major), stay[i], y[p];
    rows assign[i], link[i,p], capacity[p]. The fastest build we know of: the baseline."""
    import highspy
    import numpy as np
    from pyomo.common.tee import capture_output

    n_i, n_p = len(demand), len(cap)
    n = n_i * n_p
    start, index, value, n_rows, n_cols = columns(demand, cap)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n_cols, n_rows
    lp.col_cost_ = np.concatenate([cost, np.zeros(n_i), open_cost])
    lp.col_lower_ = np.zeros(n_cols)
    lp.col_upper_ = np.concatenate([np.ones(n), np.zeros(n_i), np.ones(n_p)])
    lp.row_lower_ = np.concatenate([np.ones(n_i), np.full(n + n_p, -np.inf)])
    lp.row_upper_ = np.concatenate([np.ones(n_i), np.zeros(n + n_p)])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = n_cols, n_rows
    lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = start, index, value
    lp.integrality_ = [highspy.HighsVarType.kInteger] * n_cols
    with capture_output(capture_fd=True):
        h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.passModel(lp)
    return h


def one_size(n_i: int, n_p: int, pyomo: bool) -> dict:
    """Runs in its own process: times of each path and the peak resident memory."""
    from model.assemble import assemble
    from model.data import build_data
    from solvers import highs_direct

    inst = instance(n_i, n_p)
    out: dict = {"pairs": n_i * n_p}
    given = arrays(inst)
    t = time.perf_counter()
    h = direct(*given)
    out["direct"] = time.perf_counter() - t
    direct_rows, direct_nz = h.getNumRow(), h.getNumNz()
    del h, given
    t = time.perf_counter()
    data = build_data(inst)
    out["data"] = time.perf_counter() - t
    t = time.perf_counter()
    problem = assemble(data)
    h = highs_direct.load(problem)
    out["ours"] = time.perf_counter() - t
    assert (h.getNumRow(), h.getNumNz()) == (direct_rows, direct_nz), "not the same model"
    del h
    if pyomo:
        from pyomo.contrib.solver.solvers.highs import Highs

        from solvers.pyomo_backend import to_pyomo

        t = time.perf_counter()
        m = to_pyomo(problem)
        Highs().solve(m, load_solutions=False, raise_exception_on_nonoptimal_result=False, time_limit=0.0,
                      solver_options={"mip_max_nodes": 0})  # the hand-off (and a zero-time solve)
        out["pyomo"] = time.perf_counter() - t
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", nargs="+", default=["500x200", "1000x300", "2000x500"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pyomo", nargs="*", default=["500x200"], help="sizes also built through Pyomo")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--with-pyomo", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        n_i, n_p = map(int, args.one.split("x"))
        print(json.dumps(one_size(n_i, n_p, args.with_pyomo)))
        return
    print("| pairs | direct build (s) | ours: data (s) | ours: assemble + hand-off (s) | ratio | ratio with data "
          "| pyomo back-end (s) | peak memory (MB) |")
    print("|---|---|---|---|---|---|---|---|")
    for size in args.sizes:
        runs = []
        for _ in range(args.repeat):
            cmd = [sys.executable, __file__, "--one", size] + (["--with-pyomo"] if size in args.pyomo else [])
            runs.append(json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout))

        def med(key: str, runs: list[dict] = runs) -> float:
            return statistics.median(r[key] for r in runs)

        pyomo = f"{med('pyomo'):.2f}" if "pyomo" in runs[0] else "-"
        print(f"| {runs[0]['pairs']:,} | {med('direct'):.2f} | {med('data'):.2f} | {med('ours'):.2f} | "
              f"{med('ours') / med('direct'):.2f} | {(med('ours') + med('data')) / med('direct'):.2f} | {pyomo} | "
              f"{max(r['peak_mb'] for r in runs):.0f} |", flush=True)


if __name__ == "__main__":
    main()
