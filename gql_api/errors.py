"""Domain errors. Raised anywhere below the GraphQL surface; mapped once to `extensions.code`."""

from __future__ import annotations


class ChatError(Exception):
    """Base of every error whose message is safe to show to the caller."""

    code = "INTERNAL_SERVER_ERROR"

    def __init__(self, message: str, **extensions: object) -> None:
        super().__init__(message)
        self.message = message
        self.extensions = extensions


class Unauthenticated(ChatError):
    code = "UNAUTHENTICATED"


class NotFound(ChatError):
    """A missing row and another user's row look the same from outside."""

    code = "NOT_FOUND"


class InvalidInput(ChatError):
    code = "BAD_USER_INPUT"


class PayloadTooLarge(ChatError):
    code = "PAYLOAD_TOO_LARGE"


class Conflict(ChatError):
    code = "CONFLICT"


class RateLimited(ChatError):
    code = "RATE_LIMITED"


class Unavailable(ChatError):
    """This process cannot take the request now (it is draining): retry, on any process."""

    code = "UNAVAILABLE"


class Forbidden(ChatError):
    code = "FORBIDDEN"


class UnsupportedMediaType(ChatError):
    code = "UNSUPPORTED_MEDIA_TYPE"


class QuotaExceeded(ChatError):
    code = "QUOTA_EXCEEDED"


class ProviderError(ChatError):
    """The model provider failed; `code` is one of the PROVIDER_* codes below."""

    code = "PROVIDER_ERROR"

    def __init__(self, message: str, *, code: str = "PROVIDER_ERROR", retryable: bool = False):
        super().__init__(message)
        self.code = code
        self.retryable = retryable


# Codes a failed stream may carry (ProviderError.code).
PROVIDER_RATE_LIMITED = "PROVIDER_RATE_LIMITED"
PROVIDER_OVERLOADED = "PROVIDER_OVERLOADED"
PROVIDER_CONNECTION_LOST = "PROVIDER_CONNECTION_LOST"
PROVIDER_BAD_REQUEST = "PROVIDER_BAD_REQUEST"
PROVIDER_AUTH = "PROVIDER_AUTH"
PROVIDER_ERROR = "PROVIDER_ERROR"
