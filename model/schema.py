"""The instance schema: what a planner writes, strictly typed.

Field descriptions are the reference documentation of the format (`docs/instance-format.md`
explains it with examples). Unknown keys, wrong types, negative amounts, NaN/inf, numbers out of the
range the solver handles and booleans given as numbers (or numbers as booleans) are rejected here;
references between sections (unknown resources, parks, groups, duplicate ids) are checked in
`model/validate.py`, which has the whole instance in view.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainValidator, model_validator
from pydantic_core import PydanticCustomError

from model.periods import ByPeriod, Growth

Id = Annotated[str, Field(pattern=r"^[A-Za-z0-9_\-]+$", min_length=1,
                          description="letters, digits, `_` and `-`")]
def _as_label(value: Any) -> Any:
    """A province, region or sector: 'Anhui ' and 'Anhui' would be two places, shown alike."""
    if isinstance(value, str) and (value != value.strip() or any(not c.isprintable() for c in value)):
        raise PydanticCustomError("text_format", "{expected}", {
            "expected": "a name with no space at either end and no line break or control character"})
    return value


# A province, region or sector: an empty one would be a place of its own.
Label = Annotated[str, Field(min_length=1), BeforeValidator(_as_label)]

# The range of every number an instance gives. HiGHS reads |v| ≥ 1e20 as infinite (`infinite_cost`,
# `infinite_bound`), refuses matrix entries ≥ 1e15 (`large_matrix_value`) and works to absolute
# tolerances of 1e-6..1e-7, so a figure beyond 1e12 is a unit slip or a typo, not data: 1e12 is a
# trillion of anything (yuan, persons, tonnes). Modules are counted up to 1e6, so that integer
# variables stay exact and a per-module figure times the modules stays below 1e18. Products of
# figures (use × unit cost, KPI × weight) are bounded in `model/validate.py` (`check_magnitudes`).
MAX_NUMBER = 1e12
MAX_MODULES = 1_000_000
def text_number(value: str) -> float | None:
    """A number written as text (a CSV cell, a quoted YAML value): what `float()` reads, less what
    it reads beyond plain notation (`1_000`, digits of other scripts); None if it is none. `nan`
    and `inf` are read, so that a message can say "finite"."""
    try:
        number = float(value)
    except ValueError:
        return None
    return None if "_" in value or not value.isascii() else number


def bound_text(bound: float) -> str:
    """A range bound as people write it: `1000000`, `1e12`, `-180`, `0.5`."""
    if abs(bound) >= 1e7:
        return f"{bound:.0e}".replace("e+", "e")
    return str(int(bound)) if float(bound).is_integer() else str(bound)


def number(lo: float, hi: float, whole: bool = False, sided: bool = True) -> Any:
    """A number type within [lo, hi]; `sided`: below `lo` says "≥ lo" (a sign), above says "between"."""
    return Annotated[int if whole else float, BeforeValidator(_number_check(lo, hi, whole, sided))]


def _number_check(lo: float, hi: float, whole: bool = False, sided: bool = True) -> Any:
    """The check of `number`.

    Checked before pydantic converts: booleans are never numbers (pydantic would read `true` as 1);
    text (a CSV cell, a quoted YAML value) must look like a number; a 400-digit integer is out of
    range, not "not a number". This runs once per number of an instance (millions in a large
    one): the common case, a number in range, takes two comparisons.
    """
    kind = "int" if whole else "float"

    def check(value: Any) -> Any:
        cls = type(value)
        if cls is str:
            number = text_number(value)
            if number is None:
                raise PydanticCustomError(f"{kind}_parsing", "not a number")
            if number in (math.inf, -math.inf) and not value.strip().lstrip("+-")[:1].isalpha():
                raise PydanticCustomError("number_range", "out of range", {"lo": lo, "hi": hi})  # `1e400`
            value, cls = number, float
        if cls is float or cls is int:
            if lo <= value <= hi:
                return value
            if value != value or value in (math.inf, -math.inf):
                raise PydanticCustomError("finite_number", "not a finite number")
            if value < lo and sided:
                raise PydanticCustomError("greater_than_equal", "below the minimum", {"ge": lo})
            raise PydanticCustomError("number_range", "out of range", {"lo": lo, "hi": hi})
        if cls is bool:
            raise PydanticCustomError(f"{kind}_type", "a boolean is not a number")
        return value  # anything else: pydantic says what is wrong with it

    return check


_PERIOD_ID = re.compile(r"^[A-Za-z0-9_\-]+$")


def timed(lo: float, hi: float, sided: bool = True) -> Any:
    """A number that may change over time (`model/periods.py`): given once, as a mapping period id →
    number, or as {value, growth}. Each number is checked as `number(lo, hi)` would; a problem
    inside a mapping names its key (error type `timed_value`, ctx: key, what, expected)."""
    check = _number_check(lo, hi, False, sided)
    rate = _number_check(-0.99, 1.0, False, False)

    def one(value: Any, key: str) -> float:
        try:
            out = check(value)
        except PydanticCustomError as exc:
            what = f"got {value!r}"[:60]
            expected = {"number_range": f"a number between {bound_text(lo)} and {bound_text(hi)}",
                        "greater_than_equal": f"a number ≥ {bound_text(lo)}",
                        "finite_number": "a finite number (no NaN or infinity)"}.get(exc.type, "a number")
            raise PydanticCustomError("timed_value", "{what}", {"key": key, "what": what,
                                                                 "expected": expected}) from None
        if type(out) not in (int, float):
            raise PydanticCustomError("timed_value", "{what}", {"key": key, "what": f"got {out!r}"[:60],
                                                                 "expected": "a number"})
        return float(out)

    def parse(value: Any) -> Any:
        if not isinstance(value, dict):
            out = check(value)
            if type(out) not in (int, float):
                raise PydanticCustomError("float_type", "not a number")
            return float(out)
        if "growth" in value or "value" in value:
            if set(value) != {"value", "growth"}:
                raise PydanticCustomError(
                    "timed_value", "{what}", {"key": "", "what": "a growth needs exactly `value` and `growth`",
                                              "expected": "{value: NUMBER, growth: RATE per year}, e.g. "
                                                          "{value: 100, growth: 0.03}"})
            base = one(value["value"], "value")
            try:
                g = rate(value["growth"])
            except PydanticCustomError:
                g = None
            if type(g) not in (int, float):
                raise PydanticCustomError("timed_value", "{what}", {
                    "key": "growth", "what": f"got {value['growth']!r}"[:60],
                    "expected": "a yearly rate between -0.99 and 1 (0.03 = 3 % a year)"})
            return Growth(base, float(g))
        if not value:
            raise PydanticCustomError("timed_value", "{what}", {"key": "", "what": "is an empty mapping",
                                                                 "expected": "a number, or period id: number"})
        out = {}
        for key, v in value.items():
            if not isinstance(key, str) or not _PERIOD_ID.match(key):
                raise PydanticCustomError("timed_value", "{what}", {"key": "", "what": f"key {key!r} is not a "
                                                                     "period id"[:60], "expected": "a period id"})
            out[key] = one(v, key)
        return ByPeriod(out)

    return Annotated[float, PlainValidator(parse)]


def text_flag(value: str) -> bool | None:
    """true or false written as text (a CSV cell), in any case; None if it is neither."""
    word = value.strip().lower()
    return word == "true" if word in ("true", "false") else None


def _as_flag(value: Any) -> Any:
    """true/false only: YAML booleans, or the words in a CSV cell; never a number."""
    if isinstance(value, str) and text_flag(value) is not None:
        return text_flag(value)
    if not isinstance(value, bool):
        raise PydanticCustomError("bool_type", "not true or false")
    return value


Amount = number(0, MAX_NUMBER)  # an amount: capacity, use, cost, emission; never negative
Money = number(-MAX_NUMBER, MAX_NUMBER)  # a signed money figure or weight
Share = number(0, 1, sided=False)
# The same, possibly changing over time (`model/periods.py`): capacities, costs, prices, grid
# factors, caps and targets. `model.periods.resolve` makes them plain numbers for one period.
TimedAmount = timed(0, MAX_NUMBER)
TimedMoney = timed(-MAX_NUMBER, MAX_NUMBER)
TimedShare = timed(0, 1, sided=False)
Count = number(1, MAX_MODULES, whole=True)  # modules of a bundle, parks or sectors in a diversity limit
Longitude = number(-180, 180, sided=False)
Latitude = number(-90, 90, sided=False)
Flag = Annotated[bool, BeforeValidator(_as_flag)]


def _as_list(value: object) -> object:
    return [value] if isinstance(value, str) else value


Words = Annotated[list[str], BeforeValidator(_as_list)]


def _as_name(value: Any) -> Any:
    """A label for people: any text but blank (a blank name would print as nothing in a table)."""
    if isinstance(value, str) and not value.strip():
        raise PydanticCustomError("text_format", "{expected}", {"expected": "a name (text that is not blank)"})
    return value


Name = Annotated[str, BeforeValidator(_as_name)]

# GB/T 2260 codes begin with the two digits of a province-level division: a code outside these is
# a typo, whatever its level (a city's code, 340200 for Wuhu, begins with its province's 34).
GB2260_PROVINCES = frozenset({"11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36",
                              "37", "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62",
                              "63", "64", "65", "71", "81", "82"})
# GB/T 4754-2017: each section letter covers a range of two-digit divisions (C, manufacturing, 13-43).
GB4754_SECTIONS = {"A": (1, 5), "B": (6, 12), "C": (13, 43), "D": (44, 46), "E": (47, 50), "F": (51, 52),
                   "G": (53, 60), "H": (61, 62), "I": (63, 65), "J": (66, 69), "K": (70, 70), "L": (71, 72),
                   "M": (73, 75), "N": (76, 79), "O": (80, 82), "P": (83, 83), "Q": (84, 85), "R": (86, 90),
                   "S": (91, 96), "T": (97, 97)}
_GB2260 = re.compile(r"^[0-9]{6}$")
_GB4754 = re.compile(r"^([A-T])([0-9]{2,4})$")


def _as_province_code(value: Any) -> Any:
    """A GB/T 2260 code as text; YAML reads `code: 110000` as a number, which is taken as written (no
    code begins with 0, so no digit is lost)."""
    text = str(value) if type(value) is int else value
    if not isinstance(text, str) or not _GB2260.match(text) or text[:2] not in GB2260_PROVINCES:
        raise PydanticCustomError("text_format", "{expected}", {
            "expected": "a six-digit GB/T 2260 code beginning with a province's two digits, e.g. 110000 (Beijing)"})
    return text


def _as_sector_code(value: Any) -> Any:
    """A GB/T 4754-2017 code: a section letter and a division (2 digits), group (3) or class (4) of it."""
    found = _GB4754.match(value) if isinstance(value, str) else None
    if found is None or not (GB4754_SECTIONS[found[1]][0] <= int(found[2][:2]) <= GB4754_SECTIONS[found[1]][1]):
        raise PydanticCustomError("text_format", "{expected}", {
            "expected": "a GB/T 4754-2017 code: a section letter A-T and 2 to 4 digits of a division of "
                        "that section, e.g. C31 or C3130"})
    return value


ProvinceCode = Annotated[str, BeforeValidator(_as_province_code)]
SectorCode = Annotated[str, BeforeValidator(_as_sector_code)]

class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)


class Units(Strict):
    money: str = Field("million yuan", description="unit of every cost and of value added (per year)")
    co2: str = Field("kt CO2", description="unit of CO2 (per year)")
    power: str = Field("GWh", description="unit of `power_use` (per year); grid factors are co2 per power")
    distance: str = Field("km", description="unit of distances (great-circle between locations)")
    jobs: str = Field("persons", description="unit of `jobs`")
    production: str = Field("Mt a year", description="unit of `production_capacity` (physical capacity)")


class Resource(Strict):
    category: str = Field(description="labor, infrastructure, ecology, or any other word")
    unit: str = Field(description="unit of capacities and uses, printed in reports")
    description: str = ""


class Location(Strict):
    lon: Longitude
    lat: Latitude


class Industry(Strict):
    id: Id
    origin: Label = Field(description="province the bundle leaves")
    sector: Label
    modules: Count = Field(1, description="transferable units; 1 = indivisible bundle")
    divisible: Flag = Field(False, description="modules may be split over parks (continuous)")
    must_transfer: Flag = Field(False, description="no module may stay at the origin")
    may_retire: Flag = Field(False, description="modules may close instead of moving or staying")
    retire_cost: TimedAmount = Field(0, description="cost per module closed (money; annualised in a single "
                                                    "period, one-off in the period it closes with `periods`)")
    production_capacity: Amount = Field(0, description="physical capacity per module (e.g. Mt of crude steel a "
                                                       "year), for capacity replacement rules")
    use: dict[str, Amount] = Field(default_factory=dict, description="resource use per module")
    value_added: Amount = Field(0, description="value added per module (money)")
    jobs: Amount = Field(0, description="jobs per module")
    tax: TimedAmount = Field(0, description="tax revenue per module (money per year), to the province where it runs")
    co2_process: Amount = Field(0, description="process CO2 per module (co2)")
    power_use: Amount = Field(0, description="electricity per module (power); scope-2 CO2 = "
                                             "power_use × grid_factor of wherever it runs")
    grid_factor: TimedAmount = Field(0, description="grid factor at the origin (co2 per power), for "
                                               "the modules that stay")
    relocation_cost: TimedAmount = Field(0, description="move cost per module (money; annualised in a single "
                                                        "period, one-off in the period of the move with `periods`)")
    stay_cost: TimedAmount = Field(0, description="cost per module left at the origin (money per year)")
    logistics_cost_per_km: TimedAmount = Field(0, description="money per module per km from `location` (per year)")
    location: Location | None = Field(None, description="where the bundle's market and suppliers are")
    tags: Words = Field(default_factory=list)
    name_zh: Name | None = Field(None, description="name in Chinese, for `--lang zh`")
    name_en: Name | None = Field(None, description="name in English, for `--lang en`")


class Upgrade(Strict):
    id: Id
    cost: TimedAmount = Field(description="money if built (one-off, in the period it is built)")
    lead_time: Amount = Field(0, description="years from the start of the period it is built until its "
                                             "capacity is there (with `periods`)")
    adds: dict[str, Amount] = Field(default_factory=dict, description="capacity added per resource")
    requires: Words = Field(default_factory=list, description="upgrades of the same park built first")
    description: str = ""


class Enclave(Strict):
    """An enclave park (飞地经济): co-built by a partner province, which gets a share of what it yields."""

    partner: str = Field(description="the province that co-builds the park (usually a sending province)")
    share: Share | None = Field(None, description="the partner's agreed share of the park's value added and tax")
    contribution: Share | None = Field(None, description="the partner's share of the park's investment (open_cost, "
                                                         "upgrade_cost); it gets the same share of value added "
                                                         "and tax")
    partner_only: Flag = Field(False, description="only industries from the partner province may come")

    @model_validator(mode="after")
    def _one_split(self) -> Enclave:
        if (self.share is None) == (self.contribution is None):
            raise ValueError("give either `share` or `contribution`, not both or neither")
        return self

    @property
    def split(self) -> float:
        """The partner's share of value added and tax."""
        return float(self.share if self.share is not None else self.contribution)  # type: ignore[arg-type]

    @property
    def invests(self) -> float:
        """The partner's share of the park's investment (0 for a fixed `share`)."""
        return float(self.contribution or 0.0)


