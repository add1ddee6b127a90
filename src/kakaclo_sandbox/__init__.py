"""kakaclo-sandbox: a stateful Kakaclo refund server validated by openapi.yaml."""

EXTRA_MODULES = frozenset(
    {"starlette", "uvicorn", "jsonschema_rs", "yaml", "orjson", "markdown_it"}
)

try:
    from kakaclo_sandbox.clock import SandboxClock
    from kakaclo_sandbox.ratelimit import RateLimit
    from kakaclo_sandbox.settings import Settings
    from kakaclo_sandbox.web.app import create_app
    from kakaclo_serving.version import __version__
except ModuleNotFoundError as missing:
    top = (missing.name or "").partition(".")[0]
    if top not in EXTRA_MODULES:
        raise
    raise ModuleNotFoundError(
        f"kakaclo_sandbox needs the [sandbox] extra of kakaclo-refunds ({top} is "
        "missing): pip install 'kakaclo-refunds[sandbox]'",
        name=top,
    ) from missing

__all__ = [
    "EXTRA_MODULES",
    "RateLimit",
    "SandboxClock",
    "Settings",
    "__version__",
    "create_app",
]
