"""Follow-ups: a question read on its own, then applied to the previous query of the thread.

"and last quarter?", "only the ones in negotiation", "who owns the biggest one?", "why?":
`is_follow_up` decides whether the question continues the thread, `apply_to_previous`
narrows, re-ranks, re-groups, re-times or asks a record of the previous query, and `reserve`
moves the result to another model when its own cannot apply what was added.
"""

from __future__ import annotations

import re

from agents import grammar
from agents.contract import Condition, Intent, NotApplied, Order, Query, Ranking
from agents.periods import (
    TIME_BUCKETS,
    Period,
    current,
    parse_period,
    shift,
    widen_to_grain,
    year_before,
)
from agents.reading import Context, Parse, has, period_of, window_of
from agents.serving import candidate_of, choose_model, serve
from agents.values import PERSON_DIMENSIONS
from agents.vocabulary import Vocabulary


def is_follow_up(p: Parse, query: Query, previous: Query) -> bool:
    """Whether the question continues the previous one rather than standing alone.

    A question with its own figure and its own scope (a period, a member or a grouping)
    stands alone unless it points back ("that", "them") or starts like a fragment ("and",
    "what about", "only"); one without a figure of its own continues the thread.
    """
    if previous.clarify or previous.unanswerable:
        return False
    text = " ".join(p.words)
    points_back = bool(set(p.words) & {"it", "its", "that", "those", "them", "they", "these",
                                       "their", "his", "her"}) or has(p.words, "the one",
                                                                       "the ones") or \
        bool(re.search(r"\bthe (?:\w+ ){1,3}ones?\b", " ".join(p.words)))  # "the biggest one"
    points_back = points_back or bool(_kept_member_named(p, previous)) or (
        len(p.words) > 2 and p.words[-1] == "there" and p.words[-2] not in {
            "is", "are", "was", "were", "any", "anything", "anyone"})  # ("… the most $ there")
    listed = previous.shown or previous.listed or previous.ranked
    points_back = points_back or bool(listed) and grammar.ordinal_of(
        " ".join(p.words)) is not None  # "the #1 rep there", "the 2nd one"
    fragment = bool(re.match(r"^(?:and|also|what about|how about|what of|same|now|then|ok|"
                             r"okay|but|only|just|excluding|exclude|except|without|instead|"
                             r"top \d+ only|break|split|drill|slice)\b", text))
    relative = bool(grammar.RELATIVE.search(text))
    scoped = query.window is not None or bool(query.filters) or bool(query.group_by)
    if p.explicit and query.measures and scoped and not (points_back or fragment or relative):
        if query.window is None and not query.filters and previous.window is not None and \
                previous.window.text and not previous.group_by:
            # "which rep let the most $ slip?" after last quarter's slippage: a breakdown of
            # the thread's figure, in the period the thread named
            return True
        return False
    if query.records and scoped and not (points_back or fragment):
        return False
    # "what does the trend model say?" after next month's forecast: another figure of the
    # same model, with no scope of its own, keeps the scope the thread is looking at
    sibling = not scoped and query.model is not None and query.model == previous.model \
        and previous.window is not None and not query.records
    return points_back or fragment or relative or not p.explicit or len(p.words) <= 4 or \
        sibling


#: A member's part of the figure just ranked: "their piece", "its share", "their chunk".
_PIECE = re.compile(r"\b(?:their|its|his|her) (?:piece|part|portion|slice|chunk|share)\b")

#: A figure asked with a verb a flag names: "what did we book", "how much have they lost".
_ASKS_FIGURE = re.compile(r"\b(?:what|how much)\s+(?:did|have|has|do|does)\s+(?:we|they|he|"
                          r"she|you|i|the team)\s+(?:actually\s+|really\s+)?\w+")