class Park(Strict):
    id: Id
    province: Label
    region: Label = Field(description="central, west, northeast, ...")
    zone: str = Field("", description="main functional-zone type")
    tags: Words = Field(default_factory=list)
    open_cost: TimedAmount = Field(0, description="money to open; 0 (in the first period) = already open")
    capacity: dict[str, TimedAmount] = Field(description="capacity per resource; every resource listed")
    upgrades: list[Upgrade] = Field(default_factory=list)
    grid_factor: TimedAmount = Field(0, description="co2 per power of the host grid")
    unit_costs: dict[str, TimedAmount] = Field(default_factory=dict,
                                          description="money per unit of each resource used (wage, land rent)")
    power_price: TimedAmount = Field(0, description="money per power unit")
    location: Location | None = None
    enclave: Enclave | None = Field(None, description="co-built with a partner province, which gets a share")
    description: str = ""
    name_zh: Name | None = Field(None, description="name in Chinese, for `--lang zh`")
    name_en: Name | None = Field(None, description="name in English, for `--lang en`")


class Pair(Strict):
    industry: Id
    park: Id
    cost: TimedMoney | None = Field(None, description="pair_cost per module (money per year; may be negative)")
    use: dict[str, Amount] = Field(default_factory=dict, description="use per module, overriding the industry's")


