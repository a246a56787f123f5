"""What a copied day amounts to: the pure decisions after the copy, unit-tested without servers.

The asset tells the story of a day (sweep, list, plan, copy, record, report); what it concludes
lives here: which version of each file is now in S3, what is still missing, and the text a
person reads when files fail.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from focus_pipeline.lib.naming import S3Layout
from focus_pipeline.lib.plan import (
    CopiedFile,
    DayPlan,
    OciObject,
    SkippedObject,
    folder_digest,
    manifest_digest,
)
from focus_pipeline.lib.transfer import CopyFailure, CopyResult, Progress

# Failures listed in full in a run's failure text; the rest are counted.
MAX_FAILURES_SHOWN = 10


@dataclass(frozen=True)
class DayOutcome:
    """A day after its copies: what OCI holds now and which version of each file S3 holds."""

    listing: list[OciObject]
    manifest: list[CopiedFile]
    copied: list[CopyResult]
    unchanged: list[CopiedFile]
    skipped: list[SkippedObject]
    # Reports in the folder whose current version is not in S3.
    missing: list[str]

    @property
    def bytes_copied(self) -> int:
        return sum(r.source.size for r in self.copied)

    @property
    def bytes_total(self) -> int:
        return sum(f.size for f in self.manifest)

    @property
    def source_digest(self) -> str:
        return folder_digest(self.listing)

    @property
    def data_version(self) -> str:
        return manifest_digest(self.manifest)


def day_outcome(
    plan: DayPlan,
    listing: Sequence[OciObject],
    results: Sequence[CopyResult],
    s3: S3Layout | None = None,
) -> DayOutcome:
    """Merge the plan, the listing it came from and the copies that landed.

    A file replaced in OCI during the copy landed in its newer version: the day is judged
    against that version, not the listing taken before it changed.
    """
    manifest = {f.name: f for f in plan.unchanged}
    where = (s3.bucket, s3.endpoint) if s3 else (None, None)
    manifest.update({r.source.name: r.copied_file(*where) for r in results})
    current = {o.name: o for o in listing}
    current.update({r.source.name: r.source for r in results})
    skipped = {s.name for s in plan.skipped}
    missing = [
        o.name
        for o in current.values()
        if o.name not in skipped and (o.name not in manifest or manifest[o.name].etag != o.etag)
    ]
    return DayOutcome(
        listing=sorted(current.values(), key=lambda o: o.name),
        manifest=sorted(manifest.values(), key=lambda f: f.name),
        copied=list(results),
        unchanged=list(plan.unchanged),
        skipped=list(plan.skipped),
        missing=sorted(missing),
    )


def failure_text(
    day: str,
    failures: Sequence[CopyFailure],
    planned: int,
    landed: int,
    describe: Callable[[BaseException], str],
) -> str:
    """The failure a person reads for a day whose copies did not all land."""
    lines = [f"{f.plan.source.name}: {describe(f.error)}" for f in failures[:MAX_FAILURES_SHOWN]]
    if len(failures) > MAX_FAILURES_SHOWN:
        lines.append(f"... and {len(failures) - MAX_FAILURES_SHOWN} more")
    return (
        f"{len(failures)} of {planned} reports of {day} failed to copy "
        f"({landed} landed and will not be copied again):\n" + "\n".join(lines)
    )


def landed_lines(landed: Sequence[CopyResult], bucket: str) -> str:
    """One log line per landed file."""
    return "\n".join(
        f"Copied {r.source.name} -> s3://{bucket}/{r.s3_key} "
        f"({r.source.size} bytes, {r.parts} parts, {r.seconds:.2f}s)"
        for r in landed
    )


def progress_line(progress: Progress) -> str:
    return (
        f"Copying: {progress.files_done} of {progress.files_total} files done, "
        f"{progress.bytes_sent:,} bytes sent to S3"
    )