def apply_to_previous(p: Parse, query: Query, context: Context) -> Query:
    """The previous query narrowed, re-ranked, re-grouped, re-timed or asked of a record."""
    prev = context.previous
    words = p.words
    text = " ".join(words)
    if query.measures and not p.explicit and _ASKS_FIGURE.search(text) and p.flags:
        # "and what did we actually book there?": the figure the verb names is asked, not
        # the last figure narrowed to those deals
        p.explicit = True
    inherited: list[str] = []
    update: dict = {"follow_up": True, "question": p.question, "ranked": prev.ranked,
                    "ranked_by": prev.ranked_by}
    person = person_of(prev)
    inside = {i for s in p.spans for i in range(s.start, s.end)}  # ("past their close date")
    pointed = any(w in {"their", "his", "her", "he", "she"} and i not in inside
                  for i, w in enumerate(words))
    ordinal = grammar.ordinal_of(text)
    listed = prev.shown or prev.listed
    ranked_dim = prev.group_by[0] if listed and prev.group_by else None
    if ranked_dim is None and prev.ranked and prev.ranked_by:
        # "ok and the second one?" after a follow-up narrowed the ranking to its first member:
        # the ranking listed before is still the list an ordinal points at
        listed, ranked_dim = prev.ranked, prev.ranked_by
    named = _kept_member_named(p, prev)
    if named & set(query.group_by):  # "the team's pipe": the team kept, not a breakdown
        left = [g for g in query.group_by if g not in named]
        query = query.model_copy(update={"group_by": left,
                                         "ranking": query.ranking if left else None})
    if ordinal is not None and ranked_dim in PERSON_DIMENSIONS and (query.measures and
                                                                    p.explicit):
        # "how many open deals does the #1 rep on that list have?": a figure of that one
        n, said = ordinal
        if -len(listed) <= (n - 1 if n > 0 else n) < len(listed):
            pick = listed[n - 1 if n > 0 else n]
            person = Condition(field=ranked_dim, op="eq", values=[pick], text=pick)
            pointed = True
            left = [g for g in query.group_by if g != person.field]  # ("the top person there":
            query = query.model_copy(update={"group_by": left,  # that one, not a ranking)
                                             "ranking": query.ranking if left else None})
            start = len(text[:text.find(said)].split())
            p.take(start, start + len(said.split()))
    piece = bool(_PIECE.search(text))  # ("how much of their piece is past due?" after the
    # team holding the biggest piece: that team's part of the same deals, not all of theirs)
    if person is not None and query.measures and p.explicit and not query.group_by and \
            not query.records and pointed and not (piece and prev.group_by == [person.field]) \
            and person.field not in {c.field for c in query.filters}:
        # "what's their win rate?" after "who owns the biggest one?" or a list of one rep's
        # deals: a figure of that person, over all of their deals (the flags and bounds of
        # the last answer were its deals', not the person's)
        same = re.search(r"\b(?:same|that) (?:period|time ?frame|window|dates|quarter|month|"
                         r"year)\b", text)
        # ("how's Tim doing this FY?" … "and their win rate?": the period named for that
        # person's figure is kept; one of a listing of their deals is the deals')
        kept = same or not prev.records and prev.pick is None and prev.window is not None \
            and bool(prev.window.text) and any(c.field == person.field for c in prev.filters)
        window = prev.window if kept and query.window is None else query.window
        if same:
            at = len(text[:same.start()].split())
            p.take(at, at + 2)
        # ("how much of their pipe there is past due?": the members named there stay)
        there = [c for c in prev.filters if c.kind == "members" and c.field != person.field
                 and c.field not in {f.field for f in query.filters}] if "there" in words else []
        return reserve(query.model_copy(update={
            "follow_up": True, "ranked": prev.ranked, "ranked_by": prev.ranked_by,
            "filters": [*query.filters, *there, person], "window": window,
            "inherited": [person.text] + ([prev.window.label] if window is prev.window and
                                          prev.window else [])}),
            context)

    # "how many did we lose in that industry?" after "what industry is that account in?":
    # the one member the last answer showed
    answered = prev.shown if len(prev.shown) == 1 else prev.listed[:1] if (
        prev.ranking is not None and prev.listed and grammar.asks_one(prev.question)) else []
    for span in p.spans:  # (or the first of a ranking asked for one: "which stage …")
        if span.kind == "dimension" and span.start > 0 and words[span.start - 1] in {
                "that", "this", "same"} and answered and span.name in {
                prev.pick, *prev.group_by} and span.name not in {c.field for c in query.filters}:
            group_by = [g for g in query.group_by if g != span.name]
            p.take(span.start - 1, span.end)
            said = parse_period(str(answered[0]), context.as_of,
                                context.fiscal_year_start_month) \
                if span.name in TIME_BUCKETS and query.window is None else None
            if said is not None:
                # "what was our win rate in that quarter?" after the best of the last four:
                # that quarter is the period now (and "the quarter before that one" its
                # neighbour)
                whole = shift(Period(said.start, said.start, "", "day"), 0,
                              context.fiscal_year_start_month, unit=span.name)
                query = query.model_copy(update={"window": window_of(
                    whole, p.lower(span.start - 1, span.end)), "group_by": group_by})
                prev = prev.model_copy(update={"group_by": [
                    g for g in prev.group_by if g != span.name], "ranking": None})
                continue
            picked = Condition(field=span.name, op="eq", values=[answered[0]],
                               text=answered[0])
            query = query.model_copy(update={"filters": [*query.filters, picked],
                                             "group_by": group_by})

    # "leaving that one aside, which industry comes next?": the member just answered is
    # left out, the rest ranked again
    aside = _ASIDE.search(text)
    if aside and answered and prev.group_by and not query.filters:
        dim = prev.group_by[0]
        query = query.model_copy(update={"filters": [Condition(
            field=dim, op="not_in", values=[answered[0]], text=str(answered[0]))]})
        at = len(text[:aside.start()].split())
        p.take(at, at + len(aside.group(0).split()))

    # "of that, what's new business?", "which rep holds the most of it?", "the close rate
    # there" after "which source is biggest?": the one member answered is pointed at
    dim = prev.group_by[0] if len(prev.group_by) == 1 and prev.ranking is not None else None
    if dim is not None and answered and not aside and dim not in query.group_by and \
            dim not in {c.field for c in query.filters} and not set(words) & _OVERALL and (
                set(words) & {"it", "there"} or has(words, "that one") or piece or any(
                    words[k:k + 2] == ["of", "that"] and not any(
                        s.start == k + 2 and s.kind in {"measure", "flag"} for s in p.spans)
                    for k in range(len(words)))):
        query = query.model_copy(update={"filters": [*query.filters, Condition(
            field=dim, op="eq", values=[answered[0]], text=str(answered[0]))]})
        # (a bound on a figure of each member, "only countries with 100+ closed deals", said
        # which members could rank: the one picked keeps none of it)
        answering = context.catalog.models.get(prev.model or "")
        meta = answering.answerable if answering is not None else None
        prev = prev.model_copy(update={"group_by": [], "ranking": None, "filters": [
            c for c in prev.filters if not (c.kind == "number" and meta is not None and
                                            meta.measure(c.field) is not None)]})

    # the period: named now, shifted from the last one, else kept
    window = query.window
    rel = grammar.RELATIVE.search(text)
    if window is not None and prev.window is not None and re.match(
            r"^(?:the )?(?:previous|prior|preceding) ", window.text or "") and \
            prev.window.grain == window.grain:
        # "and the previous quarter?" after a quarter: the one before that quarter
        moved = shift(period_of(prev.window), -1, context.fiscal_year_start_month)
        window = window_of(moved, window.text).model_copy(update={"time": prev.window.time})
    if window is not None and prev.window is not None and window.kind == "same_last_year" and \
            prev.window.grain == window.grain and re.search(r"\b(?:that|the) same\b", text):
        # "that same month last year" after next month: the year before that month
        moved = year_before(period_of(prev.window), context.fiscal_year_start_month)
        window = window_of(moved, window.text).model_copy(update={"time": prev.window.time})
    between = window is None and prev.moved_from is not None and query.compare_window is None \
        and bool(_BETWEEN_THEM.search(text))
    if between:
        # "so what's the growth % between them?" after last FY, then the FY before that: the
        # later period set against the earlier one
        later, earlier = sorted([prev.window, prev.moved_from], key=lambda w: w.start,
                                reverse=True)
        window = later
        query = query.model_copy(update={"compare_window": earlier})
        inherited += [earlier.label, later.label]
    elif window is None and rel and prev.window is not None:
        back = (rel.group("dir") or rel.group("dir2") or rel.group("dir3")) in {
            "before", "prior", "earlier", "previous", "preceding"}
        unit = rel.group("unit") or rel.group("unit3")
        unit = None if unit in {None, "one", "period"} else unit
        moved = shift(period_of(prev.window), -1 if back else 1, context.fiscal_year_start_month,
                      unit=unit)
        window = window_of(moved, rel.group(0)).model_copy(update={"time": prev.window.time})
        update["moved_from"] = prev.window
        start = len(text[:rel.start()].split())
        p.take(start, start + len(rel.group(0).split()))
    elif window is None and prev.window is not None and prev.window.text and \
            _snapshot_after_outcome(prev, query, context, p.explicit):
        # "which of these four has the most overdue pipeline?" after won amount this year:
        # today's open figure, not the open deals closing in that year
        query = query.model_copy(update={"not_applied": [*query.not_applied, NotApplied(
            text=prev.window.label, reason="the period of the last question; "
            f"{query.measures[0].replace('_', ' ')} is as of today")]})
    elif window is None and prev.window is not None and prev.window.text:
        window = prev.window  # a period the user named (a default window is not inherited)
        inherited.append(prev.window.label)
    update.setdefault("moved_from", None)
    update["window"] = window
    update["compare_window"] = query.compare_window
    if window is prev.window and prev.compare_window is not None and \
            query.compare_window is None:
        # "which half had the better win rate?" after H1 vs H2: the same two periods
        update["compare_window"] = prev.compare_window
        inherited.append(prev.compare_window.label)
    if window is not None and prev.window is not None and window != prev.window and (
            query.compare_window is None and re.match(
                r"^(?:and )?(?:vs|versus|compared (?:to|with)|against|relative to)\b", text) or
            re.search(r"\b(?:that|it|this)\b(?: \S+)? (?:compare|compared|stack up|stacks up)"
                      r" (?:to|with|against)\b", text)):
        # "vs the quarter before?", "how does that $ compare with the same quarter a year
        # earlier?": the last period against the one named now
        update["window"], update["compare_window"] = prev.window, window

    # the filters: new ones added, a new value of a dimension replaces the old one; a flag
    # the fragment's own figure carried is a filter on the figure kept ("only the overdue
    # part" of the open pipeline)
    measures_kept = not query.measures or not p.explicit
    # (a flag the kept figure already carries is no filter: "who has booked the most?"
    # after bookings is the won amount, not the won amount of the won deals)
    own = {c.field for c in query.filters} | (set(_scope_of(prev, context))
                                              if measures_kept else set())
    extra = [c for c in p.flags if c.field not in own] if measures_kept else []
    query = query.model_copy(update={"filters": [*query.filters, *extra]})
    new_fields = {c.field for c in query.filters}
    replace_all = re.search(r"\b(instead|overall|everyone|everybody|all (reps|owners|industries)|"
                            r"(?:the )?whole (?:team|company|org|organi[sz]ation))\b", text)
    if replace_all and replace_all.group(1) == "instead" and (
            query.group_by or query.measures and p.explicit) and not query.filters:
        # "same thing by country instead": another grouping, same deals; "switch it to
        # dollars won instead of the rate": another figure, same deals
        replace_all = None
    if (swapped := re.search(r"\binstead of (?:the |that |this |our )?(?:\w+ ){0,2}\w+$|"
                             r"\binstead of (?:the |that |this |our )?\w+", text)):
        # "… instead of the rate": what the new figure replaces, said of the last answer
        at = len(text[:swapped.start()].split())
        p.take(at, at + len(swapped.group(0).split()))
    if replace_all and (unit := re.match(r"(?:the )?whole (\w+)", replace_all.group(1))):
        vocab = Vocabulary.of(context.catalog)
        if any(unit.group(1) in vocab.phrases("dimension", c.field) for c in prev.filters):
            replace_all = None  # "and lost? whole team" after a manager's team by rep: that
            # team kept whole (the breakdown goes, below)
    kept = [] if replace_all else [c for c in prev.filters if c.field not in new_fields or
                                  c.op == "not_in" and any(n.op != "not_in" for n in
                                                          query.conditions(c.field))]
    compared_with = None
    if set(words) & (grammar.COMPARE - {"better", "worse"}) and query.compare_members is None:
        # "how does that compare with Jennifer Burns's team?": the member kept against the
        # one named now, side by side
        for new in query.filters:
            old = next((c for c in prev.filters if c.field == new.field and c.op == "eq" ==
                        new.op and c.values != new.values), None)
            if old is not None:
                compared_with = Condition(field=new.field, op="in",
                                          values=[*old.values, *new.values],
                                          text=f"{old.text or old.values[0]} vs "
                                               f"{new.text or new.values[0]}")
                query = query.model_copy(update={"filters": [
                    compared_with if c is new else c for c in query.filters]})
                update["compare_window"] = None
                break
    if kept:
        inherited += [c.text or c.field for c in kept]
    update["filters"] = [*kept, *query.filters]
    if compared_with is not None:
        update["compare_members"] = compared_with.field
    elif query.filters and not query.compare_members and prev.compare_members in new_fields:
        update["compare_members"] = None
    else:
        update["compare_members"] = query.compare_members or (
            prev.compare_members if prev.compare_members not in new_fields else None)

    # "the biggest deal in the 2nd one": one member of the ranking shown last time
    ordinal = grammar.ordinal_of(text)
    if ordinal is not None and ranked_dim is not None:
        n, said = ordinal
        # ("for that second industry" after "leaving that one aside, which comes next?": the
        # second of the whole ranking, the first one left out counted)
        aside = next((len(c.values) for c in prev.filters if c.field == ranked_dim and
                      c.op == "not_in" and c.values), 0) if n > 0 else 0
        if -len(listed) <= (n - 1 - aside if n > 0 else n) < len(listed):
            dim = ranked_dim
            pick = listed[n - 1 - aside if n > 0 else n]
            update["filters"] = [*(c for c in update["filters"] if c.field != dim),
                                 Condition(field=dim, op="eq", values=[pick], text=pick)]
            if not query.group_by:  # one member now, no longer a breakdown by its dimension
                query = query.model_copy(update={"group_by": [g for g in prev.group_by
                                                              if g != dim] or []})
                prev = prev.model_copy(update={"group_by": [g for g in prev.group_by
                                                            if g != dim], "ranking": None})
            inherited.append(f"{said}: {pick}")
            start = len(text[:text.find(said)].split())
            p.take(start, start + len(said.split()))

    # "which of those three …": the members shown, counted back
    those = re.search(r"\b(?:those|these|the|all)\s+(?P<n>\d+|" +
                      "|".join(grammar.NUMBER_WORDS) + r")\b", text)
    said_n = those.group("n") if those is not None else ""
    counted_back = False
    if those is not None and prev.shown and prev.group_by and (
            int(said_n) if said_n.isdigit() else grammar.NUMBER_WORDS.get(said_n)
    ) == len(prev.shown):
        dim = prev.group_by[0]
        update["filters"] = [*(c for c in update["filters"] if c.field != dim),
                             _shown_members(prev)]
        inherited.append(update["filters"][-1].text)
        if not query.group_by:
            query = query.model_copy(update={"group_by": [dim]})
        start = len(text[:those.start()].split())
        p.take(start, start + 2)
        counted_back = True  # "those" are the members now, not the deals of the last figure

    # measures: named now, else kept
    measures = query.measures
    model = query.model
    # ("that country's win rate": the member pointed at, not the deals of the last figure)
    pointing = {w for i, w in enumerate(words) if not (w == "that" and any(
        s.kind == "dimension" and s.start == i + 1 and not words[s.end - 1].endswith("s")
        for s in p.spans))}
    of_members = bool(measures and p.explicit and prev.shown and prev.group_by and set(
        words) & {"their", "they", "them", "those", "these", "its"} and not query.group_by and
        prev.group_by[0] not in {c.field for c in update["filters"]})
    if of_members:
        # "what's their win rate?" after the top 5 reps: the new figure of those members
        # (of all their deals: "their" points at the reps, not at the figure's deals)
        dim = prev.group_by[0]
        members = _shown_members(prev)
        update["filters"] = [*update["filters"], members]
        inherited.append(members.text)
        if len(members.values) > 1:  # (one member, "its win rate": that one's figure)
            query = query.model_copy(update={"group_by": [dim], "ranking": Ranking(
                direction="top", limit=None)})
        else:
            prev = prev.model_copy(update={"group_by": [g for g in prev.group_by if g != dim],
                                           "ranking": None})
    elif measures and p.explicit and not counted_back and pointing & {
            "that", "those", "it", "them", "these", "they", "their"}:
        # "how many deals is that?", "how much was that worth?": a new figure of the same
        # deals, so the flags the previous figure carried ("open", "won") stay on
        scope = _scope_of(prev, context)
        have = {c.field for c in update["filters"]}
        update["filters"] = [*update["filters"], *(
            Condition(field=f, op="is_true", text=f) for f in scope if f not in have)]
    asking_count = has(words, *grammar.COUNT_WORDS) and not query.measures
    share_of_that = bool(query.share_of) and bool(pointing & {"that", "it", "this", "those"})
    unit_only = p.explicit and not any(
        s.kind == "measure" for s in p.spans) and \
        not p.flags and has(words, *grammar.AMOUNT_WORDS) and not prev.records and (
            len(words) <= 5 or bool(set(words) & {"that", "those", "these", "it", "them"}))
    if unit_only:
        # "in $?" after "how many have we won": the amount of the same deals
        measures, model = _base_measure("amount", prev, context)
    elif p.base_only and not p.flags and not query.records and not prev.records and \
            _base_of(prev, context) == p.base_only:
        # "the quarter after that, how many deals?" after the deals slipped: the same count
        measures, model = prev.measures, prev.model
    elif not measures or not p.explicit or query.records and prev.records or share_of_that:
        # ("how much of that is overdue?": a part of the figure just given)
        measures, model = prev.measures, prev.model
        rescoped = _rescoped(measures, model, query, context)
        if rescoped != measures:
            # the flags of the old scope ("just the overdue ones") give way with it
            old = set(_scope_of(prev, context))
            gone = [c for c in update["filters"] if c.kind == "flag" and c.field in old and
                    c not in query.filters]
            update["filters"] = [c for c in update["filters"] if c not in gone]
            inherited = [t for t in inherited if t not in {c.text or c.field for c in gone}]
            measures = rescoped
    update["measures"] = measures
    update["model"] = model
    if measures and p.explicit and measures != prev.measures and model is not None:
        # "and what was our win rate on those?" after lost deals: a flag that is the scope of
        # one of the new figure's own parts (won, lost) would leave it nothing to compare
        parts = _parts(measures, model, context)
        dropped = [c for c in update["filters"] if c.kind == "flag" and c.field in parts and
                   c not in query.filters]
        update["filters"] = [c for c in update["filters"] if c not in dropped]
        inherited = [t for t in inherited if t not in {c.text or c.field for c in dropped}]

    # a flag asked now, or carried by the figure asked now, replaces a kept one no row has
    # with it ("and the team's open pipe" after won $: the open deals, not won ones)
    answering = context.catalog.models.get(update["model"] or "")
    if answering is not None:
        meta = answering.answerable
        said = {c.field for c in query.filters if c.kind == "flag"}
        if measures and p.explicit:
            said |= set(_scope_of(query.model_copy(update={"measures": measures,
                                                           "model": model}), context))
        excluded = {x for f in said if (flag := meta.flag(f)) is not None for x in flag.excludes}
        if measures and p.explicit:  # a flag no part of the new figure has ("open" for a
            sides = [set(flag.excludes) for f in _parts(measures, update["model"], context)
                     if (flag := meta.flag(f)) is not None]  # win rate: won and lost)
            excluded |= set.intersection(*sides) if sides else set()
        gone = [c for c in update["filters"] if c.kind == "flag" and c.field in excluded and
                c not in query.filters]
        update["filters"] = [c for c in update["filters"] if c not in gone]
        inherited = [t for t in inherited if t not in {c.text or c.field for c in gone}]

    # "all countries", "every rep": the dimension is no longer split or narrowed
    for span in p.spans:
        if span.kind == "dimension" and span.start > 0 and words[span.start - 1] in {
                "all", "every", "any"} and words[span.end - 1].endswith("s"):
            update["filters"] = [c for c in update["filters"] if c.field != span.name]
            left = [g for g in query.group_by if g != span.name]
            query = query.model_copy(update={"group_by": left, "ranking": query.ranking
                                             if left else None})
            prev = prev.model_copy(update={"group_by": [g for g in prev.group_by
                                                        if g != span.name], "ranking": None})
            p.take(span.start - 1, span.end)

    # "ok go back to the full set created last quarter": the flags that narrowed it go
    back = re.search(r"\b(?:back to|return to) (?:the )?(?:full|whole|entire|original|complete) "
                     r"(?:set|list|group|lot|pipeline|population)\b", text)
    if back:
        gone = [c for c in update["filters"] if c.kind == "flag" and c not in query.filters]
        update["filters"] = [c for c in update["filters"] if c not in gone]
        inherited = [t for t in inherited if t not in {c.text or c.field for c in gone}]
        if update["measures"] and update["model"]:  # (a figure of the deals left out goes too)
            update["measures"] = _rescoped_to_all(update["measures"], update["model"], context,
                                                  {c.field for c in gone})
        at = len(text[:back.start()].split())
        p.take(at, at + len(back.group(0).split()))

    # "ok forget new biz. back to last quarter overall": a kept condition dropped by name
    for m in re.finditer(r"\b(?:forget|scrap|drop|never mind|nevermind)\b(?: about)?(?: the)?",
                         text):
        at = len(text[:m.end()].split())
        fields = {v.dimension for v in p.values if v.start == at} | {
            s.name for s in p.spans if s.kind == "flag" and s.start == at}
        if fields:
            update["filters"] = [c for c in update["filters"] if c.field not in fields]
            query = query.model_copy(update={"filters": [c for c in query.filters
                                                         if c.field not in fields]})
            inherited = [t for t in inherited if t not in {
                c.text or c.field for c in prev.filters if c.field in fields}]
            p.take(at - len(m.group(0).split()), at)

    # "top 3 only", "just 5": how many rows of the list or ranking shown to keep
    kept_rows = grammar.LIMIT.match(text) if query.limit is None and (
        prev.group_by or prev.records) else None
    if kept_rows:
        n = kept_rows.group("n")
        p.take(0, len(words))
        query = query.model_copy(update={"limit": int(n) if n.isdigit() else
                                         grammar.NUMBER_WORDS[n]})

    # grouping and ranking; "the team's open pipe", "what did the team win in total" after
    # a breakdown of that team by rep: the member kept as one, no longer broken down
    whole = any(s.kind == "dimension" and (s.start == 0 or words[s.start - 1] not in
                                           grammar.GROUP) and
                any(c.field == s.name and c.op in {"eq", "in"} for c in update["filters"])
                for s in p.spans) or bool(re.search(r"\b(?:in total|altogether|as a whole|"
                                                     r"combined|overall|(?:the )?whole (?:team|"
                                                     r"company|org|organi[sz]ation))\b", text))
    group_by = query.group_by or ([] if query.filters and set(new_fields) & set(prev.group_by)
                                  or whole else prev.group_by)
    ranking = query.ranking or (prev.ranking if group_by == prev.group_by else None)
    turned = next((w for w in words if grammar.is_superlative(w)), None)
    if query.ranking is None and (ranking is not None or group_by) and turned and \
            not p.explicit and prev.measures and prev.model is not None:
        # "and the worst?" after "which month was best?": the same ranking, the other end
        head = context.catalog.model(prev.model).answerable.measure(prev.measures[0])
        way = grammar.direction_of(turned, head.unit if head else None,
                                   head.higher_is_better if head else None)
        if way is not None:
            ranking = (ranking or Ranking(direction=way)).model_copy(update={"direction": way})
    if query.limit is not None and ranking is not None:
        ranking = ranking.model_copy(update={"limit": query.limit})
    elif query.limit is not None and group_by:
        ranking = Ranking(direction="top", limit=query.limit)
    update["group_by"] = group_by
    update["ranking"] = ranking
    update["trend"] = query.trend or prev.trend and query.window is None and not query.records

    # records: picked, re-ordered, counted, summed
    records = query.records or prev.records and not p.explicit and not asking_count
    if not records and not p.explicit and not asking_count and not prev.group_by and \
            set(words) & (grammar.LIST_WORDS - {"which", "what", "name", "names"}) and \
            set(words) & {"those", "these", "them", "ones", "their"}:
        records = True  # "list the top 3 of those by amount": the deals behind the figure
    pick = query.pick
    if pick and not prev.records and prev.group_by and not query.records:
        records = False  # "which rep had the most?" after a figure: a ranking of reps
        update["group_by"] = [pick]
        update["ranking"] = Ranking(direction="top", limit=None)
        pick = None
    elif pick or records and prev.records:
        records = True
    update["records"] = records
    if records and query.records and pointed and person is not None and \
            person.field not in {c.field for c in update["filters"]}:
        # "list their deals closing next month" after "which rep has the most?": that
        # person's deals (a breakdown by person no longer)
        update["filters"] = [*update["filters"], person]
        update["group_by"], update["ranking"] = [g for g in update["group_by"]
                                                 if g != person.field], None
        inherited.append(person.text)
    update["pick"] = pick
    update["order"] = query.order or (prev.order if records else None)
    resort = grammar.SORT.match(text) if records and prev.records else None
    if resort:
        update["order"] = _sort_order(p, resort, update["order"])
        update["group_by"], update["ranking"] = [], None  # a key, never a breakdown
    update["limit"] = query.limit if query.limit is not None else (
        prev.limit if records and not pick else (1 if pick else None))
    if records and prev.records and query.limit is None and _one_asked(p):
        update["limit"] = 1  # "which is the biggest?": the first of the list
    if records and not prev.records and prev.measures:
        # "list them" after "how many open deals …": the deals the figure counted
        have = {c.field for c in update["filters"]}
        update["filters"] = [*update["filters"], *(
            Condition(field=f, op="is_true", text=f) for f in _scope_of(prev, context)
            if f not in have)]
    if records:
        update["model"] = query.model if query.records else prev.model
        before = context.catalog.models.get(prev.model or "")
        if query.records and not prev.records and not p.explicit and before is not None and \
                before.answerable.record_columns:
            # "who owns the biggest of those?" after a count of stage visits: one of the
            # visits counted, listed from their own model
            update["model"] = prev.model
        update["measures"] = []
    if asking_count or (has(words, *grammar.AMOUNT_WORDS) and not query.measures and
                        prev.records):
        # "how many deals is that?" / "how much are they worth?": the figure of the list
        update["records"] = False
        update["pick"] = None
        update["order"] = None
        update["limit"] = None
        base = "count" if asking_count else "amount"
        update["measures"], update["model"] = _base_measure(base, prev, context)
    update["intent"] = Intent.LOOKUP if update["records"] else Intent.ANALYTICS
    update["why"] = query.why
    if query.why and not query.group_by:
        # "why?" after a trend explains its latest figure against the one before, by driver
        update["trend"] = False
        update["group_by"] = [g for g in update["group_by"] if g not in TIME_BUCKETS]
        grain = _grain_of(prev, context)
        if prev.trend and update.get("window", prev.window) is None and grain:
            update["window"] = window_of(current(grain, context.as_of,
                                               context.fiscal_year_start_month), "")
    # "and for Ivy?" after "how much of that is overdue?": the same share, of another member
    # (but "and what's closing this quarter (open)" names its own deals: no share of them)
    # ("the same new-business number for the quarter before" after "how much of that
    # quarter's bookings was new business": the part named again is the figure now)
    part_named = any(c.field == s.field and c.values == s.values
                     for c in query.filters for s in prev.share_of)
    update["share_of"] = query.share_of or (prev.share_of if not p.explicit and not p.flags
                                            and not part_named else [])
    if prev.share_of and not update["share_of"] and query.measures and p.explicit:
        # "weighted?" after "how much of that is in Commit?": the new figure of that part
        # (a part that is one side of the new figure gives way: "and the win rate on those?"
        # after "how much of that have we won" is the win rate of all those deals)
        have = {c.field for c in update["filters"]} | _parts(measures, update["model"], context)
        update["filters"] = [*update["filters"], *(c for c in prev.share_of
                                                   if c.field not in have)]
        inherited += [c.text or c.field for c in prev.share_of if c.field not in have]
    if update["share_of"] and not query.share_of:
        inherited.append(f"the share {' and '.join(c.text or c.field for c in prev.share_of)}")
    update["inherited"] = inherited
    update["not_applied"] = query.not_applied  # this question's words, not the last one's
    merged = prev.model_copy(update=update)
    if merged.model is None or not merged.measures and not merged.records:
        return query
    return reserve(merged, context)


