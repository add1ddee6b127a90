"""A client library for accessing Kakaclo Open API — refund flow"""

from .client import AuthenticatedClient, Client

__all__ = (
    "AuthenticatedClient",
    "Client",
)
