"""openapi.yaml, shipped inside the package, and the validators compiled from it.

The sandbox, the contract suite and the proxy all load the one spec through
this package, so an installed wheel needs no checkout.
"""

from kakaclo_spec.compiled import (
    SHIPPED_SPEC,
    SPEC_ENV,
    CompiledSchema,
    SchemaError,
    Spec,
    default_spec_path,
    shipped_spec,
)

__all__ = [
    "SHIPPED_SPEC",
    "SPEC_ENV",
    "CompiledSchema",
    "SchemaError",
    "Spec",
    "default_spec_path",
    "shipped_spec",
]