#: A change asked between the two periods of the last two turns ("the growth between them").
_BETWEEN_THEM = re.compile(r"\b(?:between (?:them|the two|those two|both)|(?:growth|change|"
                           r"difference|grew|grow|shrink|shrank|up or down)\b.*\b(?:them|"
                           r"those|the two)\b|\b(?:yoy|year over year|year-over-year|growth|"
                           r"change) (?:%|percent|rate)|% (?:growth|change))")


#: The member just answered, left out ("leaving that one aside", "other than that one").
_ASIDE = re.compile(r"\b(?:leaving|leave|setting|set|putting|put)\s+(?:that|this|it)(?:\s+one)?"
                    r"\s+aside\b|\b(?:excluding|except|without|besides|other than|apart from|"
                    r"ignoring|not counting|aside from)\s+(?:that|this|it)(?:\s+one)?\b")


def _sort_order(p: Parse, m: re.Match[str], current: Order | None) -> Order | None:
    """The order a "sort them by …" asks: a record number named, or the list's date.

    A key neither names is reported, and the list keeps its order.
    """
    key_at = len(" ".join(p.words)[:m.start("key")].split())
    number = next((s for s in p.spans if s.kind == "number" and s.start >= key_at), None)
    way = (m.group("dir") or "").split()[0] if m.group("dir") else ""
    up = way in {"asc", "ascending", "smallest", "oldest", "earliest", "soonest"}
    if number is not None:
        field, desc = number.name, not up
    elif "date" in p.words[key_at:] or any(s.kind == "time" and s.start >= key_at
                                             for s in p.spans):
        field, desc = "time", way in {"desc", "descending", "newest", "latest"}
    else:
        p.not_applied.append(NotApplied(text=m.group("key"),
                                        reason="not a number or date the deals are sorted by"))
        p.take(0, len(p.words))
        return current
    p.take(0, len(p.words))
    return Order(field=field, desc=desc)


