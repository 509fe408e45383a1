"""Random instances of realistic shape for scale studies, fixed by the seed.

The shape follows `instances/china-east-west.yaml`: seven resources (two labor skills, land,
power, water, COD, SO2), sector profiles per module, eastern origins, central and western parks
with their regions' wages and grid factors, upgrades with prerequisites, the Yangtze shoreline and
key-ecological bans, regional carbon caps, a western value share, a budget, a transfer target and
diversity limits. Park capacities are drawn around 1.3 × the average demand per park, so that the
capacities matter. All figures are illustrative.

A plan exists by construction: a reference plan (`_reference_plan`) moves the must-transfer
industries whole and then, in the order drawn, enough modules for the transfer target, one at a
time, each to a park its bans allow (western parks first, for the western value share; a park that
already hosts the sector next, for the diversity limits; then the one with the most room left),
within the drawn capacities where one fits, anywhere its bans allow when none does. Every bound
of the instance is then at least 1.3 times what that plan needs (the capacities of the parks it
uses, the regional carbon caps, the budget; 1.3 so that the `tight_ecology` scenario's 20 % cut
keeps it too), the diversity limits and the shares at least what it reaches, and a must-transfer
industry no park admits is not must-transfer. Where the draws already allow the plan (scale
studies' sizes), nothing changes; small instances, where one bundle can exceed a park or a
region's cap, are the ones it mends.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from model.outputs import check_new_files, write_file

RESOURCES = {"skilled_labor": ("labor", "persons"), "general_labor": ("labor", "persons"),
             "land": ("infrastructure", "ha"), "power": ("infrastructure", "MW"),
             "water": ("infrastructure", "10^4 m3/yr"), "cod": ("ecology", "t COD/yr"), "so2": ("ecology", "t SO2/yr")}
# Per module: resource use (in RESOURCES order), value added, process CO2, power use, relocation cost, tags.
SECTORS = {
    "textiles": ((60, 540, 12, 8, 60, 30, 5), 90, 0, 40, 12, ["labor_intensive"]),
    "apparel": ((40, 760, 8, 3, 5, 2, 1), 70, 0, 12, 7, ["labor_intensive"]),
    "furniture": ((40, 360, 15, 4, 3, 2, 3), 60, 0, 15, 8, ["labor_intensive"]),
    "electronics": ((220, 1180, 20, 25, 40, 6, 1), 260, 0, 120, 33, ["high_tech"]),
    "auto_parts": ((260, 640, 25, 20, 15, 4, 4), 300, 5, 90, 36, []),
    "machinery": ((240, 460, 22, 15, 8, 3, 3), 220, 3, 60, 30, []),
    "chemicals": ((180, 320, 40, 35, 300, 120, 90), 380, 150, 200, 54, ["heavy"]),
    "pharmaceuticals": ((260, 240, 15, 12, 80, 40, 5), 350, 10, 50, 48, ["high_tech"]),
    "steel": ((200, 1100, 120, 150, 400, 60, 600), 500, 2500, 800, 156, ["heavy"]),
    "building_materials": ((80, 320, 60, 50, 30, 5, 300), 150, 900, 250, 48, ["heavy"]),
    "batteries": ((300, 700, 35, 60, 120, 20, 5), 450, 20, 350, 60, ["high_tech"]),
    "food": ((40, 360, 10, 6, 80, 60, 5), 80, 5, 25, 8, []),
}
EAST = {"Beijing": (116.40, 39.90, 0.6776), "Tianjin": (117.20, 39.13, 0.7041), "Hebei": (114.51, 38.04, 0.7252),
        "Shandong": (117.12, 36.65, 0.6776), "Shanghai": (121.47, 31.23, 0.5617), "Jiangsu": (118.80, 32.06, 0.5617),
        "Zhejiang": (120.16, 30.27, 0.5617), "Fujian": (119.30, 26.08, 0.4092), "Guangdong": (113.26, 23.13, 0.3869)}
# Host provinces: region, approximate centre, grid factor 2022 (SOURCES.md), on the Yangtze.
HOSTS = {"Anhui": ("central", 117.3, 31.8, 0.6782, True), "Hunan": ("central", 112.9, 28.2, 0.5395, True),
         "Hubei": ("central", 112.3, 30.6, 0.5395, True), "Jiangxi": ("central", 115.9, 28.7, 0.5395, True),
         "Henan": ("central", 113.6, 34.7, 0.5395, False), "Shanxi": ("central", 112.5, 37.9, 0.7096, False),
         "Chongqing": ("west", 106.5, 29.6, 0.2268, True), "Sichuan": ("west", 104.1, 30.6, 0.1404, True),
         "Guizhou": ("west", 106.7, 26.6, 0.3869, True), "Yunnan": ("west", 102.7, 25.0, 0.1073, True),
         "Guangxi": ("west", 108.3, 22.8, 0.4044, False), "Shaanxi": ("west", 108.9, 34.3, 0.5857, False),
         "Gansu": ("west", 103.8, 36.1, 0.5857, False), "Ningxia": ("west", 106.3, 38.5, 0.5857, False),
         "Inner Mongolia": ("west", 111.7, 40.8, 0.6849, False)}
WAGE = {"east": 0.072965, "central": 0.053477, "west": 0.055781}  # NBS 2022, million yuan per person-year
SKILL = 140935 / 75463
LAND_RENT = {"east": 0.564, "central": 0.226, "west": 0.141}  # see china-east-west.yaml's header
POWER_PRICE = {"east": 0.65, "central": 0.56, "west": 0.52}  # illustrative


def _r(x: float, digits: int = 3) -> float:
    return float(round(float(x), digits))


HEADROOM = 1.3  # every bound over what the reference plan needs (the tight_ecology scenario cuts 20 %)


def _ceil(x: float, digits: int = 1) -> float:
    """x rounded up at `digits` decimals: a bound written never below what it must allow."""
    return float(np.ceil(x * 10**digits - 1e-9) / 10**digits)


def _floor(x: float, digits: int = 2) -> float:
    return float(np.floor(x * 10**digits + 1e-9) / 10**digits)


@dataclass
class _Reference:
    """What the reference plan needs of the instance's bounds."""

    share_moved: float  # modules moved / all modules
    spend: float  # relocation and open costs
    co2: dict[str, float]  # per region, of the modules placed there
    west_share: float  # value added placed in the west / all placed (1 when nothing moves)
    parks_per_sector: int  # the most parks one sector of the diversity limit uses
    sectors_per_park: int


