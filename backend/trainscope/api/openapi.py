"""The OpenAPI document as the server behaves: FastAPI's own, plus what it cannot know. The configured
limits become schema constraints (a client sees `maximum: 100000` on optim.steps, not a surprise 422),
and every answer a middleware or handler can give is documented where it can happen: 400 (a body that
is not UTF-8), 413 (a body past its limit), 503 (the store cannot take a change in time)."""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from trainscope.config import Limits

WRITES = ("post", "put", "patch", "delete")


def limit_constraints(limits: Limits) -> dict[tuple[str, str], dict[str, Any]]:
    """(component, property) -> the JSON Schema keywords the configured limits add to it."""
    width: dict[str, Any] = {"items": {"maximum": limits.max_width}}
    layers = {"maxItems": limits.max_hidden_layers, **width}
    return {
        ("OptimSpec", "steps"): {"maximum": limits.max_steps},
        ("OptimSpec", "batch_size"): {"maximum": limits.max_batch_size},
        ("OptimSpec", "lr"): {"minimum": limits.min_lr, "maximum": limits.max_lr},
        ("Points2DData", "n_points"): {"maximum": limits.max_points},
        ("MLPSpec", "hidden"): layers,
        ("CNN2DSpec", "hidden"): layers,
        ("CNN1DSpec", "hidden"): layers,
        ("ProbeSpec", "histogram_bins"): {"maximum": limits.max_histogram_bins},
        ("ProbeSpec", "probe_size"): {"maximum": limits.max_probe_size},
        ("StepCommand", "steps"): {"maximum": limits.max_steps},
        ("SetLrCommand", "lr"): {"minimum": limits.min_lr, "maximum": limits.max_lr},
    }


def document(app: FastAPI, limits: Limits) -> dict[str, Any]:
    schema = get_openapi(title=app.title, version=app.version, routes=app.routes)
    components = schema.get("components", {}).get("schemas", {})
    for (component, field), keywords in limit_constraints(limits).items():
        target = components.get(component, {}).get("properties", {}).get(field)
        if target is None:
            continue
        items = keywords.get("items")
        target.update({key: value for key, value in keywords.items() if key != "items"})
        if isinstance(items, dict) and "items" in target:
            target["items"].update(items)
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            if "requestBody" in operation:
                responses.setdefault("400", {"description": "the body could not be read (it is not UTF-8 text)"})
                responses.setdefault(
                    "413", {"description": "the body is larger than its limit (limits.max_body_bytes)"}
                )
            if method in WRITES:
                responses.setdefault(
                    "503",
                    {
                        "description": "the store could not take the change in time (locked, or its disk is full): "
                        "nothing was done; retry after Retry-After seconds"
                    },
                )
            if path == "/api/jobs/{job_id}/scalars":
                for parameter in operation.get("parameters", []):
                    if parameter["name"] == "max_points":
                        parameter["schema"]["maximum"] = limits.max_scalar_points
    return schema


def allowed_methods(schema: dict[str, Any], path: str) -> list[str]:
    """The methods the document lists for a concrete path: those of every template it fits
    (/api/datasets/preview fits /api/datasets/{dataset_id} too, and a GET there is that route's)."""
    methods: set[str] = set()
    for template, operations in schema["paths"].items():
        if re.fullmatch(re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)), path):
            methods.update(method.upper() for method in operations)
    return sorted(methods)


def install(app: FastAPI, limits: Limits) -> None:
    """Serve this document at /openapi.json (built once, on the first ask)."""
    made: dict[str, Any] = {}

    def openapi() -> dict[str, Any]:
        if not made:
            made.update(document(app, limits))
        return made

    app.openapi = openapi  # type: ignore[method-assign]