def _one_asked(p: Parse) -> bool:
    """A superlative naming one record: "the biggest", "the oldest one", "the largest deal".

    What follows the superlative is nothing, "one", or a singular noun the catalog declares
    as a dimension (a plural, "the biggest ones", names several).
    """
    words = p.words
    for i, w in enumerate(words):
        if grammar.is_superlative(w) and w not in {"more", "fewer", "less", "top", "bottom"}:
            if i + 1 >= len(words) or words[i + 1] == "one":
                return True
            return any(s.kind == "dimension" and s.start == i + 1 and
                       not words[s.end - 1].endswith("s") for s in p.spans)
    return False


def person_of(prev: Query) -> Condition | None:
    """The one person the last answer was about: the owner picked, or one named as a filter."""
    if prev.pick and prev.records and len(prev.shown) == 1 and prev.pick in PERSON_DIMENSIONS:
        return Condition(field=prev.pick, op="eq", values=list(prev.shown), text=prev.shown[0])
    if len(prev.group_by) == 1 and prev.group_by[0] in PERSON_DIMENSIONS and prev.shown and \
            prev.ranking is not None and (prev.ranking.limit == 1 or prev.ranking.limit is None
                                          and grammar.asks_one(prev.question)):
        # "list their deals" after "which rep has the most of it?": the one answered
        return Condition(field=prev.group_by[0], op="eq", values=[prev.shown[0]],
                         text=prev.shown[0])
    named = [c for c in prev.filters if c.field in PERSON_DIMENSIONS and c.op == "eq" and
             len(c.values) == 1 and c.field not in prev.group_by]
    return named[0].model_copy(update={"text": str(named[0].values[0])}) \
        if len(named) == 1 else None