def _reference_plan(rows: list[dict], parks: list[dict], res: list[str], heavy_ban: bool, chemicals_ban: bool,
                    bounded: set[str], max_parks: int, max_sectors: int) -> _Reference:
    """A plan of the instance being drawn (module docstring); raises the capacities of the parks it
    uses to HEADROOM times its load and clears must_transfer where no park admits the industry."""
    total = sum(r["modules"] for r in rows)
    need = int(np.ceil(0.3 * total - 1e-9))
    cap = [np.array([p["capacity"][k] for k in res]) for p in parks]
    load = [np.zeros(len(res)) for _ in parks]
    hosts: dict[str, set[int]] = {}  # sector -> parks
    sectors: list[set[str]] = [set() for _ in parks]
    moved, spend, value, west_value = 0, 0.0, 0.0, 0.0
    co2: dict[str, float] = {}

    def place(row: dict, n: int) -> None:
        nonlocal moved, spend, value, west_value
        load[n] += np.array([row[f"use.{k}"] for k in res])
        hosts.setdefault(row["sector"], set()).add(n)
        sectors[n].add(row["sector"])
        moved += 1
        spend += row["relocation_cost"]
        value += row["value_added"]
        west_value += row["value_added"] * (parks[n]["region"] == "west")
        region = parks[n]["region"]
        co2[region] = co2.get(region, 0.0) + row["co2_process"] + row["power_use"] * parks[n]["grid_factor"]

    def best(row: dict, squeeze: bool) -> int | None:
        """The park for one more module of `row`: where it fits within the drawn capacities, or
        (`squeeze`) anywhere its bans allow, preferring the diversity limits kept."""
        sector, tags = row["sector"], row["tags"].split(";")
        use = np.array([row[f"use.{k}"] for k in res])
        allowed = [n for n, p in enumerate(parks)
                   if not (heavy_ban and "heavy" in tags and p["zone"] == "key_ecological")
                   and not (chemicals_ban and sector == "chemicals" and "yangtze_shoreline" in p["tags"])]
        diverse = [n for n in allowed if (sector in sectors[n] or len(sectors[n]) < max_sectors)
                   and (sector not in bounded or n in hosts.get(sector, set())
                        or len(hosts.get(sector, set())) < max_parks)]
        fits = [n for n in diverse if np.all(HEADROOM * (load[n] + use) <= cap[n])]
        pool = fits or (diverse or allowed if squeeze else [])

        def rank(n: int) -> tuple:
            room = np.min((cap[n] - HEADROOM * (load[n] + use)) / np.maximum(cap[n], 1e-9))
            return (parks[n]["region"] != "west", n not in hosts.get(sector, set()), -room)

        return min(pool, key=rank) if pool else None

    left = {id(r): r["modules"] for r in rows}
    for row in [r for r in rows if r["must_transfer"] == "true"]:
        if best(row, True) is None:
            row["must_transfer"] = "false"  # no park admits it: it cannot be required to move
            continue
        for _ in range(row["modules"]):
            place(row, best(row, True))
        left[id(row)] = 0
    # Then, in the order drawn, modules where they fit; and, when those are too few for the target
    # (a small instance: one bundle larger than every park), where the bans allow, raising capacities.
    for squeeze in (False, True):
        for row in rows:
            while moved < need and left[id(row)] > 0:
                n = best(row, squeeze)
                if n is None:
                    break
                place(row, n)
                left[id(row)] -= 1
    for n, p in enumerate(parks):
        if load[n].any():
            spend += p["open_cost"]
            p["capacity"] = {k: max(p["capacity"][k], _ceil(HEADROOM * load[n][j])) for j, k in enumerate(res)}
    return _Reference(moved / total if total else 1.0, spend, co2, west_value / value if value else 1.0,
                      max((len(hosts.get(s, ())) for s in bounded), default=0), max(map(len, sectors), default=0))


