"""One place that turns exceptions into GraphQL errors with `extensions.code`."""

from __future__ import annotations

import logging

from graphql import GraphQLError

from gql_api.errors import ChatError

log = logging.getLogger("chatgql.errors")
UNEXPECTED = "Unexpected error."


def classify(error: GraphQLError) -> None:
    """Set the code (and mask the message of anything unexpected), in place."""
    original = error.original_error
    if original is None:
        # Parsing, validation, variable coercion, the query limits: all about the request itself.
        failed_parse = error.message.startswith("Syntax Error")
        error.extensions = {"code": "GRAPHQL_PARSE_FAILED" if failed_parse else "BAD_USER_INPUT"}
        return
    if isinstance(original, GraphQLError) and original.original_error is None:
        error.extensions = {"code": "BAD_USER_INPUT"}
        return
    if isinstance(original, ChatError):
        error.message = original.message
        error.extensions = {"code": original.code, **original.extensions}
        return
    log.error("unexpected error in %s", error.path, exc_info=original)
    error.message = UNEXPECTED
    error.original_error = None
    error.extensions = {"code": "INTERNAL_SERVER_ERROR"}