#: Words undoing a narrowing to one member: "which rep owns the most of that overall?"
_OVERALL = frozenset({"overall", "altogether", "everywhere", "companywide", "company-wide"})


def _shown_members(prev: Query) -> Condition:
    """The members the last ranking named, as one filter ("those 3 stages")."""
    dim = prev.group_by[0]
    return Condition(field=dim, op="in", values=list(prev.shown),
                     text=f"those {len(prev.shown)} {dim.replace('_', ' ')}s")


def _snapshot_after_outcome(prev: Query, query: Query, context: Context,
                            explicit: bool) -> bool:
    """Whether a figure named now is of today's open deals, the last one of a period's outcomes.

    The last figure has a default window (won amount, win rate: outcomes over a period); the
    new one has none (open or overdue pipeline: what is open today).
    """
    if not explicit or not query.measures or not prev.measures:
        return False
    now = context.catalog.models.get(query.model or "")
    before = context.catalog.models.get(prev.model or "")
    if now is None or before is None:
        return False
    new = now.answerable.measure(query.measures[0])
    old = before.answerable.measure(prev.measures[0])
    return new is not None and old is not None and new.window is None and \
        old.window is not None and old.window != "all" and bool(new.scope)


def _scope_of(query: Query, context: Context) -> list[str]:
    """The flags the query's first measure carries in its model ("won" for won count)."""
    model = context.catalog.models.get(query.model or "")
    if model is None or not query.measures:
        return []
    measure = model.answerable.measure(query.measures[0])
    return list(measure.scope) if measure is not None else []


