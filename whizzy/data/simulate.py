"""The simulation behind `generate_org`: users, accounts, opportunities, stage walks, history.

Everything is vectorised over opportunities and history rows with numpy (loops run over
stages, push rounds or industries, never over rows). The shapes and odds are documented in
`whizzy.data.generate`.
"""

from __future__ import annotations

import math
from datetime import date

import numpy as np

from whizzy.core.errors import ConfigError
from whizzy.data import names
from whizzy.warehouse.schema import (
    DEFAULT_STAGES,
    INDUSTRIES,
)

#: Average days an opportunity stays in each open stage (Needs Analysis and
#: Negotiation/Review are the bottlenecks).
STAGE_DWELL_DAYS = np.array([12.0, 16.0, 42.0, 19.0, 14.0, 12.0, 21.0, 23.0])
#: Chance that a typical deal leaves each open stage forward (else it is lost there).
STAGE_SURVIVAL = np.array([0.75, 0.78, 0.84, 0.87, 0.89, 0.91, 0.87, 0.62])
N_OPEN = 8
WON, LOST = 8, 9
STAGE_NAMES = [s[0] for s in DEFAULT_STAGES]
STAGE_PROBABILITY = np.array([s[1] for s in DEFAULT_STAGES], dtype=np.int32)
FORECAST_NAMES = ["Pipeline", "Best Case", "Commit", "Closed", "Omitted"]
FORECAST_API = ["Pipeline", "BestCase", "Forecast", "Closed", "Omitted"]
STAGE_FORECAST = np.array([FORECAST_NAMES.index(s[2]) for s in DEFAULT_STAGES], dtype=np.int8)

#: Industry → (share of accounts, win-odds factor, amount factor).
INDUSTRY_PROFILE: dict[str, tuple[float, float, float]] = {
    "Agriculture": (1.0, 0.85, 0.7), "Apparel": (1.5, 0.85, 0.8), "Banking": (5.0, 1.15, 1.6),
    "Biotechnology": (2.0, 1.10, 1.2), "Chemicals": (1.5, 0.95, 1.1),
    "Communications": (2.0, 1.00, 1.1), "Construction": (2.5, 0.85, 0.9),
    "Consulting": (4.0, 1.10, 0.8), "Education": (4.0, 0.75, 0.6),
    "Electronics": (3.0, 1.05, 1.1), "Energy": (3.0, 0.95, 1.4),
    "Engineering": (2.5, 1.00, 1.0), "Entertainment": (1.5, 0.85, 0.8),
    "Environmental": (1.0, 0.90, 0.8), "Finance": (6.0, 1.20, 1.5),
    "Food & Beverage": (2.0, 0.90, 0.8), "Government": (3.0, 0.70, 1.5),
    "Healthcare": (8.0, 1.15, 1.2), "Hospitality": (1.5, 0.80, 0.7),
    "Insurance": (4.0, 1.05, 1.4), "Machinery": (2.0, 0.95, 1.0),
    "Manufacturing": (8.0, 1.00, 1.1), "Media": (3.0, 0.90, 0.8),
    "Not For Profit": (2.0, 0.75, 0.5), "Recreation": (1.0, 0.85, 0.6),
    "Retail": (6.0, 0.80, 0.9), "Shipping": (1.5, 0.90, 1.0), "Technology": (14.0, 1.30, 1.2),
    "Telecommunications": (4.0, 1.00, 1.4), "Transportation": (3.0, 0.90, 1.0),
    "Utilities": (2.0, 0.85, 1.3), "Other": (2.0, 0.90, 0.9),
}
#: Opportunity type → (share for repeat deals of an account, win-odds factor, amount factor).
TYPE_PROFILE = np.array([[0.30, 1.00, 1.00], [0.45, 1.35, 0.60], [0.15, 1.50, 0.50],
                         [0.10, 1.20, 0.80]])
#: Lead source → win-odds factor (same order as names.LEAD_SOURCES, then blank).
LEAD_WIN = np.array([1.0, 1.25, 1.0, 0.95, 1.3, 1.15, 0.7, 0.85, 1.0, 0.9, 1.0])
REGION_SHARE = np.array([0.60, 0.25, 0.15])
MEDIAN_AMOUNT = 45_000.0


