"""Import API: JSON and file imports, exact numbers, flat rows, 413, delete queries."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import zipfile
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
from ignite_sandbox.launcher import run_sandbox
from ignite_sandbox.store import SEEDED_REPOSITORIES

from tests.ignite_sandbox.helpers import Api, assert_error, dumps, exact

MAX_BODY = 64 * 1024


@pytest.fixture(scope="module")
def importer() -> Iterator[Api]:
    """A server of this module's own, with a 64 KiB body limit so 413 is cheap to reach."""
    with run_sandbox(spend_rows=50, seed=7, max_body_bytes=MAX_BODY) as server:
        yield Api(server)


@pytest.fixture
def repo(importer: Api) -> str:
    """A fresh repository per test, so row counts are this test's own."""
    return str(importer.server.admin.create_repository("Spend", ["Amount", "Supplier"])["id"])


def import_json(api: Api, repository: str, rows: list[Any], **extra: Any) -> Any:
    return api.post("/import/", data=dumps({"dataRepositoryId": repository, "data": rows, **extra}))


def import_file(api: Api, repository: str, name: str, content: bytes, **form: str) -> Any:
    return api.post(
        "/import/file/",
        data={"dataRepositoryId": repository, **form},
        files={"file": (name, content)},
    )


def stored(api: Api, repository: str) -> list[dict[str, Any]]:
    return api.server.admin.repository_rows(repository)


def test_seeded_repositories_are_listed_with_their_fields(importer: Api) -> None:
    listed = importer.get("/repositories/").json()
    assert listed[: len(SEEDED_REPOSITORIES)] == [
        {"id": repo_id, "name": name, "fields": fields}
        for repo_id, name, fields in SEEDED_REPOSITORIES
    ]
    created = importer.server.admin.create_repository("Extra", ["x"])
    assert created in importer.get("/repositories/").json()


def test_json_import_keeps_numbers_exact_and_extra_fields(importer: Api, repo: str) -> None:
    rows = [
        {"Amount": Decimal("12345678901234567.89"), "Supplier": "Ærøskøbing", "Unlisted": True},
        {"Amount": Decimal("9007199254740993.01"), "Supplier": None, "Count": 12345678901234567890},
    ]
    response = import_json(importer, repo, rows, importName="batch-1")
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"importId", "importName", "rows"}
    assert body["importName"] == "batch-1"
    assert body["rows"] == 2
    assert stored(importer, repo) == rows
    raw = importer.get(f"/_sandbox/repositories/{repo}/rows").content
    assert b"12345678901234567.89" in raw
    assert b"12345678901234567890" in raw
    record = next(i for i in importer.server.admin.imports() if i["importId"] == body["importId"])
    assert record == {
        "importId": body["importId"], "dataRepositoryId": repo, "importName": "batch-1",
        "deleteQueryId": None, "rows": 2, "kind": "json", "format": "json",
        "deletedRows": 0, "bytes": record["bytes"], "createdAt": record["createdAt"],
        "payloadSha256": hashlib.sha256(
            dumps({"dataRepositoryId": repo, "data": rows, "importName": "batch-1"})
        ).hexdigest(),
    }  # fmt: skip
    assert record["bytes"] > 0


def test_import_name_defaults_to_a_timestamp(importer: Api, repo: str) -> None:
    name = import_json(importer, repo, [{"a": 1}]).json()["importName"]
    assert name[:2] == "20"
    assert "T" in name


@pytest.mark.parametrize(
    ("rows", "needles"),
    [
        ([{"a": 1}, {"a": 2, "b": {"c": 1}}], ["data[1].b", "nested object"]),
        ([{"a": [1, 2]}], ["data[0].a", "nested array"]),
        ([{"a": 1}, 5], ["data[1]", "object"]),
    ],
)
def test_nested_rows_are_400_naming_row_and_field_and_nothing_is_stored(
    importer: Api, repo: str, rows: list[Any], needles: list[str]
) -> None:
    message = assert_error(import_json(importer, repo, rows), 400, "invalid_request")
    for needle in needles:
        assert needle in message
    assert stored(importer, repo) == []


def test_import_body_errors(importer: Api, repo: str) -> None:
    assert_error(importer.post("/import/", data=b"{"), 400, "invalid_request")
    assert_error(importer.post("/import/", json={"data": []}), 400, "invalid_request")
    assert_error(importer.post("/import/", json={"dataRepositoryId": repo}), 400, "invalid_request")
    unknown = import_json(importer, "00000000-0000-0000-0000-000000000000", [{"a": 1}])
    assert_error(unknown, 404, "not_found")
    missing_query = import_json(importer, repo, [{"a": 1}], deleteQueryId="nope")
    assert_error(missing_query, 404, "not_found")


