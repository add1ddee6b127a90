"""kakaclo-sandbox: a stateful Kakaclo refund server validated by openapi.yaml."""

from kakaclo_sandbox.clock import SandboxClock
from kakaclo_sandbox.ratelimit import RateLimit
from kakaclo_sandbox.settings import Settings
from kakaclo_sandbox.version import __version__
from kakaclo_sandbox.web.app import create_app

__all__ = ["RateLimit", "SandboxClock", "Settings", "__version__", "create_app"]
