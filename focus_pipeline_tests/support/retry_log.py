"""Counting the retries the pipeline announces, by the operation each names."""

from __future__ import annotations

import logging
from collections import Counter


class RetryLog(logging.Handler):
    """Counts the retries ``call_with_retries`` announces, by the operation it names."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.retries: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        if isinstance(record.msg, str) and "retry" in record.msg and record.args:
            self.retries[str(record.args[0]).split(" ")[0]] += 1

    @property
    def s3(self) -> int:
        return sum(n for op, n in self.retries.items() if op[:1].isupper())

    @property
    def oci(self) -> int:
        return sum(n for op, n in self.retries.items() if not op[:1].isupper())