def _rescoped(measures: list[str], model: str | None, query: Query,
              context: Context) -> list[str]:
    """The kept figure in the scope this question's own flags name.

    "deals closing next month" after "how many did we close": the count of the open deals
    now, not a won count of open deals (a scope the flag asked leaves nothing of).
    """
    answering = context.catalog.models.get(model or "")
    head = answering.answerable.measure(measures[0]) if answering and measures else None
    asked = {c.field for c in query.filters if c.kind == "flag"}
    if head is None or head.base is None or not head.scope or not asked or \
            set(head.scope) <= asked:
        return measures
    fits = [m for m in answering.answerable.measures_of(head.base)
            if m.scope and set(m.scope) <= asked and not set(m.scope) & set(head.scope)]
    if not fits and all((f := answering.answerable.flag(a)) is not None and
                        set(head.scope) & set(f.excludes) for a in asked):
        # "what did we actually book that month?" after its weighted pipe: no weighted
        # figure of won deals, so the flag's own figure of that unit (the won amount)
        fits = [m for m in answering.answerable.measures
                if m.scope and set(m.scope) == asked and m.unit == head.unit]
    if not fits:
        return measures
    best = max(fits, key=lambda m: len(m.scope))
    return [best.name, *measures[1:]]


def _grain_of(query: Query, context: Context) -> str | None:
    """The time bucket of the query's model, if its rows are quarters or months."""
    model = context.catalog.models.get(query.model or "")
    grain = model.answerable.time_grain if model is not None else None
    return grain if grain in TIME_BUCKETS else None