def generate_instance(n_industries: int, n_parks: int, seed: int, out: Path, force: bool = False) -> Path:
    """Write `out` (YAML) and `<stem>-industries.csv` beside it; return `out`."""
    rng = np.random.default_rng(seed)
    res = list(RESOURCES)
    sectors = list(SECTORS)
    origins = list(EAST)

    rows, demand = [], np.zeros(len(res))
    all_moved_co2 = 0.0
    relocation_total = 0.0
    for n in range(n_industries):
        sector = sectors[rng.integers(len(sectors))]
        origin = origins[rng.integers(len(origins))]
        use0, va, co2p, pu, reloc, tags = SECTORS[sector]
        f = rng.uniform(0.8, 1.2, size=len(use0) + 3)
        use = np.array(use0) * f[: len(use0)]
        modules = int(rng.integers(1, 5))
        divisible = sector in ("textiles", "apparel", "food", "furniture") and rng.random() < 0.5
        lon, lat, gf = EAST[origin]
        stay = (use[0] * WAGE["east"] * SKILL + use[1] * WAGE["east"] + use[2] * LAND_RENT["east"]
                + pu * f[-1] * POWER_PRICE["east"])
        demand += use * modules
        all_moved_co2 += (co2p * f[-2] + pu * f[-1] * 0.45) * modules
        relocation_total += reloc * modules
        row = {"id": f"b{n + 1}_{origin.lower()}_{sector}", "origin": origin, "sector": sector, "modules": modules,
               "divisible": str(divisible).lower(), "must_transfer": str(rng.random() < 0.05).lower()}
        row.update({f"use.{k}": _r(v, 2) for k, v in zip(res, use, strict=True)})
        row.update({"value_added": _r(va * f[-3], 1), "jobs": int(use[0] + use[1]), "co2_process": _r(co2p * f[-2]),
                    "power_use": _r(pu * f[-1]), "grid_factor": gf, "relocation_cost": reloc,
                    "stay_cost": _r(stay, 2), "logistics_cost_per_km": _r(0.002 + 0.01 * rng.random(), 4),
                    "location.lon": lon, "location.lat": lat, "tags": ";".join(tags)})
        rows.append(row)

    provinces = list(HOSTS)
    parks = []
    for n in range(n_parks):
        prov = provinces[rng.integers(len(provinces))]
        region, lon, lat, gf, yangtze = HOSTS[prov]
        zone = rng.choice(["key_development"] * 8 + ["key_ecological", "grain_production"])
        tags = []
        if yangtze and rng.random() < 0.3:
            tags.append("yangtze_shoreline")
        if rng.random() < 0.3:
            tags.append("national_demo_zone")
        cap = demand * 1.3 / n_parks * rng.uniform(0.5, 1.5, size=len(res))
        if zone == "key_ecological":
            cap[5:] *= 0.3
        park = {"id": f"park{n + 1}_{prov.lower().replace(' ', '_')}", "province": prov, "region": region,
                "zone": str(zone), "tags": tags,
                "open_cost": 0 if rng.random() < 0.6 else _r(rng.uniform(30, 120), 1),
                "capacity": {k: _r(v, 1) for k, v in zip(res, cap, strict=True)},
                "unit_costs": {"skilled_labor": _r(WAGE[region] * SKILL, 5), "general_labor": WAGE[region],
                               "land": LAND_RENT[region]},
                "power_price": POWER_PRICE[region], "grid_factor": gf,
                "location": {"lon": _r(lon + rng.normal(0, 1.0)), "lat": _r(lat + rng.normal(0, 1.0))}}
        if rng.random() < 0.3:
            k1, k2 = rng.choice(len(res), size=2, replace=False)
            park["upgrades"] = [
                {"id": "phase1", "cost": _r(rng.uniform(5, 20), 1), "adds": {res[k1]: _r(cap[k1] * 0.5, 1)}},
                {"id": "phase2", "cost": _r(rng.uniform(5, 20), 1), "adds": {res[k2]: _r(cap[k2] * 0.5, 1)},
                 "requires": ["phase1"]},
            ]
        parks.append(park)
    regions = {p["region"] for p in parks}
    groups = {f"{r}_parks": {"parks": {"region": r}} for r in sorted(regions)}
    # A selector must select something (validation rejects an empty one): a ban only where it applies.
    has_sector = {r["sector"] for r in rows}
    has_heavy = any("heavy" in r["tags"] for r in rows)
    heavy_ban = has_heavy and any(p["zone"] == "key_ecological" for p in parks)
    chemicals_ban = "chemicals" in has_sector and any("yangtze_shoreline" in p["tags"] for p in parks)
    diverse = [s for s in ("electronics", "batteries", "auto_parts") if s in has_sector]
    bounded = set(diverse or sorted(has_sector)[:1])
    max_parks = max(2, n_parks // 5)
    ref = _reference_plan(rows, parks, res, heavy_ban, chemicals_ban, bounded, max_parks, 6)
    rules = []
    if chemicals_ban:
        rules.append({"id": "yangtze_chemicals", "kind": "forbid",
                      "source": "Yangtze negative list (2019), 1 km rule (recalled)",
                      "industries": {"sector": "chemicals"}, "parks": {"tags": "yangtze_shoreline"}})
    if heavy_ban:
        rules.append({"id": "key_ecological_heavy", "kind": "forbid", "source": "NDRC (2016) key ecological zones",
                      "industries": {"tags": "heavy"}, "parks": {"zone": "key_ecological"}})
    rules += [
        {"id": "transfer_target", "kind": "transfer_target", "source": "illustrative",
         "min_share": min(0.3, _floor(ref.share_moved))},
        {"id": "budget", "kind": "limit", "source": "illustrative", "kpi": "spend",
         "max": max(_r(relocation_total * 0.9 + 50 * n_parks, 1), _ceil(HEADROOM * ref.spend))},
        {"id": "anti_homogeneous", "kind": "diversity", "source": "illustrative",
         "sectors": diverse or sorted(has_sector)[:1], "max_parks_per_sector": max(max_parks, ref.parks_per_sector)},
        {"id": "park_focus", "kind": "diversity", "source": "illustrative",
         "max_sectors_per_park": max(6, ref.sectors_per_park)},
    ]
    # A share the reference plan cannot reach (nothing a ban admits, nothing placed in the west) is no rule.
    rules = [r for r in rules if r.get("min_share", 1) > 0]
    for r in sorted(regions):
        rules.append({"id": f"{r}_carbon_cap", "kind": "limit", "source": "illustrative", "kpi": "co2",
                      "parks": f"{r}_parks",
                      "max": max(_r(all_moved_co2 * 0.6, 1), _ceil(HEADROOM * ref.co2.get(r, 0.0)))})
    if "west" in regions and ref.west_share >= 0.01:
        rules.append({"id": "west_value_share", "kind": "limit", "source": "illustrative", "kpi": "value_added",
                      "parks": "west_parks", "min_share": min(0.2, _floor(ref.west_share))})
    inst = {
        "name": out.stem,
        "description": f"generated: {n_industries} industries, {n_parks} parks, seed {seed} (illustrative figures)",
        "units": {"money": "million yuan", "co2": "kt CO2", "power": "GWh", "distance": "km", "jobs": "persons"},
        "resources": {k: {"category": c, "unit": u} for k, (c, u) in RESOURCES.items()},
        "industries": f"{out.stem}-industries.csv",
        "parks": parks,
        "groups": groups,
        "rules": rules,
        "objective": {"weights": {"co2": 0.09749}},
        "scenarios": {"tight_ecology": {"description": "every park loses 20 % of its COD and SO2 quota",
                                        "set": {"parks.*.capacity.cod": "*0.8", "parks.*.capacity.so2": "*0.8"}}},
    }
    table = out.parent / f"{out.stem}-industries.csv"
    check_new_files([out, table], force)
    write_file(table, pd.DataFrame(rows).to_csv(index=False, lineterminator="\n"))  # quoted where a cell needs it
    write_file(out, f"# Generated by `industry-transfer generate --industries {n_industries} --parks {n_parks} "
                   f"--seed {seed}`; illustrative figures.\n" + yaml.safe_dump(inst, sort_keys=False, width=120))
    return out
