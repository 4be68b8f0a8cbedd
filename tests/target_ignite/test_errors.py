"""What stops a load: bad input, unknown repositories and fields, bad settings.

Each stop is one ERROR line that names what and where, exit code 1, no traceback; what was
accepted before the problem is imported, and STATE never claims more than that.
"""

from __future__ import annotations

import socket

import pytest

from tests.target_ignite.helpers import DATA, config_for, imports_of, rows_exact, run_target

PERIOD_FIELDS = ["Id", "Period", "SupplierName", "Amount"]


@pytest.mark.parametrize(
    "case",
    [
        ("malformed_line_8_not_json", "spend", "not valid JSON"),
        ("malformed_line_8_record_before_schema", "refunds", "before a corresponding schema"),
        (
            "malformed_line_8_breaks_schema",
            "spend",
            "record breaks its schema: field 'Amount': 'twelve' is not of type 'number'",
        ),
        ("malformed_line_8_nan_amount", "spend", "NaN and Infinity are not JSON numbers"),
    ],
)
def test_malformed_input_stops_at_its_line_keeping_what_came_before(
    case, ignite, new_repository, tmp_path
):
    scenario, stream, reason = case
    repository = new_repository(PERIOD_FIELDS)

    run = run_target(
        config_for(ignite, repository_id=repository["id"]), DATA / f"{scenario}.singer", tmp_path
    )

    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    (error,) = run.error_lines
    assert f"line 8 (stream '{stream}'): " in error
    assert reason in error
    # The five records before line 8 were accepted, so they are imported; the record after
    # the bad line is not. The last STATE is the one before the bad line (it covers 3).
    assert [r["SupplierName"] for r in rows_exact(ignite, repository["id"])] == [
        f"ok {i}" for i in range(1, 6)
    ]
    assert run.states == [{"spend": 3}]


def test_unknown_repository_lists_the_available_ones(ignite, tmp_path):
    run = run_target(
        config_for(ignite, stream_repositories={"spend": "NoSuchRepository"}),
        DATA / "delete_query_march_25_rows.singer",
        tmp_path,
    )

    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    assert (
        "stream_repositories.spend: no repository has the id or name 'NoSuchRepository'"
        in run.stderr
    )
    assert "Available repositories: 'ExampleRepository1' (" in run.stderr
    assert "'ExampleRepository2' (" in run.stderr
    assert run.states == []


def test_stream_without_a_repository_stops_before_its_rows_move(ignite, tmp_path):
    run = run_target(config_for(ignite), DATA / "delete_query_march_25_rows.singer", tmp_path)

    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    (error,) = run.error_lines
    assert "line 1 (stream 'spend'): stream 'spend' has no repository" in error
    assert "ExampleRepository1" in error


def test_unknown_fields_warn_sends_them_and_says_so(ignite, new_repository, tmp_path):
    repository = new_repository(["SupplierName", "Amount"])

    run = run_target(
        config_for(ignite, repository_id=repository["id"]),
        DATA / "field_colour_not_in_repository.singer",
        tmp_path,
    )

    assert run.returncode == 0, run.stderr
    assert "field(s) 'Colour' that repository" in run.stderr
    assert "sending them anyway (unknown_fields: warn)" in run.stderr
    assert [r["Colour"] for r in rows_exact(ignite, repository["id"])] == ["red", "blue"]


def test_unknown_fields_error_stops_before_any_row_moves(ignite, new_repository, tmp_path):
    repository = new_repository(["SupplierName", "Amount"])

    run = run_target(
        config_for(ignite, repository_id=repository["id"], unknown_fields="error"),
        DATA / "field_colour_not_in_repository.singer",
        tmp_path,
    )

    assert run.returncode == 1
    (error,) = run.error_lines
    assert (
        "line 1 (stream 'spend'): stream 'spend': the stream's schema has field(s) 'Colour'"
        in error
    )
    assert "(its fields: Amount, SupplierName); unknown_fields is 'error'" in error
    assert imports_of(ignite, repository["id"]) == []
    assert run.states == []


