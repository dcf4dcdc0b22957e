"""The catalog as MCP clients see it: metrics, dimensions, model details and freshness.

Everything comes from the typed catalog (`whizzy.warehouse.catalog`) and the build facts of
the warehouse; nothing here parses the manifest or lists a business word itself. Names and
fields follow dbt-mcp's (``list_metrics``, ``get_dimensions``, ``get_model_details``) so
prompts written for dbt-mcp carry over.

>>> from whizzy.warehouse.catalog import Answerable, Catalog, Dimension, Measure, Model
>>> m = Model("fct_x", "model.x.fct_x", "Deals.", answerable=Answerable(label="deals",
...     measures=(Measure("win_rate", unit="percent", expr="avg(w)", label="win rate"),),
...     dimensions=(Dimension("owner", "owner_name"),)))
>>> [x["name"] for x in list_metrics(Catalog(models={"fct_x": m}), search="win")]
['win_rate']
>>> get_dimensions(Catalog(models={"fct_x": m}), ["win_rate"])[0]["name"]
'owner'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from whizzy.core.errors import WhizzyError
from whizzy.core.jsonable import jsonable
from whizzy.warehouse.catalog import Catalog, Measure, Model
from whizzy.warehouse.reader import Warehouse


class UnknownNameError(WhizzyError):
    """A tool named a metric or model the catalog does not have."""

    hint = "list_metrics lists the metrics; the whizzy://catalog resource lists the models"


def _metric(measure: Measure, models: list[str]) -> dict[str, Any]:
    return {"name": measure.name, "label": measure.label or measure.name.replace("_", " "),
            "description": measure.description, "unit": measure.unit,
            "type": "aggregate" if measure.is_aggregate else "column",
            "synonyms": list(measure.synonyms), "models": models}


def _served(catalog: Catalog) -> list[Model]:
    """Models that answer questions (the dashboard and internal ones are left out)."""
    return [m for m in catalog.answerable if m.answerable and m.answerable.role == ""]


def list_metrics(catalog: Catalog, search: str | None = None) -> list[dict[str, Any]]:
    """Every metric the catalog declares, once, with the models that compute it."""
    seen: dict[str, tuple[Measure, list[str]]] = {}
    for model in _served(catalog):
        for measure in model.answerable.measures:
            seen.setdefault(measure.name, (measure, []))[1].append(model.name)
    out = [_metric(m, models) for m, models in seen.values()]
    if search:
        words = search.lower()
        out = [x for x in out if words in " ".join(
            [x["name"], x["label"], x["description"], *x["synonyms"]]).lower()]
    return sorted(out, key=lambda x: x["name"])


def get_dimensions(catalog: Catalog, metrics: Sequence[str], search: str | None = None
                   ) -> list[dict[str, Any]]:
    """The dimensions every model computing all of `metrics` can group or filter by."""
    known = {x["name"] for x in list_metrics(catalog)}
    if unknown := [m for m in metrics if m not in known]:
        raise UnknownNameError(f"The catalog has no metric {', '.join(map(repr, unknown))}.")
    found: dict[str, dict[str, Any]] = {}
    for model in _served(catalog):
        meta = model.answerable
        if not all(meta.measure(m) for m in metrics):
            continue
        for dim in meta.dimensions:
            found.setdefault(dim.name, {"name": dim.name, "type": "categorical",
                                        "label": dim.label or dim.name.replace("_", " "),
                                        "description": catalog.describe_column(model.name,
                                                                               dim.column),
                                        "synonyms": list(dim.synonyms)})
        for flag in meta.flags:
            found.setdefault(flag.name, {"name": flag.name, "type": "flag",
                                         "label": flag.label or flag.name,
                                         "description": catalog.describe_column(model.name,
                                                                                flag.column),
                                         "synonyms": list(flag.synonyms)})
    out = sorted(found.values(), key=lambda x: x["name"])
    if search:
        out = [x for x in out if search.lower() in (x["name"] + " " + x["label"]).lower()]
    return out


def get_model_details(catalog: Catalog, model_name: str) -> dict[str, Any]:
    """One model: description, columns, metrics, dimensions, parents (no SQL, no file path)."""
    model = catalog.models.get(model_name)
    if model is None:
        raise UnknownNameError(f"The catalog has no model {model_name!r}.")
    meta = model.answerable
    return {
        "name": model.name,
        "description": model.description,
        "relation": model.relation,
        "columns": [{"name": c.name, "data_type": c.data_type, "description": c.description}
                    for c in model.columns.values()],
        "metrics": [_metric(m, [model.name]) for m in meta.measures] if meta else [],
        "dimensions": [d.name for d in meta.dimensions] if meta else [],
        "flags": [f.name for f in meta.flags] if meta else [],
        "grain": list(meta.grain) if meta else [],
        "example_questions": list(meta.example_questions) if meta else [],
        "parents": catalog.lineage(model.name),
    }


def catalog_summary(catalog: Catalog) -> dict[str, Any]:
    """The whole catalog in brief: each answering model with its metrics and dimensions."""
    return {"models": [{"name": m.name, "label": m.answerable.label,
                        "description": m.description,
                        "metrics": [x.name for x in m.answerable.measures],
                        "dimensions": [d.name for d in m.answerable.dimensions]}
                       for m in _served(catalog)]}


def freshness(warehouse: Warehouse) -> dict[str, Any]:
    """How fresh the data is: as-of date, build time, fiscal year start (from build_info)."""
    return {"as_of_date": warehouse.as_of.isoformat(), "built_at": jsonable(warehouse.built_at),
            "fiscal_year_start_month": warehouse.fiscal_year_start_month,
            "build_info": {k: jsonable(v) for k, v in warehouse.build_info.items()}}
