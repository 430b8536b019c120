"""Built-in tools: a calculator and the current time."""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from gql_api.providers.base import ToolSpec
from gql_api.tools.results import ToolOutcome

ToolFunc = Callable[[dict[str, Any]], Awaitable[ToolOutcome]]

MAX_EXPRESSION_CHARS = 200
# Results beyond this many bits are refused: `9**9**9` would otherwise eat CPU and memory.
MAX_RESULT_BITS = 4096

_BINARY_OPS: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
    ast.Mod: operator.mod,
}
_UNARY_OPS: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.UAdd: operator.pos,
    ast.USub: operator.neg,
}


class CalculatorError(ValueError):
    """The expression is not plain arithmetic, or cannot be computed."""


def calculate(expression: str) -> int | float:
    """Arithmetic on numbers with + - * / ** % and parentheses; anything else is refused."""
    if len(expression) > MAX_EXPRESSION_CHARS:
        raise CalculatorError(f"Expressions are limited to {MAX_EXPRESSION_CHARS} characters.")
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as err:
        raise CalculatorError("That is not a valid arithmetic expression.") from err
    return _evaluate(tree.body)


def _evaluate(node: ast.expr) -> int | float:
    # bool is an int subclass and complex is a number, but neither is arithmetic input here.
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return _checked(node.value)
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY_OPS:
        left, right = _evaluate(node.left), _evaluate(node.right)
        if isinstance(node.op, ast.Pow):
            _check_power(left, right)
        try:
            return _checked(_BINARY_OPS[type(node.op)](left, right))
        except ZeroDivisionError as err:
            raise CalculatorError("Division by zero.") from err
        except OverflowError as err:
            raise CalculatorError("The result is too large.") from err
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY_OPS:
        return _checked(_UNARY_OPS[type(node.op)](_evaluate(node.operand)))
    raise CalculatorError("Only numbers, + - * / ** % and parentheses are allowed.")


def _check_power(base: int | float, exponent: int | float) -> None:
    if abs(exponent) > 10_000 or (
        isinstance(base, int) and abs(base) > 1 and base.bit_length() * exponent > MAX_RESULT_BITS
    ):
        raise CalculatorError("The result is too large.")


def _checked(value: Any) -> int | float:
    if isinstance(value, complex):  # a negative number to a fractional power
        raise CalculatorError("The result is not a real number.")
    if isinstance(value, int) and value.bit_length() > MAX_RESULT_BITS:
        raise CalculatorError("The result is too large.")
    if isinstance(value, float) and not math.isfinite(value):
        raise CalculatorError("The result is too large.")
    return value


def format_number(value: int | float) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


async def _current_time(_input: dict[str, Any]) -> ToolOutcome:
    return ToolOutcome(datetime.now(UTC).isoformat(timespec="seconds"))


async def _calculator(input: dict[str, Any]) -> ToolOutcome:
    expression = input.get("expression")
    if not isinstance(expression, str) or not expression.strip():
        return ToolOutcome("Give the expression as a string in `expression`.", is_error=True)
    try:
        return ToolOutcome(format_number(calculate(expression)))
    except CalculatorError as err:
        return ToolOutcome(str(err), is_error=True)


BUILTINS: list[tuple[ToolSpec, ToolFunc]] = [
    (
        ToolSpec(
            name="current_time",
            description="The current date and time in UTC, as ISO 8601.",
            input_schema={"type": "object", "properties": {}},
        ),
        _current_time,
    ),
    (
        ToolSpec(
            name="calculator",
            description=(
                "Evaluates an arithmetic expression exactly. Supports numbers, + - * / ** % "
                "and parentheses, e.g. (2 + 3) * 4."
            ),
            input_schema={
                "type": "object",
                "properties": {
                    "expression": {"type": "string", "description": "e.g. 2 + 3 * 4"},
                },
                "required": ["expression"],
            },
        ),
        _calculator,
    ),
]