def test_unknown_fields_drop_removes_them(ignite, new_repository, tmp_path):
    repository = new_repository(["SupplierName", "Amount"])

    run = run_target(
        config_for(ignite, repository_id=repository["id"], unknown_fields="drop"),
        DATA / "field_colour_not_in_repository.singer",
        tmp_path,
    )

    assert run.returncode == 0, run.stderr
    rows = rows_exact(ignite, repository["id"])
    assert [sorted(r) for r in rows] == [["Amount", "SupplierName"]] * 2


def test_stream_maps_rename_warehouse_columns_to_repository_fields(
    ignite, new_repository, tmp_path
):
    """The README's example: supplier_name -> SupplierName, checked after the maps."""
    repository = new_repository(["InvoiceId", "SupplierName", "Amount", "Currency"])
    stream_maps = {
        "public-invoices": {
            "__key_properties__": ["InvoiceId"],
            "InvoiceId": "invoice_id",
            "SupplierName": "supplier_name",
            "Amount": "amount",
            "Currency": "currency",
            "invoice_id": "__NULL__",
            "supplier_name": "__NULL__",
            "amount": "__NULL__",
            "currency": "__NULL__",
        }
    }

    run = run_target(
        config_for(
            ignite, repository_id=repository["id"], unknown_fields="error", stream_maps=stream_maps
        ),
        DATA / "warehouse_snake_case_columns.singer",
        tmp_path,
    )

    assert run.returncode == 0, run.stderr
    rows = rows_exact(ignite, repository["id"])
    assert [(r["SupplierName"], r["Amount"].text) for r in rows] == [
        ("Acme AS", "1500.75"),
        ("Beta GmbH", "99.90"),
    ]
    assert sorted(rows[0]) == ["Amount", "Currency", "InvoiceId", "SupplierName"]


def test_refused_token_is_a_one_line_configuration_error(ignite, tmp_path):
    config = config_for(ignite, repository_id="ExampleRepository1")
    config["api_token"] = "not-the-token-0123"

    run = run_target(config, DATA / "exact_values.singer", tmp_path)

    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    assert "api_token was refused by" in run.stderr
    assert "not-the-token-0123" not in run.stderr + run.stdout


def test_batch_max_bytes_above_190_mib_is_refused(ignite, tmp_path):
    config = config_for(ignite, repository_id="ExampleRepository1", batch_max_bytes=200 * 1024**2)

    run = run_target(config, DATA / "exact_values.singer", tmp_path)

    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    assert "batch_max_bytes" in run.stderr
    assert "199229440" in run.stderr


def test_a_missing_token_names_the_variable_that_sets_it(ignite, tmp_path):
    config = config_for(ignite)
    del config["api_token"]
    run = run_target(config, DATA / "delete_query_march_25_rows.singer", tmp_path)

    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    assert "is a required property" not in run.stderr
    assert (
        "api_token is not set: set the TARGET_IGNITE_API_TOKEN environment variable"
        in (run.error_lines[0])
    )


def test_unreachable_api_says_which_setting_holds_the_url_and_what_to_check(tmp_path):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = {"api_url": f"http://127.0.0.1:{port}", "api_token": "tok", "max_retries": 0}
    run = run_target(config, DATA / "delete_query_march_25_rows.singer", tmp_path)

    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    (error,) = [line for line in run.error_lines if "target-ignite" in line]
    assert f"Could not reach the Ignite API at http://127.0.0.1:{port}: " in error
    assert error.index("api_url setting (TARGET_IGNITE_API_URL)") < error.index("connection failed")


def test_an_api_url_with_credentials_is_refused_and_shows_none(tmp_path):
    with socket.socket() as probe:  # a port nothing listens on: no request may be needed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = {"api_url": f"http://ann:hunter2@127.0.0.1:{port}", "api_token": "tok",
              "max_retries": 0}  # fmt: skip
    run = run_target(config, DATA / "delete_query_march_25_rows.singer", tmp_path)

    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    # Refused at start-up (issue 12), before any request: shown without the credentials.
    (error,) = [line for line in run.error_lines if "target-ignite" in line]
    assert f"api_url 'http://127.0.0.1:{port}' carries credentials" in error
    assert "hunter2" not in run.stderr
    assert "ann:" not in run.stderr
