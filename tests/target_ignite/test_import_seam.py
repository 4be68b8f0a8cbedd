"""`ImportClient.send`, the one place an import leaves the target: what it is given is what
Ignite receives, and what it returns says how many attempts it took and whether an answer
was lost (so the import may be there twice)."""

from __future__ import annotations

import gzip
import hashlib
import logging
from collections import Counter

from target_ignite.client import ImportClient, ImportRequest, json_body
from target_ignite.wire import CSV_FILE_CONFIG

from tests.target_ignite.helpers import imports_of

IMPORTS = 8


def client_for(server, max_retries: int = 0) -> ImportClient:
    return ImportClient(
        server.url,
        server.token,
        timeout=30,
        max_retries=max_retries,
        max_retry_after=5,
        logger=logging.getLogger("test_import_seam"),
    )


def json_import(repository_id: str, name: str) -> ImportRequest:
    rows = b'{"Period":"2024-03","Amount":1.10},{"Period":"2024-04","Amount":2}'
    body = json_body(repository_id, name, None, rows)
    return ImportRequest(repository_id, name, "json", 2, None, body)


def test_ignite_receives_exactly_the_bytes_of_the_built_import(ignite, new_repository):
    repository = new_repository(["Period", "Amount"])
    csv_file = gzip.compress(b"Period,Amount\r\n2024-05,3.30\r\n", mtime=0)
    requests = [
        json_import(repository["id"], "seam json"),
        ImportRequest(
            repository["id"], "seam csv", "csv", 1, None, csv_file,
            file_name="seam-csv.csv", file_config=CSV_FILE_CONFIG,
        ),
    ]  # fmt: skip

    results = [client_for(ignite).send(request) for request in requests]

    received = {i["importName"]: i for i in imports_of(ignite, repository["id"])}
    for request, result in zip(requests, results, strict=True):
        landed = received[request.import_name]
        assert landed["importId"] == result.import_id
        assert landed["payloadSha256"] == hashlib.sha256(request.body).hexdigest()
        assert landed["rows"] == request.rows == result.rows
        assert (result.attempts, result.possible_duplicate) == (1, False)
    assert results[0].request_bytes == len(requests[0].body)


def test_attempts_and_lost_answers_are_what_ignite_saw(sandbox_factory):
    """`lost`: the import takes effect and its answer never comes; each such attempt is one
    more import of the same name in Ignite, and the result says so."""
    server = sandbox_factory(spend_rows=10, faults="lost=0.4")
    repository = server.admin.create_repository("Seam lost", ["Period", "Amount"])
    client = client_for(server, max_retries=10)

    results = [
        client.send(json_import(repository["id"], f"seam {n}")) for n in range(1, IMPORTS + 1)
    ]

    landed = Counter(i["importName"] for i in imports_of(server, repository["id"]))
    assert any(result.possible_duplicate for result in results), "no answer was lost"
    for result in results:
        assert landed[result.import_name] == result.attempts
        assert result.uncertain_attempts == result.attempts - 1
        assert result.possible_duplicate is (result.attempts > 1)