class ParkSelector(Strict):
    """Parks matching every field given; a field matches any of its values."""

    ids: Words | None = None
    province: Words | None = None
    region: Words | None = None
    zone: Words | None = None
    tags: Words | None = Field(None, description="parks having any of these tags")

    @model_validator(mode="after")
    def _not_empty(self) -> ParkSelector:
        if all(v is None for v in self.__dict__.values()):
            raise ValueError("selects by nothing; give ids, province, region, zone or tags")
        return self


class IndustrySelector(Strict):
    """Industries matching every field given; a field matches any of its values."""

    ids: Words | None = None
    origin: Words | None = None
    sector: Words | None = None
    tags: Words | None = Field(None, description="industries having any of these tags")

    @model_validator(mode="after")
    def _not_empty(self) -> IndustrySelector:
        if all(v is None for v in self.__dict__.values()):
            raise ValueError("selects by nothing; give ids, origin, sector or tags")
        return self


class Group(Strict):
    """A named set of parks, of industries, or of provinces."""

    parks: ParkSelector | None = None
    industries: IndustrySelector | None = None
    provinces: Words | None = Field(None, description="provinces, as the ledger and `provinces:` of rules name them")
    description: str = ""

    @model_validator(mode="after")
    def _one_kind(self) -> Group:
        if sum(v is not None for v in (self.parks, self.industries, self.provinces)) != 1:
            raise ValueError("a group selects one of `parks`, `industries` or `provinces`")
        return self