def epoch_day(d: date) -> int:
    """Days since 1970-01-01."""
    return (d - date(1970, 1, 1)).days


def months_before(d: date, months: int) -> date:
    """`d` moved `months` months back (the day capped at 28)."""
    y, m = divmod(d.year * 12 + d.month - 1 - months, 12)
    return date(y, m + 1, min(d.day, 28))


def _month_end(day: np.ndarray) -> np.ndarray:
    """Last day of the month holding each epoch day."""
    m = np.floor(day).astype("datetime64[D]").astype("datetime64[M]")
    return ((m + 1).astype("datetime64[D]") - np.timedelta64(1, "D")).astype(np.int64)


def _quarter_end(day: np.ndarray) -> np.ndarray:
    """Last day of the calendar quarter holding each epoch day."""
    m = np.floor(day).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    nxt = (m - m % 3 + 3).astype("datetime64[M]").astype("datetime64[D]")
    return (nxt - np.timedelta64(1, "D")).astype(np.int64)


def _month_of(day: np.ndarray) -> np.ndarray:
    """Calendar month number 1-12 of each epoch day."""
    m = np.floor(day).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    return m % 12 + 1


def _round_amount(x: np.ndarray) -> np.ndarray:
    """Amounts as people type them: to the 100 from 5,000 up, else to the 10."""
    return np.where(x >= 5000, np.round(x, -2), np.round(x, -1)).clip(min=10.0)


def _lognormal_mean(rng: np.random.Generator, mean: np.ndarray, sigma: float) -> np.ndarray:
    """Log-normal draws whose expectation is `mean`."""
    return mean * np.exp(rng.normal(-sigma * sigma / 2, sigma, size=np.shape(mean)))


def _ffill_index(has_value: np.ndarray) -> np.ndarray:
    """Index of the latest row at or before each row that has a value (rows sorted by group)."""
    idx = np.where(has_value, np.arange(has_value.size), 0)
    return np.maximum.accumulate(idx)


# --------------------------------------------------------------------------------------
# Users and roles


