"""A local S3-compatible server for tests: moto's standalone server as a real child process.

Any test folder can use it (the `s3_server` and `s3_bucket` fixtures in tests/conftest.py):
plugins reach it the way they reach AWS, through the standard AWS environment variables
that `S3Server.env()` returns (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
`AWS_DEFAULT_REGION`, and `AWS_ENDPOINT_URL`, botocore's own setting for another endpoint,
which s3fs follows). Nothing is set in the test process's environment: pass `env()` to the
child processes, and read objects back with `filesystem()`.

The credentials are distinctive, so `credential_leaks` can tell any trace of them in an
output (raw, repr-escaped, JSON-escaped or URL-encoded) from harmless text.
"""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, quote_plus

import s3fs

READY_LINE = re.compile(r"Running on (http://127\.0\.0\.1:\d+)")
ACCESS_KEY_ID = "AKIAIGNITES3TEST7Q2Z"
# `/`, `+` and `=` look different URL-encoded, `\` and `'` repr-escaped: every form is checked.
SECRET_ACCESS_KEY = "wJalr/Ign1te+S3cr3t=K7MD\\ENG'bPxRfiCY"
REGION = "us-east-1"


@dataclass
class S3Server:
    """moto's server, up and answering on 127.0.0.1."""

    endpoint_url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def env(self) -> dict[str, str]:
        """The standard AWS environment variables that point s3fs (and boto3) here."""
        return {
            "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ENDPOINT_URL": self.endpoint_url,
        }

    def filesystem(self) -> s3fs.S3FileSystem:
        """An s3fs filesystem on this server, for tests to create buckets and read objects."""
        return s3fs.S3FileSystem(
            key=ACCESS_KEY_ID,
            secret=SECRET_ACCESS_KEY,
            endpoint_url=self.endpoint_url,
            skip_instance_cache=True,
        )

    def new_bucket(self) -> str:
        """Create a bucket with a unique name; returns the name."""
        name = f"ignite-test-{uuid.uuid4().hex[:12]}"
        self.filesystem().mkdir(name)
        return name

    def stop(self, timeout: float = 20) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=timeout)


def credential_forms() -> list[str]:
    """Every spelling of the credentials that an output could carry."""
    forms = []
    for value in (ACCESS_KEY_ID, SECRET_ACCESS_KEY):
        forms += [
            value,
            repr(value)[1:-1],
            json.dumps(value)[1:-1],
            quote(value, safe=""),
            quote_plus(value),
        ]
    return sorted(set(forms))


def credential_leaks(text: str) -> list[str]:
    """The forms of the credentials that appear in `text` (none, if all is well)."""
    return [form for form in credential_forms() if form in text]


@contextlib.contextmanager
def run_s3_server(startup_timeout: float = 60) -> Iterator[S3Server]:
    """Run `python -m moto.server` on a free port of 127.0.0.1 until the block ends."""
    log_dir = Path(tempfile.mkdtemp(prefix="moto-server-"))
    log_path = log_dir / "server.log"
    argv = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", "0"]
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(argv, stdout=log_file, stderr=subprocess.STDOUT)
    server: S3Server | None = None
    try:
        deadline = time.monotonic() + startup_timeout
        while server is None:
            match = READY_LINE.search(log_path.read_text(encoding="utf-8", errors="replace"))
            if match:
                server = S3Server(match.group(1), process, log_path)
                break
            if process.poll() is not None or time.monotonic() > deadline:
                msg = f"moto server did not start:\n{log_path.read_text(errors='replace')}"
                raise RuntimeError(msg)
            time.sleep(0.05)
        yield server
    finally:
        if server is not None:
            server.stop()
        elif process.poll() is None:
            process.kill()
            process.wait()
