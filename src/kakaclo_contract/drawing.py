"""Hypothesis strategies for values of the spec's component schemas, drawn by schemathesis."""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

import schemathesis
from hypothesis import strategies as st

from kakaclo_contract.spec_check import SPEC


@cache
def _component_schema() -> Any:
    """A synthetic API with one operation per component schema, the schema as its body.

    schemathesis has no public strategy for a bare component schema, so each
    is wrapped as the JSON request body of its own operation.
    """
    document = SPEC.document
    paths = {
        f"/components/{name}": {
            "post": {
                "operationId": f"draw{name}",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}
                    },
                },
                "responses": {"200": {"description": "unused"}},
            }
        }
        for name in document["components"]["schemas"]
    }
    synthetic = {
        "openapi": document["openapi"],
        "info": {"title": "component schemas", "version": "1"},
        "paths": paths,
        "components": {"schemas": copy.deepcopy(document["components"]["schemas"])},
    }
    return schemathesis.openapi.from_dict(synthetic)


def component_values(name: str) -> st.SearchStrategy[Any]:
    """Values of ``#/components/schemas/<name>``, drawn by schemathesis from the spec."""
    operation = _component_schema()[f"/components/{name}"]["POST"]
    cases: st.SearchStrategy[Any] = operation.as_strategy()
    return cases.map(lambda case: case.body)
