"""GraphQL over HTTP (the GraphQL-over-HTTP spec): the `application/graphql-response+json`
media type and its status codes, for the clients that ask for it in `Accept`.

With that media type a request error (the document does not parse or validate, its variables
do not coerce, a persisted document is unknown) answers 400 without a `data` entry; a field
error during execution still answers 200. Clients that accept only `application/json` keep
the answers they always had: 200 whatever the errors.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from strawberry.fastapi import GraphQLRouter
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET

from gql_api import graphiql
from gql_api.context import Context
from gql_api.errors import ChatError
from gql_api.services import Services

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"


def _quality(params: list[str]) -> float:
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                return float(value)
            except ValueError:
                return 0.0
    return 1.0


def wants_graphql_response(accept: str | None) -> bool:
    """True when `Accept` prefers application/graphql-response+json to application/json
    (a tie goes to the newer type, which the spec recommends; `*/*` alone means JSON)."""
    if not accept:
        return False
    best: dict[str, float] = {}
    for item in accept.split(","):
        media, *params = item.split(";")
        media = media.strip().lower()
        if media in (GRAPHQL_RESPONSE, JSON):
            best[media] = max(best.get(media, 0.0), _quality(params))
    return best.get(GRAPHQL_RESPONSE, 0.0) > 0 and best[GRAPHQL_RESPONSE] >= best.get(JSON, 0.0)


def is_request_error(result: ExecutionResult) -> bool:
    """Errors and no data, none of them raised at a field: execution never started."""
    errors = result.errors or []
    return result.data is None and bool(errors) and all(e.path is None for e in errors)


def error_body(error: ChatError) -> dict[str, Any]:
    return {"errors": [{"message": error.message, "extensions": {"code": error.code}}]}


def apply_media_type(response: Response, *, request_error: bool) -> Response:
    """Turn an application/json answer into an application/graphql-response+json one."""
    if not response.headers.get("content-type", "").startswith(JSON):
        return response  # GraphiQL's page, streams, Strawberry's plain-text refusals
    response.headers["content-type"] = f"{GRAPHQL_RESPONSE}; charset=utf-8"
    if request_error and response.status_code == 200:
        response.status_code = 400
    return response


class GraphQLHTTPRouter(GraphQLRouter[Context, None]):
    """Strawberry's router, plus persisted documents and the graphql-response+json media type."""

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        if not isinstance(request, Request):
            return await super().run(request, context=context, root_value=root_value)
        try:
            response = await super().run(request, context=context, root_value=root_value)
        except ChatError as exc:  # a persisted document, refused before execution
            request.state.graphql_request_error = True
            response = JSONResponse(error_body(exc))
        if wants_graphql_response(request.headers.get("accept")):
            failed = getattr(request.state, "graphql_request_error", False)
            return apply_media_type(response, request_error=failed)
        return response

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        services: Services = request.state.services
        return graphiql.page(services.settings, request.url.path)

    def should_render_graphql_ide(self, request: Any) -> bool:
        # A GET naming a persisted document is an operation, whatever it accepts.
        return request.query_params.get("extensions") is None and super().should_render_graphql_ide(
            request
        )

    async def execute_single(
        self,
        request: Request,
        request_adapter: Any,
        sub_response: Response,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        services: Services = request.state.services
        query = await services.persisted.resolve(request_data.query, request_data.extensions)
        request_data.query = query  # type: ignore[assignment]
        return await super().execute_single(
            request=request,
            request_adapter=request_adapter,
            sub_response=sub_response,
            context=context,
            root_value=root_value,
            request_data=request_data,
        )

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        data = await super().process_result(request, result)
        if is_request_error(result):
            request.state.graphql_request_error = True
            if wants_graphql_response(request.headers.get("accept")):
                data.pop("data", None)
        return data
