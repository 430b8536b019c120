"""The operations the typed clients are generated from cover the whole schema: every root field of
Query, Mutation and Subscription is used by at least one of clients/operations/*.graphql."""

from __future__ import annotations

from pathlib import Path

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    build_schema,
    parse,
    validate,
)

ROOT = Path(__file__).resolve().parent.parent
OPERATIONS = ROOT / "clients/operations"
ROOT_TYPES = {
    OperationType.QUERY: "Query",
    OperationType.MUTATION: "Mutation",
    OperationType.SUBSCRIPTION: "Subscription",
}


def operations_document() -> DocumentNode:
    text = "\n".join(path.read_text() for path in sorted(OPERATIONS.glob("*.graphql")))
    return parse(text)


def root_fields_used(document: DocumentNode) -> set[str]:
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }

    def fields(selection_set: SelectionSetNode) -> set[str]:
        names: set[str] = set()
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                names.add(selection.name.value)
            elif isinstance(selection, InlineFragmentNode):
                names |= fields(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                names |= fields(fragments[selection.name.value].selection_set)
        return names

    used: set[str] = set()
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            root = ROOT_TYPES[definition.operation]
            used |= {f"{root}.{name}" for name in fields(definition.selection_set)}
    return used


def schema_root_fields() -> set[str]:
    schema = build_schema((ROOT / "schema.graphql").read_text())
    names: set[str] = set()
    for root in (schema.query_type, schema.mutation_type, schema.subscription_type):
        if root is not None:
            names |= {f"{root.name}.{field}" for field in root.fields}
    return names


def test_every_root_field_has_an_operation() -> None:
    missing = schema_root_fields() - root_fields_used(operations_document())
    assert not missing, (
        "root fields without an operation in clients/operations (add one, then `make clients`): "
        + ", ".join(sorted(missing))
    )


def test_operations_are_valid_against_the_schema() -> None:
    schema = build_schema((ROOT / "schema.graphql").read_text())
    errors = validate(schema, operations_document())
    assert not errors, [error.message for error in errors]