def reserve(query: Query, context: Context) -> Query:
    """The same query on another model when its model cannot apply what was added."""
    catalog = context.catalog
    want = candidate_of(query, context.fiscal_year_start_month)
    current = catalog.models.get(query.model or "")
    served = serve(current, want) if current is not None else None
    explains = not query.why or current is None or bool(current.answerable.why_dimensions)
    # ("and just for deals over 100k?" after a win rate of a per-quarter model: a bound its
    # rows have no column for)
    bounds = current is None or all(current.answerable.number(n) is not None or
                                    current.answerable.measure(n) is not None
                                    for n in want.numbers)
    if served is not None and not served.widen and explains and bounds:
        return query
    chosen = choose_model(want, catalog)
    dropped: list[Condition] = []
    if chosen is None:
        # no model applies everything: a flag kept from the previous question gives way to
        # what was just asked, and the answer says so
        for cond in [c for c in query.filters if c.kind == "flag" and c.text in query.inherited]:
            trial = query.model_copy(update={"filters": [c for c in query.filters
                                                         if c is not cond]})
            chosen = choose_model(candidate_of(trial, context.fiscal_year_start_month), catalog)
            if chosen is not None:
                query, dropped = trial, [cond]
                break
    if chosen is None:
        return query
    if chosen.widen and query.window is not None:
        grain = catalog.model(chosen.model).answerable.time_grain
        wider = widen_to_grain(grain, period_of(query.window), context.fiscal_year_start_month)
        query = query.model_copy(update={"window": window_of(wider, query.window.text)
                                         .model_copy(update={"time": query.window.time})})
    notes = [NotApplied(text=c.text or c.field, reason="kept from the previous question, but "
                        "the figures for what you asked now do not have it") for c in dropped]
    return query.model_copy(update={"model": chosen.model, "measures": chosen.measures
                                    if query.measures else [],
                                    "not_applied": [*query.not_applied, *notes]})