class Province(Strict):
    """A province (or any jurisdiction) as the ledger reports it."""

    region: str = Field("", description="its region (else the region of its parks, which it must then agree with)")
    code: ProvinceCode | None = Field(None, description="GB/T 2260 administrative division code, six digits "
                                                        "(110000 Beijing); each code once")
    name_zh: Name | None = Field(None, description="name in Chinese, for `--lang zh`")
    name_en: Name | None = Field(None, description="name in English, for `--lang en`")
    description: str = ""


class Sector(Strict):
    """A sector that industries name (`sector:`), with its names and industry code."""

    code: SectorCode | None = Field(None, description="GB/T 4754-2017 code: section letter and division "
                                                      "(C31), group or class (C3130)")
    name_zh: Name | None = Field(None, description="name in Chinese, for `--lang zh`")
    name_en: Name | None = Field(None, description="name in English, for `--lang en`")
    description: str = ""


class Region(Strict):
    """A region that parks and provinces name (`region:`), with its names."""

    name_zh: Name | None = Field(None, description="name in Chinese, for `--lang zh`")
    name_en: Name | None = Field(None, description="name in English, for `--lang en`")
    description: str = ""


# A rule names a set by group name or selects it inline.
ParkRef = Id | ParkSelector
IndustryRef = Id | IndustrySelector