def build_users(rng: np.random.Generator, n_reps: int, as_of_day: int, span_days: int) -> dict:
    """Roles, users and per-rep attributes (region, skill, manager, leaving day)."""
    region_reps = np.floor(REGION_SHARE * n_reps).astype(int)
    region_reps[0] += n_reps - region_reps.sum()
    if n_reps >= 3:
        for r in range(3):  # every region has at least one rep
            if region_reps[r] == 0:
                region_reps[r] = 1
                region_reps[0] -= 1
    roles = [("CEO", None), ("VP, Sales", 0), ("Sales Operations", 1)]
    role_of = {}
    for region in names.REGIONS:
        role_of[("dir", region)] = len(roles)
        roles.append((f"Regional Sales Director, {region}", 1))
        role_of[("mgr", region)] = len(roles)
        roles.append((f"Sales Manager, {region}", role_of[("dir", region)]))
        role_of[("ae", region)] = len(roles)
        roles.append((f"Account Executive, {region}", role_of[("mgr", region)]))

    n_mgr = [math.ceil(k / 7) for k in region_reps]
    n_ops = max(1, n_reps // 60)
    n_users = 2 + n_ops + 3 + sum(n_mgr) + n_reps
    grid = len(names.FIRST_NAMES) * len(names.LAST_NAMES)
    if n_users > grid * 26:
        raise ConfigError("too many users for the name lists; use fewer opportunities.")
    codes = rng.choice(grid * (26 if n_users > grid // 2 else 1), n_users, replace=False)
    first = [names.FIRST_NAMES[c % grid // len(names.LAST_NAMES)] for c in codes]
    last = [names.LAST_NAMES[c % len(names.LAST_NAMES)] for c in codes]
    middle = [chr(65 + c // grid) + "." if n_users > grid // 2 else "" for c in codes]

    users: list[dict] = []
    span_start = as_of_day - span_days

    def add(title: str, dept: str, role: int, manager: int | None, hired: float) -> int:
        k = len(users)
        users.append(dict(title=title, department=dept, role=role, manager=manager, hired=hired,
                          active=True))
        return k

    ceo = add("Chief Executive Officer", "Executive", 0, None, span_start - 1500)
    vp = add("VP of Sales", "Sales", 1, ceo, span_start - 900)
    for _ in range(n_ops):
        hired = span_start - rng.uniform(100, 800)
        add("Sales Operations Manager", "Sales Operations", 2, vp, hired)
    rep_region, rep_manager, rep_user = [], [], []
    for r, region in enumerate(names.REGIONS):
        director = add("Regional Sales Director", "Sales", role_of[("dir", region)], vp,
                       span_start - rng.uniform(200, 900))
        managers = [
            add("Sales Manager", "Sales", role_of[("mgr", region)], director,
                span_start - rng.uniform(60, 800))
            for _ in range(n_mgr[r])
        ]
        for k in range(region_reps[r]):
            manager = managers[k * len(managers) // region_reps[r]]
            rep_user.append(add("Account Executive", "Sales", role_of[("ae", region)], manager,
                                span_start - rng.uniform(20, 700)))
            rep_region.append(r)
            rep_manager.append(manager)
    # Disambiguation material: the first two reps share a first name.
    if len(rep_user) >= 2:
        a, b = rep_user[0], rep_user[1]
        first[b] = first[a]
        taken = {(f, m, s) for f, m, s in zip(first, middle, last, strict=True)}
        for cand in names.LAST_NAMES:
            if (first[b], middle[b], cand) not in taken - {(first[b], middle[b], last[b])}:
                last[b] = cand
                break

    rep_user_arr = np.array(rep_user)
    skill = np.exp(rng.normal(0.0, 0.33, n_reps))
    senior = skill > np.quantile(skill, 0.7) if n_reps else np.zeros(0, bool)
    for k, u in enumerate(rep_user):
        if senior[k]:
            users[u]["title"] = "Senior Account Executive"
    # Reps who left: inactive, with a leaving day; their later deals belong to others.
    leave = np.full(n_reps, np.inf)
    n_left = max(1, round(0.06 * n_reps)) if n_reps >= 8 else 0
    if n_left:
        # never the only rep of a region
        candidates = [k for k in range(n_reps) if region_reps[rep_region[k]] > 1]
        left = rng.choice(candidates, size=min(n_left, len(candidates)), replace=False)
        lo, hi = span_start + 0.35 * span_days, as_of_day - min(45, span_days * 0.1)
        leave[left] = rng.uniform(lo, max(lo + 1, hi), size=left.size)
        for k in left:
            users[rep_user[k]]["active"] = False

    used_emails: set[str] = set()
    for k, u in enumerate(users):
        u["first"] = f"{first[k]} {middle[k]}".strip()  # middle initial only in huge orgs
        u["last"] = last[k]
        u["name"] = f"{u['first']} {u['last']}"
        local = "".join(ch for ch in f"{u['first']}.{u['last']}".lower().replace(" ", "")
                        if ch.isascii() and (ch.isalnum() or ch == "."))
        email, n = f"{local}@whizzy-demo.example", 2
        while email in used_emails:
            email, n = f"{local}{n}@whizzy-demo.example", n + 1
        used_emails.add(email)
        u["email"] = email
    return dict(
        roles=roles, users=users, rep_user=rep_user_arr, rep_region=np.array(rep_region),
        rep_manager=np.array(rep_manager), skill=skill, leave=leave, ops_user=2,
    )


# --------------------------------------------------------------------------------------
# Accounts


def _account_names(rng: np.random.Generator, industry: np.ndarray) -> list[str]:
    """Unique realistic company names; the noun matches the industry."""
    brands, sufs = names.BRANDS, names.COMPANY_SUFFIXES
    nb, ns = len(brands), len(sufs)
    out: list[str] = [""] * industry.size
    for k, ind in enumerate(INDUSTRIES):
        rows = np.flatnonzero(industry == k)
        if rows.size == 0:
            continue
        nouns = names.INDUSTRY_NOUNS[ind]
        nn = len(nouns)
        cap1 = nb * nn * ns
        n1 = min(rows.size, cap1 // 2)
        codes1 = rng.choice(cap1, n1, replace=False)
        codes2 = rng.choice(nb * (nb - 1) * nn * ns, rows.size - n1, replace=False)
        for row, c in zip(rows[:n1], codes1.tolist(), strict=True):
            b, rest = divmod(c, nn * ns)
            n, s = divmod(rest, ns)
            out[row] = " ".join(p for p in (brands[b], nouns[n], sufs[s]) if p)
        for row, c in zip(rows[n1:], codes2.tolist(), strict=True):
            b1, rest = divmod(c, (nb - 1) * nn * ns)
            b2, rest = divmod(rest, nn * ns)
            b2 += b2 >= b1
            n, s = divmod(rest, ns)
            out[row] = " ".join(p for p in (brands[b1], brands[b2], nouns[n], sufs[s]) if p)
    return out


def build_accounts(rng: np.random.Generator, n_acc: int, org: dict) -> dict:
    """Accounts across the Industry picklist, with size, country and owner."""
    countries = names.COUNTRIES
    cw = np.array([c[2] for c in countries])
    country = rng.choice(len(countries), n_acc, p=cw / cw.sum())
    region = np.array([names.REGIONS.index(c[1]) for c in countries])[country]
    state = np.full(n_acc, -1)
    state_names: list[str] = []
    for k, c in enumerate(countries):
        rows = np.flatnonzero(country == k)
        if c[3] and rows.size:
            # bigger states first: weights 1/(rank+1)
            w = 1.0 / np.arange(1, len(c[3]) + 1)
            state[rows] = len(state_names) + rng.choice(len(c[3]), rows.size, p=w / w.sum())
        state_names.extend(c[3])
    iw = np.array([INDUSTRY_PROFILE[i][0] for i in INDUSTRIES])
    industry = rng.choice(len(INDUSTRIES), n_acc, p=iw / iw.sum())
    employees = np.clip(np.exp(rng.normal(math.log(250), 1.5, n_acc)), 3, 250_000).astype(np.int64)
    revenue = np.round(employees * np.exp(rng.normal(math.log(180_000), 0.5, n_acc)), -3)
    revenue[rng.random(n_acc) < 0.02] = np.nan
    # Owner: a rep of the account's region who is still here (reps hold accounts until they leave).
    rep_region, leave = org["rep_region"], org["leave"]
    original = _pick_rep(rng, region, rep_region)
    current = original.copy()
    gone = np.isfinite(leave[original])
    if gone.any():
        active = np.isinf(leave)
        current[gone] = _pick_rep(rng, region[gone], rep_region, among=active)
    weight = np.exp(rng.normal(0, 1.0, n_acc)) * (employees / 250.0) ** 0.2
    return dict(
        n=n_acc, country=country, region=region, state=state, state_names=state_names,
        industry=industry, employees=employees, revenue=revenue, original_owner=original,
        owner=current, weight=weight / weight.sum(), names=_account_names(rng, industry),
    )


def _pick_rep(
    rng: np.random.Generator, region: np.ndarray, rep_region: np.ndarray,
    among: np.ndarray | None = None,
) -> np.ndarray:
    """A uniformly random rep of each row's region (optionally only reps where `among`)."""
    ok = np.ones(rep_region.size, bool) if among is None else among
    order = np.flatnonzero(ok)[np.argsort(rep_region[ok], kind="stable")]
    counts = np.bincount(rep_region[order], minlength=3)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    reg = np.where(counts[region] > 0, region, np.argmax(counts))  # empty region: biggest one
    pick = starts[reg] + np.floor(rng.random(region.size) * counts[reg]).astype(np.int64)
    return order[pick]


# --------------------------------------------------------------------------------------
# Opportunities: who, when, how much


def _created_days(rng: np.random.Generator, n: int, start: float, end: float) -> np.ndarray:
    """Creation moments (epoch days) for a business that doubles its deal flow, on weekdays."""
    g = 1.0
    u = rng.random(n)
    x = (-1 + np.sqrt(1 + 2 * g * u * (1 + g / 2))) / g
    day = np.floor(start + x * (end - start))
    dow = (day + 3) % 7  # 0 = Monday
    move = rng.random(n) < 0.85
    day = np.where(move & (dow == 5), day - 1, day)
    day = np.where(move & (dow == 6), np.where(day + 1 < end, day + 1, day - 2), day)
    day = np.clip(day, math.floor(start), math.floor(end) - 1)
    return day + rng.uniform(8 / 24, 18 / 24, n)


def build_opportunities(rng: np.random.Generator, n: int, org: dict, acc: dict,
                         span_start: float, as_of_day: int) -> dict:
    """Opportunities: account, owner, type, lead source, created day and planned amount."""
    account = rng.choice(acc["n"], n, p=acc["weight"])
    created = _created_days(rng, n, span_start, as_of_day + 1)
    # Type: an account's first deal is new business; later ones mostly existing business.
    order = np.argsort(created, kind="stable")
    order = order[np.argsort(account[order], kind="stable")]
    first = np.ones(n, bool)
    first[order[1:]] = account[order[1:]] != account[order[:-1]]
    tp = TYPE_PROFILE[:, 0]
    opp_type = np.where(first, 0, rng.choice(len(tp), n, p=tp / tp.sum()))
    lw = np.array([w for _, w in names.LEAD_SOURCES])
    lead = rng.choice(len(lw) + 1, n, p=np.append(lw, 1.0 - lw.sum()))  # last = left blank
    # Owner: the account's owner at the time, sometimes another rep of the region.
    leave = org["leave"]
    owner = np.where(created < leave[acc["original_owner"][account]],
                     acc["original_owner"][account], acc["owner"][account])
    other = rng.random(n) < 0.15
    alt = _pick_rep(rng, acc["region"][account[other]], org["rep_region"])
    alt = np.where(created[other] < leave[alt], alt, owner[other])
    owner[other] = alt
    industry = acc["industry"][account]
    ind_amount = np.array([INDUSTRY_PROFILE[i][2] for i in INDUSTRIES])[industry]
    q4 = np.isin(_month_of(created), (10, 11, 12))
    amount = _lognormal_mean(
        rng,
        MEDIAN_AMOUNT * ind_amount * TYPE_PROFILE[opp_type, 2] * np.where(q4, 1.1, 1.0)
        * (acc["employees"][account] / 250.0) ** 0.25,
        0.95,
    )
    return dict(
        n=n, account=account, created=created, type=opp_type, lead=lead, owner=owner,
        industry=industry, amount=_round_amount(amount),
        product=rng.integers(0, len(names.OPPORTUNITY_PRODUCTS), n),
    )


# --------------------------------------------------------------------------------------
# The sales process


def walk_stages(rng: np.random.Generator, opp: dict, org: dict) -> dict:
    """Stage sequence, dwell times and outcome of every opportunity (relative times)."""
    n = opp["n"]
    ind_win = np.array([INDUSTRY_PROFILE[i][1] for i in INDUSTRIES])[opp["industry"]]
    odds = org["skill"][opp["owner"]] * ind_win * TYPE_PROFILE[opp["type"], 1]
    odds = odds * LEAD_WIN[opp["lead"]]
    hazard = 1.0 / odds
    start = rng.choice(3, n, p=[0.70, 0.22, 0.08])
    exit_stage = np.full(n, N_OPEN - 1)
    lost = np.zeros(n, bool)
    for s in range(N_OPEN):
        alive = (start <= s) & ~lost
        die = alive & (rng.random(n) > STAGE_SURVIVAL[s] ** hazard)
        exit_stage[die] = s
        lost |= die
    won = ~lost
    st = np.arange(N_OPEN)[None, :]
    visited = (st >= start[:, None]) & (st <= exit_stage[:, None])
    skip = (rng.random((n, N_OPEN)) < 0.07) & (st >= 3) & (st <= 6)
    skip &= (st > start[:, None]) & (st < exit_stage[:, None])
    visited &= ~skip
    no_nego = won & (rng.random(n) < 0.10)
    visited[no_nego, 7] = False
    visited[no_nego, 6] = True
    count = visited.sum(axis=1)
    seq = np.sort(np.where(visited, st, 99), axis=1)
    seq = np.concatenate([seq, np.full((n, 2), 99)], axis=1)  # room for a step back
    # A few deals step back one stage and come forward again: ..., s, prev, s, ...
    back = (rng.random(n) < 0.05) & (count >= 3)
    p = 1 + np.floor(rng.random(n) * (count - 1)).astype(np.int64)
    j = np.arange(N_OPEN + 2)[None, :]
    b = np.flatnonzero(back)
    pb = p[b][:, None]
    src = np.where(j <= pb, j, np.where(j == pb + 1, pb - 1, np.where(j == pb + 2, pb, j - 2)))
    seq[b] = np.take_along_axis(seq[b], src, axis=1)
    count = count + 2 * back
    k = N_OPEN + 3
    stage = np.full((n, k), -1, dtype=np.int8)
    stage[:, : N_OPEN + 2] = np.where(seq == 99, -1, seq)
    rows = np.arange(n)
    stage[rows, count] = np.where(won, WON, LOST)
    valid = stage >= 0
    # Dwell times: per stage average, slower for bigger deals and some reps.
    speed = np.exp(rng.normal(0, 0.2, org["skill"].size))[opp["owner"]]
    size = np.clip((opp["amount"] / MEDIAN_AMOUNT) ** 0.12, 0.7, 1.6)
    mean = STAGE_DWELL_DAYS[np.clip(stage, 0, N_OPEN - 1)] * (speed * size)[:, None]
    if back.any():
        mean[back, p[back] + 1] *= 0.4
        mean[back, p[back] + 2] *= 0.6
    last_open = count - 1
    # Zombie deals sit for months before someone closes them; abandoned ones are never
    # closed at all (they stay open, their close date long past).
    u = rng.random(n)
    stuck = lost & (u < 0.22)
    abandoned = lost & (u < 0.07)
    mean[rows, last_open] *= np.where(lost, np.where(abandoned, 400.0, np.where(stuck, 6.0, 0.8)),
                                      1.0)
    has = np.arange(k)[None, :] < count[:, None]  # cells with a stay (not the closing row)
    m = mean[has]
    dwell = np.zeros((n, k))
    dwell[has] = np.floor(_lognormal_mean(rng, m, 0.55)) + rng.uniform(0.01, 0.08, m.size)
    del m, mean, has
    rel = np.concatenate([np.zeros((n, 1)), np.cumsum(dwell, axis=1)[:, :-1]], axis=1)
    rel = np.where(valid, rel, np.nan)
    return dict(stage=stage, rel=rel, count=count, won=won, start=start, stuck=stuck,
                abandoned=abandoned)


def seasonality(rng: np.random.Generator, opp: dict, walk: dict) -> None:
    """Pull closes toward quarter ends (won deals most, Q4 most) by stretching the last stage."""
    n = opp["n"]
    rows = np.arange(n)
    count, won, stage = walk["count"], walk["won"], walk["stage"]
    rel = walk["rel"]
    created = opp["created"]
    end = created + rel[rows, count]
    last_start = created + rel[rows, count - 1]
    q_end = _quarter_end(end)
    frac = end - np.floor(end)
    q4 = np.isin(_month_of(end), (10, 11, 12))
    # Year-end budgets: late-stage deals deciding in Q4 are won more often.
    flip = ~won & q4 & (stage[rows, count - 1] >= 5) & (rng.random(n) < 0.5)
    stage[rows[flip], count[flip]] = WON
    won |= flip
    pull = np.where(won, np.where(q4, 0.55, 0.40), 0.20)
    pulled = rng.random(n) < pull
    target = q_end - np.floor(rng.exponential(3.0, n)).clip(0, 12) + frac
    new_end = np.where(pulled, np.maximum(end, target), end)
    # Year-end push: won deals about to close in early January are signed before New Year.
    jan = (_month_of(end) == 1) & ((np.floor(end) - _quarter_end(end - 40)) <= 21)
    dec31 = _quarter_end(end - 40)
    early = won & jan & (rng.random(n) < 0.5)
    target = dec31 - np.floor(rng.exponential(2.0, n)).clip(0, 8) + frac
    ok = early & (target > last_start + 0.5)
    new_end = np.where(ok, target, new_end)
    rel[rows, count] = new_end - created


def force_open_share(rng: np.random.Generator, opp: dict, walk: dict, share: float,
                      span_start: float, cutoff: float) -> None:
    """Shift whole timelines so exactly `share` of the opportunities are open at the cutoff."""
    n = opp["n"]
    rows = np.arange(n)
    created, rel, count = opp["created"], walk["rel"], walk["count"]
    length = rel[rows, count]
    is_open = created + length > cutoff
    target = round(share * n)
    n_open = int(is_open.sum())
    if n_open > target:
        move = rng.choice(np.flatnonzero(is_open), n_open - target, replace=False)
        room = cutoff - 0.05 - span_start
        scale = np.minimum(1.0, 0.9 * room / np.maximum(length[move], 1e-9))
        rel[move] *= scale[:, None]
        spare = room - length[move] * scale
        created[move] = span_start + rng.random(move.size) * spare
    elif n_open < target:
        move = rng.choice(np.flatnonzero(~is_open), target - n_open, replace=False)
        back = rng.uniform(0.05, 0.95, move.size) * np.minimum(length[move], cutoff - span_start)
        created[move] = cutoff - back  # back < length: the journey ends after the cutoff


def plan_close_dates(rng: np.random.Generator, opp: dict, walk: dict, cutoff: float) -> dict:
    """Initial (optimistic) close dates and the pushes reps make as dates go by."""
    n = opp["n"]
    rows = np.arange(n)
    created = opp["created"]
    end = created + walk["rel"][rows, walk["count"]]
    remaining = np.cumsum(STAGE_DWELL_DAYS[::-1])[::-1][walk["start"]]
    guess = np.maximum(7.0, remaining * np.exp(rng.normal(math.log(0.7), 0.35, n)))
    cd = np.floor(created + guess)
    snap = rng.random(n)
    cd = np.where(snap < 0.30, _month_end(cd), np.where(snap < 0.55, _quarter_end(cd), cd))
    # "this quarter" habit: some reps put the current quarter end whatever the deal says
    this_q = _quarter_end(created)
    this_q = np.where(this_q - created < 14, _quarter_end(this_q + 1), this_q)
    cd = np.where(snap > 0.75, this_q, cd)
    cd0 = cd.astype(np.int64)
    cd = cd0.copy()
    last_t = created.copy()
    # deals whose close date lapses for weeks before anyone acts (always the zombies)
    stale = (rng.random(n) < 0.25) | walk["stuck"]
    # nobody updates an abandoned deal for long
    max_pushes = np.where(walk["abandoned"], rng.integers(0, 3, n), 99)
    push_opp, push_t, push_cd = [], [], []
    active = np.ones(n, bool)
    for round_no in range(12):
        idx = np.flatnonzero(active & (cd < np.floor(end)) & (max_pushes > round_no))
        if idx.size == 0:
            break
        u = rng.random(idx.size)
        lag = np.where(u < 0.65, rng.uniform(-7, 7, idx.size), rng.uniform(7, 30, idx.size))
        lag = np.where(stale[idx], rng.uniform(30, 150, idx.size), lag)
        t = np.maximum(cd[idx] + lag + rng.uniform(8 / 24, 18 / 24, idx.size),
                       last_t[idx] + rng.uniform(0.5, 3.0, idx.size))
        ok = (t < end[idx]) & (t <= cutoff - 0.01)
        idx, t = idx[ok], t[ok]
        active[:] = False
        active[idx] = True
        if idx.size == 0:
            break
        kind = rng.random(idx.size)
        old = cd[idx].astype(float)
        new = np.where(
            kind < 0.40, _month_end(old + 20),
            np.where(kind < 0.75, _quarter_end(_quarter_end(old) + 1),
                     old + rng.integers(7, 46, idx.size)),
        )
        new = np.maximum(new, np.floor(t) + 3).astype(np.int64)
        cd[idx] = new
        last_t[idx] = t
        push_opp.append(idx)
        push_t.append(t)
        push_cd.append(new)
    return dict(cd0=cd0, push_opp=_concat(push_opp, np.int64), push_t=_concat(push_t, float),
                push_cd=_concat(push_cd, np.int64))


def _concat(parts: list[np.ndarray], dtype: type) -> np.ndarray:
    return np.concatenate(parts) if parts else np.zeros(0, dtype)


def amount_changes(rng: np.random.Generator, opp: dict, walk: dict, cutoff: float) -> dict:
    """Amount revisions during a deal's life, a discount at signature, late-entered amounts."""
    n = opp["n"]
    rows = np.arange(n)
    created, rel, count = opp["created"], walk["rel"], walk["count"]
    end = created + rel[rows, count]
    live_end = np.minimum(end, cutoff)
    k = rng.choice(4, n, p=[0.70, 0.21, 0.07, 0.02])
    o = np.repeat(rows, k)
    t = created[o] + rng.uniform(0.02, 0.98, o.size) * (live_end[o] - created[o])
    mult = rng.normal(0.0, 0.25, o.size)
    # discount at signature for a third of won deals
    disc = walk["won"] & (end <= cutoff) & (rng.random(n) < 0.35)
    d = np.flatnonzero(disc)
    last_start = created[d] + rel[d, count[d] - 1]
    td = end[d] - 0.3 * (end[d] - last_start)
    # amount missing at creation, entered during the second stage
    blank = (count >= 3) & (rng.random(n) < 0.03)
    b = np.flatnonzero(blank)
    tb = created[b] + (rel[b, 1] + rel[b, 2]) / 2
    keep = tb <= cutoff - 0.01
    return dict(
        opp=np.concatenate([o, d, b[keep]]),
        t=np.concatenate([t, td, tb[keep]]),
        logm=np.concatenate([mult, np.log(rng.uniform(0.80, 0.97, d.size)), np.zeros(keep.sum())]),
        sets=np.concatenate([np.zeros(o.size + d.size, bool), np.ones(keep.sum(), bool)]),
        blank=blank,
    )


def history_rows(opp: dict, walk: dict, plan: dict, amounts: dict, cutoff: float) -> dict:
    """All OpportunityHistory rows, each carrying the full values after its change."""
    n = opp["n"]
    created = opp["created"]
    stage, rel, count = walk["stage"], walk["rel"], walk["count"]
    t_abs = created[:, None] + rel
    visible = (stage >= 0) & (t_abs <= cutoff)
    vi, vj = np.nonzero(visible)
    v_stage = stage[vi, vj].astype(np.int16)
    v_t = t_abs[vi, vj]
    v_cd = np.full(vi.size, -1, np.int64)
    first = vj == 0
    v_cd[first] = plan["cd0"][vi[first]]
    terminal = vj == count[vi]
    v_cd[terminal] = np.floor(v_t[terminal]).astype(np.int64)
    p_n, a_n = plan["push_opp"].size, amounts["opp"].size
    o = np.concatenate([vi, plan["push_opp"], amounts["opp"]])
    t = np.concatenate([v_t, plan["push_t"], amounts["t"]])
    st = np.concatenate([v_stage, np.full(p_n + a_n, -1, np.int16)])
    cd = np.concatenate([v_cd, plan["push_cd"], np.full(a_n, -1, np.int64)])
    logm = np.concatenate([np.zeros(vi.size + p_n), amounts["logm"]])
    sets = np.concatenate([np.zeros(vi.size + p_n, bool), amounts["sets"]])
    # Sort by opportunity, second, kind: the creation row first; within one second pushes
    # and amount edits come before a stage change, so a closing row is always the last.
    kind = np.concatenate([np.where(first, 0, 3), np.full(p_n, 1), np.full(a_n, 2)])
    sec = np.round(t * 86_400).astype(np.int64)
    sec0 = int(sec.min()) if sec.size else 0
    order = np.argsort((o << 34) | ((sec - sec0) << 2) | kind, kind="stable")
    o, sec, st, cd, logm, sets = (a[order] for a in (o, sec, st, cd, logm, sets))
    del order, kind, t
    st = st[_ffill_index(st >= 0)]
    cd = cd[_ffill_index(cd >= 0)]
    # amount = starting amount × product of revisions so far; blank until entered
    counts = np.bincount(o, minlength=n)
    group_start = np.concatenate([[0], np.cumsum(counts)[:-1]])
    cs = np.cumsum(logm)
    base = np.concatenate([[0.0], cs])[group_start[o]]
    amount = _round_amount(opp["amount"][o] * np.exp(cs - base))
    cset = np.cumsum(sets)
    set_before = np.concatenate([[0], cset])[group_start[o]]
    amount[amounts["blank"][o] & (cset - set_before == 0)] = np.nan
    # strictly increasing timestamps per opportunity (whole seconds)
    idx = np.arange(o.size, dtype=np.int64)
    big = np.int64(1) << 36
    sec = np.maximum.accumulate(sec - idx + o * big) - o * big + idx
    return dict(opp=o, sec=sec, stage=st, cd=cd, amount=amount, group_start=group_start,
                counts=counts)
