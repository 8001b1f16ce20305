"""Error kinds of jockerd and the Docker wording clients parse.

Errors are classified where they start (one subclass per HTTP status family, as moby's errdefs)
and rendered in one place, the API's error middleware. Clients such as docker-py and the docker
CLI branch on both the status code and the wording, so Docker's exact phrases live here.
"""

from __future__ import annotations


class JockerError(Exception):
    """Base of every error that maps to an HTTP status."""

    status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InvalidParameterError(JockerError):
    status = 400


class UnauthorizedError(JockerError):
    """A registry refused the credentials (moby errdefs.Unauthorized)."""

    status = 401


class ForbiddenError(JockerError):
    """moby errdefs.Forbidden: e.g. removing a predefined network."""

    status = 403


class NotFoundError(JockerError):
    status = 404


class ConflictError(JockerError):
    status = 409


class NotModifiedError(JockerError):
    status = 304


class UnsupportedError(JockerError):
    status = 501


class UnavailableError(JockerError):
    status = 503


class InternalError(JockerError):
    status = 500


# Docker-worded constructors (moby daemon/errors.go, daemon/images/image.go).


def no_such_image(ref: str) -> NotFoundError:
    return NotFoundError(f"No such image: {ref}")


def no_such_container(ref: str) -> NotFoundError:
    return NotFoundError(f"No such container: {ref}")


def api_version_too_new(client: str, maximum: str) -> InvalidParameterError:
    return InvalidParameterError(
        f"client version {client} is too new. Maximum supported API version is {maximum}"
    )


def api_version_too_old(client: str, minimum: str) -> InvalidParameterError:
    return InvalidParameterError(
        f"client version {client} is too old. Minimum supported API version is {minimum}, "
        "please upgrade your client to a newer version"
    )


def not_implemented(what: str) -> UnsupportedError:
    return UnsupportedError(f"{what} is not implemented by jocker yet")