class RuleBase(Strict):
    id: Id
    source: str = Field(description="citation of the policy or the reason for the rule")
    enabled: Flag = True
    description: str = ""


def use_rules(classes: list[type[RuleBase]]) -> None:
    """Make `Instance.rules` accept the rule kinds of these classes (the families' registry
    calls this with every registered family's rule classes; `kind` tells them apart)."""
    union = Union[tuple(classes)] if classes else RuleBase  # noqa: UP007 (a union built at run time)
    Instance.model_fields["rules"].annotation = list[Annotated[union, Field(discriminator="kind")]]
    Instance.model_rebuild(force=True)


class Level(Strict):
    """One level of a lexicographic objective (a `level`: weights and a tolerance)."""

    weights: dict[str, Money] = Field(description="KPI name -> weight, as `objective.weights` (no defaults)")
    tolerance: Amount = Field(0.0, description="later levels may worsen this one by this relative share")


class Objective(Strict):
    weights: dict[str, Money] = Field(
        default_factory=dict,
        description="KPI name -> weight; minimise Σ weight × KPI. Cost terms default to 1, co2 "
                    "(the carbon price), value_added and jobs to 0; a benefit gets a negative weight. "
                    "`KPI@JURISDICTION` weighs a province's (group's, region's) own KPI, as in the ledger.")
    lexicographic: list[Level] | None = Field(
        None, min_length=1,
        description="levels minimised in turn, each kept within its tolerance of its optimum by the later "
                    "ones; replaces `weights`")

    @model_validator(mode="after")
    def _one_form(self) -> Objective:
        if self.lexicographic is not None and self.weights:
            raise ValueError("give either `weights` or `lexicographic`, not both")
        return self


