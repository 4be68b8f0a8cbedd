"""`GET /tables/` and what rows look like: projection, value formats, exact money, keyBy."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from ignite_sandbox.catalog import label_keys

from tests.ignite_sandbox.helpers import Api, exact

DOCUMENTED_TABLES = {
    "spend",
    "suppliers",
    "contracts",
    "classification_business_units",
    "classification_spend_categories",
}
SCALAR_TYPES = {"STRING", "NUMBER", "MONETARY_AMOUNT", "BOOL", "DATE", "TIMESTAMP"}
RFC3339_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _tables(api: Api) -> dict[str, dict]:
    response = api.get("/tables/")
    assert response.status_code == 200
    return {t["id"]: t for t in response.json()}


def test_listing_has_the_documented_tables_and_shapes(api: Api) -> None:
    tables = _tables(api)
    assert set(tables) == DOCUMENTED_TABLES
    for table in tables.values():
        assert set(table) == {"id", "name", "table", "columns", "orderBy"}
        for column in table["columns"]:
            assert set(column) == {"name", "label", "dataType", "supportedOperators"}
            assert column["supportedOperators"]
    assert tables["spend"]["orderBy"] == ["id"]
    assert tables["classification_business_units"]["orderBy"] == ["spend_id"]


def test_spend_covers_every_data_type_and_an_unknown_one(api: Api) -> None:
    spend = _tables(api)["spend"]["columns"]
    types = {c["dataType"] for c in spend}
    assert len(spend) >= 12
    assert SCALAR_TYPES | {"STRING_ARRAY"} <= types
    assert "GROUP_STRUCTURE" in types  # not documented: clients must survive it
    by_name = {c["name"]: c for c in spend}
    assert by_name["description"]["supportedOperators"] == ["eq"]
    assert by_name["tags"]["supportedOperators"] == [
        "contains_any", "contains_all", "is_empty", "is_not_empty",
    ]  # fmt: skip
    assert by_name["amount"]["supportedOperators"] == ["eq", "in", "gte", "lte", "between"]


def test_suppliers_and_contracts_have_updated_at_and_arrays(api: Api) -> None:
    tables = _tables(api)
    for entity in ("suppliers", "contracts"):
        types = {c["name"]: c["dataType"] for c in tables[entity]["columns"]}
        assert types["updated_at"] == "TIMESTAMP"
        assert "STRING_ARRAY" in types.values()
    suppliers = api.all_rows("suppliers", {"fields": ["id", "tags", "countries"]})
    assert len(suppliers) == 3000 // 50
    assert any(r["tags"] == [] for r in suppliers)
    assert any(len(r["tags"]) > 1 for r in suppliers)
    contracts = api.all_rows("contracts", {"fields": ["id"]})
    assert len(contracts) == 3000 // 50 // 2


def test_classification_tables_have_all_ten_levels_deeper_ones_null(api: Api) -> None:
    tables = _tables(api)
    for entity, depth in (
        ("classification_business_units", 3),
        ("classification_spend_categories", 4),
    ):
        names = [c["name"] for c in tables[entity]["columns"]]
        expected = ["spend_id"] + [f"level_{n}_{k}" for n in range(1, 11) for k in ("id", "name")]
        assert names == expected
        rows = api.rows(entity, {"pageSize": 200}).json()["data"]
        assert len(rows) == 200
        for row in rows:
            assert all(row[f"level_{n}_name"] for n in range(1, depth + 1))
            assert all(row[f"level_{n}_id"] is None for n in range(depth + 1, 11))
    ids = [
        r["spend_id"]
        for r in api.all_rows(
            "classification_spend_categories", {"fields": ["spend_id"], "pageSize": 5000}
        )
    ]
    spend_ids = [r["id"] for r in api.all_rows("spend", {"fields": ["id"], "pageSize": 5000})]
    assert ids == spend_ids


def test_default_projection_is_every_scalar_column_arrays_only_when_named(api: Api) -> None:
    columns = _tables(api)["spend"]["columns"]
    scalar = [c["name"] for c in columns if c["dataType"] != "STRING_ARRAY"]
    row = api.rows("spend", {"pageSize": 1}).json()["data"][0]
    assert list(row) == scalar
    named = api.rows("spend", {"pageSize": 1, "fields": ["tags", "id", "tags"]}).json()["data"][0]
    assert list(named) == ["tags", "id"]
    assert isinstance(named["tags"], list)


def test_value_formats_and_nulls_with_keys_present(api: Api) -> None:
    rows = api.all_rows("spend", {"pageSize": 3000, "fields": [
        "id", "invoice_date", "updated_at", "is_po", "quantity", "due_date", "description", "tags",
    ]})  # fmt: skip
    assert len(rows) == 3000
    for row in rows:
        assert ISO_DATE.match(row["invoice_date"])
        assert RFC3339_UTC.match(row["updated_at"])
        assert isinstance(row["is_po"], bool)
        assert all(isinstance(t, str) for t in row["tags"])
    assert any(r["due_date"] is None for r in rows)
    assert any(r["quantity"] is None for r in rows)
    descriptions = " ".join(r["description"] for r in rows if r["description"])
    for needle in ("Ærøskøbing", '"', ",", ";", "\n"):
        assert needle in descriptions
    assert any(r["description"] is None for r in rows)


def test_money_keeps_every_digit_beyond_float_precision(api: Api) -> None:
    response = api.rows("spend", {"pageSize": 5, "fields": ["id", "amount"]})
    assert b'"amount":12345678901234567.89' in response.content
    assert b'"amount":9007199254740993.01' in response.content
    amounts = {r["id"]: r["amount"] for r in exact(response)["data"]}
    assert amounts["SP-0000003"] == Decimal("12345678901234567.89")
    assert float(amounts["SP-0000005"]) != amounts["SP-0000005"]  # a float cannot hold it
    huge = api.all_rows("spend", {"fields": ["amount"], "filters": {"amount": {"gte": 10**12}}})
    assert 10 <= len(huge) <= 80  # about 1% of 3000 rows
    assert all(isinstance(r["amount"], Decimal) for r in huge)
    assert all(len(r["amount"].as_tuple().digits) >= 17 for r in huge)


def test_key_by_label_follows_the_three_documented_rules(api: Api) -> None:
    columns = _tables(api)["spend"]["columns"]
    labels = [c["label"] for c in columns]
    assert labels.count("Amount") == 2
    assert labels.count("Date") == 3
    assert "Date (posting_date)" in labels
    row = api.rows(
        "spend", {"pageSize": 1, "keyBy": "label", "fields": [c["name"] for c in columns]}
    )
    keys = list(row.json()["data"][0])
    assert keys[3:9] == [
        "Amount",
        "Amount (amount_local)",
        "Currency",
        "Date",
        "Date (posting_date)",
        "Date (due_date)",
    ]
    assert "Date (posting_date) #2" in keys  # rule 3: the later column's own label collides
    assert len(keys) == len(set(keys)) == len(columns)
    assert keys == list(label_keys([(c["name"], c["label"]) for c in columns]).values())


def test_label_keys_do_not_depend_on_the_projection(api: Api) -> None:
    row = api.rows(
        "spend", {"pageSize": 1, "keyBy": "label", "fields": ["document_date", "due_date"]}
    )
    assert list(row.json()["data"][0]) == ["Date (posting_date) #2", "Date (due_date)"]


def test_label_key_algorithm_matches_the_brief() -> None:
    columns = [
        ("a", "X"),
        ("b", "X"),
        ("c", "X (b)"),
        ("d", "X (b)"),
        ("e", "X (b) #2"),
        ("f", "Y"),
    ]
    assert label_keys(columns) == {
        "a": "X", "b": "X (b)", "c": "X (b) #2", "d": "X (b) (d)", "e": "X (b) #2 #2", "f": "Y",
    }  # fmt: skip


def test_the_default_sandbox_lists_documented_data_types_only(own_api: Any) -> None:
    """`--unknown-data-types` (the tests' sandboxes) adds GROUP_STRUCTURE; without it, none."""
    api = own_api(spend_rows=20, unknown_data_types=False)
    tables = _tables(api)
    types = {c["dataType"] for t in tables.values() for c in t["columns"]}
    assert types == SCALAR_TYPES | {"STRING_ARRAY"}
    assert "cost_center_path" not in api.all_rows("spend", {"pageSize": 5})[0]
    assert api.rows("spend", {"fields": ["cost_center_path"]}).status_code == 400
