"""Run by peers/test_datamodel_codegen.py inside .tools/peers-venv: parse bodies with the
pydantic v2 models datamodel-code-generator made from openapi.yaml.

    python dmcg_parse.py MODELS_DIR BODIES.json

BODIES.json is a list of ``[name, model, body]``. Prints one JSON object: each
name with ``"ok"`` or the validation error, and whether unknown keys were kept.
"""

from __future__ import annotations

import importlib
import json
import sys
from typing import Any


def main(models_dir: str, bodies_path: str) -> dict[str, Any]:
    """Validate each body with its model."""
    sys.path.insert(0, models_dir)
    models: Any = importlib.import_module("models")
    verdicts: dict[str, Any] = {}
    with open(bodies_path) as file:
        bodies = json.load(file)
    for name, model, body in bodies:
        try:
            getattr(models, model).model_validate(body)
        except Exception as error:  # every failure is a finding to report
            verdicts[name] = f"{type(error).__name__}: {error}"[:800]
        else:
            verdicts[name] = "ok"
    return verdicts


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2]), indent=2))
