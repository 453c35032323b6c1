"""Errors raised by the service layer, each with the HTTP status that answers it."""

from ..web.errors import PublicError


class ServiceError(PublicError):
    """Base class: the message is safe to show to the user who caused it."""

    status = 400


class NotFound(ServiceError):
    """No such conversation, agent or ticket."""

    status = 404


class Forbidden(ServiceError):
    """The agent may not see or change this conversation."""

    status = 403


class Conflict(ServiceError):
    """The change does not fit the current state (already taken, over the cap...)."""

    status = 409


class InvalidInput(ServiceError):
    """Empty, oversized or otherwise unusable input."""

    status = 422


class AuthFailed(ServiceError):
    """Wrong login or password, or a disabled agent."""

    status = 401