def test_body_over_the_limit_is_413_and_nothing_is_stored(importer: Api, repo: str) -> None:
    rows = [{"Supplier": "x" * 100, "n": i} for i in range(1000)]
    assert len(dumps({"data": rows})) > MAX_BODY
    assert_error(import_json(importer, repo, rows), 413, "payload_too_large")
    big_csv = b"a,b\n" + b"1,2\n" * (MAX_BODY // 4)
    assert_error(import_file(importer, repo, "big.csv", big_csv), 413, "payload_too_large")
    chunked = importer.post(
        "/import/", data=iter([dumps({"dataRepositoryId": repo, "data": rows})])
    )
    assert_error(chunked, 413, "payload_too_large")  # no Content-Length: counted as it arrives
    assert stored(importer, repo) == []
    assert import_json(importer, repo, rows[:100]).status_code == 201
    small_chunked = dumps({"dataRepositoryId": repo, "data": rows[:10]})
    assert (
        importer.post("/import/", data=iter([small_chunked[:50], small_chunked[50:]])).status_code
        == 201
    )


CSV_CASES = [
    ({}, b'A,B\n1,"say ""hi"", then; go"\n', {"A": "1", "B": 'say "hi", then; go'}),
    ({"delimiter": ";"}, b"A;B\n1,5;x\n", {"A": "1,5", "B": "x"}),
    ({"delimiter": "\t"}, b"A\tB\n1\tx y\n", {"A": "1", "B": "x y"}),
    ({"quoteCharacter": "SINGLE_QUOTE"}, b"A,B\n'1,2',x\n", {"A": "1,2", "B": "x"}),
    (
        {"quoteCharacter": "disabled", "escapeCharacter": "BACKSLASH"},
        b'A,B\n"1\\,2",x\n',
        {"A": '"1,2"', "B": "x"},
    ),
    ({"escapeCharacter": "BACKSLASH"}, b'A,B\n"say \\"hi\\"",x\n', {"A": 'say "hi"', "B": "x"}),
    ({"escapeCharacter": "VERTICAL_BAR"}, b'A,B\n"a|"b",x\n', {"A": 'a"b', "B": "x"}),
    (
        {"quoteCharacter": "DOUBLE_QUOTE", "escapeCharacter": "DOUBLE_QUOTE"},
        b'A,B\n"a""b",x\n',
        {"A": 'a"b', "B": "x"},
    ),
    ({"encoding": "ISO-8859-1"}, "A,B\nÆrø,x\n".encode("iso-8859-1"), {"A": "Ærø", "B": "x"}),
    (
        {"encoding": "UTF-8"},
        '\ufeffA,B\nÆrø,"line\nbreak"\n'.encode(),
        {"A": "Ærø", "B": "line\nbreak"},
    ),
]


@pytest.mark.parametrize(("config", "content", "expected"), CSV_CASES)
def test_csv_file_config_options(
    importer: Api, repo: str, config: dict[str, str], content: bytes, expected: dict[str, str]
) -> None:
    form = {"fileConfig": json.dumps(config)} if config else {}
    response = import_file(importer, repo, "data.csv", content, **form)
    assert response.status_code == 201, response.text
    assert response.json()["rows"] == 1
    assert stored(importer, repo) == [expected]


def test_csv_values_stay_strings_and_errors_name_the_line(importer: Api, repo: str) -> None:
    response = import_file(importer, repo, "d.csv", b"Amount,Supplier\n12345678901234567.89,\n")
    assert response.status_code == 201
    assert stored(importer, repo) == [{"Amount": "12345678901234567.89", "Supplier": ""}]
    short = import_file(importer, repo, "d.csv", b"A,B\n1,2\n3\n")
    assert "line 3" in assert_error(short, 400, "invalid_request")
    latin = import_file(importer, repo, "d.csv", "A\nÆrø\n".encode("iso-8859-1"))
    assert "encoding" in assert_error(latin, 400, "invalid_request")
    bad_config = import_file(importer, repo, "d.csv", b"A\n1\n", fileConfig='{"delimiter": "|"}')
    assert "delimiter" in assert_error(bad_config, 400, "invalid_request")


def test_json_ndjson_and_xlsx_files(importer: Api, repo: str) -> None:
    json_file = b'[{"Amount": 12345678901234567.89, "Supplier": "A"}]'
    assert import_file(importer, repo, "rows.json", json_file).status_code == 201
    ndjson = b'{"Amount": 1.10, "Supplier": "B"}\n\n{"Amount": 2, "Supplier": null}\n'
    assert import_file(importer, repo, "rows.ndjson", ndjson).json()["rows"] == 2
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Amount", "Supplier"])
    sheet.append([1.5, "C"])
    sheet.append([7, None])
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert import_file(importer, repo, "rows.xlsx", buffer.getvalue()).json()["rows"] == 2
    assert stored(importer, repo) == [
        {"Amount": Decimal("12345678901234567.89"), "Supplier": "A"},
        {"Amount": Decimal("1.10"), "Supplier": "B"},
        {"Amount": 2, "Supplier": None},
        {"Amount": Decimal("1.5"), "Supplier": "C"},
        {"Amount": 7, "Supplier": None},
    ]
    formats = [
        i["format"] for i in importer.server.admin.imports() if i["dataRepositoryId"] == repo
    ]
    assert formats == ["json", "ndjson", "xlsx"]
    kinds = {i["kind"] for i in importer.server.admin.imports() if i["dataRepositoryId"] == repo}
    assert kinds == {"file"}
    nested = import_file(importer, repo, "n.ndjson", b'{"a": 1}\n{"a": {"b": 2}}\n')
    assert "data[1].a" in assert_error(nested, 400, "invalid_request")


def test_gzip_by_flag_or_extension_and_single_file_zip(importer: Api, repo: str) -> None:
    payload = gzip.compress(b"A,B\n1,2\n")
    assert import_file(importer, repo, "d.csv", payload, compressed="true").status_code == 201
    assert import_file(importer, repo, "d.csv.gz", payload).status_code == 201
    assert (
        import_file(importer, repo, "d.ndjson.gz", gzip.compress(b'{"A": "3"}\n')).status_code
        == 201
    )
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("inner.csv", "A,B\n4,5\n")
    assert import_file(importer, repo, "d.zip", archive.getvalue()).status_code == 201
    assert [r["A"] for r in stored(importer, repo)] == ["1", "1", "3", "4"]
    two = io.BytesIO()
    with zipfile.ZipFile(two, "w") as zf:
        zf.writestr("a.csv", "A\n1\n")
        zf.writestr("b.csv", "A\n2\n")
    assert "one file" in assert_error(
        import_file(importer, repo, "d.zip", two.getvalue()), 400, "invalid_request"
    )
    not_gzip = import_file(importer, repo, "d.csv", b"A\n1\n", compressed="true")
    assert "gzip" in assert_error(not_gzip, 400, "invalid_request")
    flag = import_file(importer, repo, "d.csv", b"A\n1\n", compressed="yes")
    assert "compressed" in assert_error(flag, 400, "invalid_request")
    kind = import_file(importer, repo, "d.txt", b"A\n1\n")
    assert ".csv" in assert_error(kind, 400, "invalid_request")


def test_file_import_needs_repository_and_file(importer: Api, repo: str) -> None:
    no_file = importer.post("/import/file/", data={"dataRepositoryId": repo})
    assert_error(no_file, 400, "invalid_request")
    unknown = import_file(importer, "nope", "d.csv", b"A\n1\n")
    assert_error(unknown, 404, "not_found")


def test_delete_query_removes_matching_rows_then_adds_new_ones(importer: Api, repo: str) -> None:
    march = [{"Month": "2026-03", "Amount": Decimal("10.50"), "Code": "7"},
             {"Month": "2026-03", "Amount": 900, "Code": "10"}]  # fmt: skip
    april = [{"Month": "2026-04", "Amount": Decimal("99.99"), "Code": "8"}]
    assert import_json(importer, repo, march + april).status_code == 201
    query = importer.server.admin.create_delete_query(repo, {"Month": {"eq": "2026-03"}})
    replacement = [{"Month": "2026-03", "Amount": Decimal("11.00"), "Code": "7"}]
    response = import_json(importer, repo, replacement, deleteQueryId=query)
    assert response.status_code == 201
    assert stored(importer, repo) == april + replacement
    record = next(
        i for i in importer.server.admin.imports() if i["importId"] == response.json()["importId"]
    )
    assert record["deleteQueryId"] == query
    assert record["deletedRows"] == 2


def test_delete_query_compares_numbers_numerically_else_as_strings(
    importer: Api, repo: str
) -> None:
    rows = [{"Code": "9", "Amount": "1e3"}, {"Code": "10", "Amount": Decimal("99.5")},
            {"Code": "x", "Amount": 100}, {"Code": "7", "Amount": None}]  # fmt: skip
    assert import_json(importer, repo, rows).status_code == 201
    # "10" >= 9.5 as numbers (as text "10" < "9.5"); "x" is no number: text "x" >= "9.5".
    numeric = importer.server.admin.create_delete_query(repo, {"Code": {"gte": Decimal("9.5")}})
    assert import_json(importer, repo, [], deleteQueryId=numeric).status_code == 201
    assert [r["Code"] for r in stored(importer, repo)] == ["9", "7"]
    between = importer.server.admin.create_delete_query(repo, {"Amount": {"between": [999, 1001]}})
    assert import_json(importer, repo, [], deleteQueryId=between).status_code == 201
    assert [r["Code"] for r in stored(importer, repo)] == ["7"]  # "1e3" is the number 1000
    listed = importer.server.admin.create_delete_query(repo, {"Code": {"in": ["7", "8"]}})
    assert import_json(importer, repo, [], deleteQueryId=listed).json()["rows"] == 0
    assert stored(importer, repo) == []


def test_delete_query_of_another_repository_is_rejected(importer: Api, repo: str) -> None:
    other = importer.server.admin.create_repository("Other", [])["id"]
    query = importer.server.admin.create_delete_query(other, {"a": {"eq": 1}})
    assert_error(
        import_json(importer, repo, [{"a": 1}], deleteQueryId=query), 400, "invalid_request"
    )
    bad = importer.post(
        "/_sandbox/delete-queries", json={"dataRepositoryId": repo, "filters": {"a": {"gt": 1}}}
    )
    assert "gt" in assert_error(bad, 400, "invalid_request")
    unknown = importer.post(
        "/_sandbox/delete-queries", json={"dataRepositoryId": "nope", "filters": {"a": {"eq": 1}}}
    )
    assert_error(unknown, 404, "not_found")


def test_delete_query_applies_to_file_imports(importer: Api, repo: str) -> None:
    assert import_file(importer, repo, "a.csv", b"K,V\n1,a\n2,b\n").status_code == 201
    query = importer.server.admin.create_delete_query(repo, {"K": {"eq": 1}})
    response = import_file(importer, repo, "b.csv", b"K,V\n1,c\n", deleteQueryId=query)
    assert response.status_code == 201
    assert stored(importer, repo) == [{"K": "2", "V": "b"}, {"K": "1", "V": "c"}]


def test_repository_rows_response_is_exact(importer: Api, repo: str) -> None:
    import_json(importer, repo, [{"x": Decimal("0.10")}])
    assert exact(importer.get(f"/_sandbox/repositories/{repo}/rows")) == {
        "rows": [{"x": Decimal("0.10")}]
    }
    assert_error(importer.get("/_sandbox/repositories/nope/rows"), 404, "not_found")


def test_csv_module_round_trip_of_tricky_values(importer: Api, repo: str) -> None:
    tricky = ['Ærøskøbing "Kaffe"', "a,b;c", "line\nbreak", "  spaces  ", ""]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["v"])
    for value in tricky:
        writer.writerow([value])
    assert (
        import_file(importer, repo, "t.csv", buffer.getvalue().encode()).json()["rows"]
        == len(tricky) - 1
    )
    assert [r["v"] for r in stored(importer, repo)] == tricky[:-1]