class Scenario(Strict):
    description: str = ""
    set: dict[str, object] = Field(description="dotted key -> value, or \"*factor\" to scale")


class Period(Strict):
    id: Id
    years: number(1, 100, whole=True) = Field(  # type: ignore[valid-type]
        description="years the period lasts (1 to 100); periods follow each other in the order listed")


class Instance(Strict):
    name: str
    description: str = ""
    units: Units = Field(default_factory=Units)
    resources: dict[Id, Resource] = Field(min_length=1)
    industries: list[Industry] = Field(min_length=1)
    parks: list[Park] = Field(min_length=1)
    pairs: list[Pair] = Field(default_factory=list)
    groups: dict[Id, Group] = Field(default_factory=dict)
    provinces: dict[str, Province] = Field(default_factory=dict, description="regions of provinces that have "
                                           "no park (the sending provinces), for the ledger by region; codes "
                                           "and names of any province")
    sectors: dict[str, Sector] = Field(default_factory=dict, description="codes and names of the sectors "
                                       "industries name")
    regions: dict[str, Region] = Field(default_factory=dict, description="names of the regions parks and "
                                       "provinces name")
    rules: list[RuleBase] = Field(default_factory=list, description="policy rules; the kinds are the "
                                  "families' (`model/families/__init__.py`)")
    objective: Objective = Field(default_factory=Objective)
    scenarios: dict[Id, Scenario] = Field(default_factory=dict)
    periods: list[Period] | None = Field(None, min_length=1, description="the planning periods, in order; "
                                         "absent: one annualised period")
    discount_rate: Share = Field(0.0, description="yearly rate at which later money counts less (with `periods`)")
    terminal_years: number(0, 100, whole=True) = Field(  # type: ignore[valid-type]
        0, description="years after the last period that its yearly amounts still count (with `periods`)")

    def levels(self) -> list[tuple[dict[str, float], float]]:
        """The objective as levels of (weights over every KPI term, tolerance); one level if not lexicographic."""
        from model.kpis import default_weights

        defaults = default_weights()

        def own(weights: dict[str, float]) -> dict[str, float]:  # a jurisdiction's KPI: `value_added@Anhui`
            return {t: float(w) for t, w in weights.items() if "@" in t}

        if self.objective.lexicographic:
            return [({**{t: float(s.weights.get(t, 0.0)) for t in defaults}, **own(s.weights)}, s.tolerance)
                    for s in self.objective.lexicographic]
        return [({**{t: float(self.objective.weights.get(t, w)) for t, w in defaults.items()},
                  **own(self.objective.weights)}, 0.0)]

    def weight(self, term: str) -> float:
        """Weight of a KPI term in the objective that is finally minimised (the last level)."""
        return self.levels()[-1][0][term]
