"""template.yaml declares exactly the tables the models define (so infrastructure cannot drift)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flowless.local.invoke import load_template as load_cfn_template
from flowless.store.tables import table_definitions

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"


def load_template() -> dict[str, Any]:
    return load_cfn_template(TEMPLATE)


def resource_name(table: str) -> str:
    return "".join(part.title() for part in table.split("-")) + "Table"


def test_template_tables_match_the_models() -> None:
    template = load_template()
    tables = {
        name: resource["Properties"]
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::DynamoDB::Table"
    }
    definitions = table_definitions()
    assert sorted(tables) == sorted(resource_name(table) for table in definitions)
    for table, expected in definitions.items():
        properties = dict(tables[resource_name(table)])
        assert properties.pop("TableName") == {"Fn::Sub": f"flowless-${{Stage}}-{table}"}
        assert properties == expected, f"template.yaml's {resource_name(table)} differs from the models"


def test_template_is_a_sam_template_with_a_stage() -> None:
    template = load_template()
    assert template["Transform"] == "AWS::Serverless-2016-10-31"
    assert template["Parameters"]["Stage"]["Default"] == "dev"


def test_every_table_with_ttl_has_it_in_its_definition() -> None:
    with_ttl = {table for table, props in table_definitions().items() if "TimeToLiveSpecification" in props}
    assert with_ttl == {"messages", "sessions", "jobs"}