def test_csv_carriage_returns_inside_quotes_round_trip(importer: Api, repo: str) -> None:
    # A CR inside a quoted cell is text, not a line break: lone, trailing, middle and CRLF.
    values = ["trailing\r", "mid\rdle", "crlf\r\nend", "\r", 'q"uo\rte', "nul\x00byte", "=1+2"]
    lines = ["v"] + ['"' + value.replace('"', '""') + '"' for value in values]
    content = gzip.compress("\n".join(lines).encode() + b"\n")

    answer = import_file(importer, repo, "cr.csv", content, compressed="true").json()

    assert answer["rows"] == len(values)
    assert [r["v"] for r in stored(importer, repo)] == values


def test_each_import_keeps_the_sha256_of_what_it_carried(importer: Api, repo: str) -> None:
    body = dumps({"dataRepositoryId": repo, "importName": "digest", "data": [{"x": 1}]})
    importer.post("/import/", data=body)
    upload = gzip.compress(b"v\n1\n", mtime=0)
    import_file(importer, repo, "d.csv", upload, compressed="true", importName="file digest")

    by_name = {i["importName"]: i for i in importer.server.admin.imports()}
    assert by_name["digest"]["payloadSha256"] == hashlib.sha256(body).hexdigest()
    assert by_name["file digest"]["payloadSha256"] == hashlib.sha256(upload).hexdigest()
