"""One import's worth of encoded rows, and the byte arithmetic that keeps it under the cap.

Rows are encoded once, when they arrive, and kept only as bytes: the size of the import is
then known exactly before it is sent, and memory is bounded by one batch per stream.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Batch:
    """Encoded rows for one import.

    `capacity` is what the rows may take: `batch_max_bytes` minus what the import adds
    around them (the JSON envelope, or the CSV header line). `header` goes before the rows
    of a file (a CSV file's columns, as they were when the batch began).
    """

    number: int
    import_name: str
    capacity: int
    separator: bytes
    header: bytes = b""
    rows: int = 0
    content: bytearray = field(default_factory=bytearray)

    @property
    def size(self) -> int:
        """Bytes of the rows so far, separators included."""
        return len(self.content)

    def fits(self, encoded_row: bytes) -> bool:
        """Whether one more row keeps the batch within its capacity."""
        extra = len(encoded_row) + (len(self.separator) if self.rows else 0)
        return self.size + extra <= self.capacity

    def add(self, encoded_row: bytes) -> None:
        """Append a row (the caller checked `fits`, or the batch is empty)."""
        if self.rows:
            self.content += self.separator
        self.content += encoded_row
        self.rows += 1