def _base_measure(base: str, prev: Query, context: Context) -> tuple[list[str], str | None]:
    """The measure of `base` for the previous query's model and flags."""
    if prev.model is None:
        return prev.measures, prev.model
    meta = context.catalog.model(prev.model).answerable
    flags = {c.field for c in prev.filters if c.kind == "flag"}
    for name in prev.measures[:1]:
        m = meta.measure(name)
        if m is not None:
            flags |= set(m.scope)
    options = meta.measures_of(base)
    best = next((m for m in options if set(m.scope) and set(m.scope) <= flags), None) or \
        next((m for m in options if not m.scope), None)
    if best is None:
        # a model of ready figures declares no bases: its one figure in that unit ("and the $
        # value of that?" after the deals slipped out of a quarter: the amount slipped)
        unit = {"amount": "currency", "count": "count"}.get(base)
        of_unit = [m for m in meta.measures if m.unit == unit]
        best = of_unit[0] if len(of_unit) == 1 else None
    return ([best.name], prev.model) if best else (prev.measures, prev.model)


def _rescoped_to_all(measures: list[str], model: str, context: Context,
                     gone: set[str]) -> list[str]:
    """The first figure of the same base over every row, when its scope was a flag dropped."""
    meta = context.catalog.model(model).answerable
    head = meta.measure(measures[0])
    if head is None or not set(head.scope) & gone or head.base is None:
        return measures
    whole = next((m for m in meta.measures_of(head.base) if not m.scope), None)
    return [whole.name, *measures[1:]] if whole else measures


def _base_of(query: Query, context: Context) -> str | None:
    """The base of the query's first figure ("count" for deals slipped).

    A model of ready figures declares no bases: its figure's unit says.
    """
    model = context.catalog.models.get(query.model or "")
    m = model.answerable.measure(query.measures[0]) if model and query.measures else None
    if m is None:
        return None
    if m.base is None:
        return {"count": "count", "currency": "amount"}.get(m.unit)
    return {"count": "count", "deals": "count", "amount": "amount"}.get(m.base)


def _parts(measures: list[str], model: str | None, context: Context) -> set[str]:
    """The flags scoping the parts of the first figure, not the figure itself.

    Win rate's companions are the won and lost counts: a kept "won" or "lost" would leave it
    nothing to compare.
    """
    if not measures:
        return set()
    first = context.catalog.models.get(model or "")
    # (the model the reading chose may declare the figure bare, "win rate" of a per-month
    # forecast; the model that will answer it names its parts)
    for answering in [first, *context.catalog.models.values()]:
        meta = answering.answerable if answering is not None else None
        head = meta.measure(measures[0]) if meta is not None else None
        if head is not None and head.companions:
            return {f for c in head.companions if (m := meta.measure(c))
                    for f in m.scope} - set(head.scope)
    return set()


def _kept_member_named(p: Parse, prev: Query) -> set[str]:
    """Dimensions named as the one member the last question kept ("the team's pipe").

    A singular dimension noun after "the", "that", "this" or "same", where the last query
    kept one member of it, is that member.
    """
    kept = {c.field for c in prev.filters if c.kind == "members" and c.op == "eq" and
            len(c.values) == 1}
    words = p.words
    return {s.name for s in p.spans if s.kind == "dimension" and s.name in kept and
            s.start > 0 and words[s.start - 1] in {"the", "that", "this", "same"} and
            not words[s.end - 1].endswith("s")}
