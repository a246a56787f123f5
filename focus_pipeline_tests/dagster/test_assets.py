"""The copy asset through Dagster: what lands, what is skipped, what is recorded."""

import os
from typing import Any

import dagster as dg
import pytest

from focus_pipeline.defs import build_definitions
from focus_pipeline.defs.metadata import manifest_files
from focus_pipeline.defs.resources import ByodS3Resource
from focus_pipeline.settings import load_settings
from focus_pipeline_tests.support import TENANCY, b64md5, open_uploads, s3_contents
from oci_emulator import OciEmulator

DAY = "2024-11-28"
FOLDER = "FOCUS Reports/2024/11/28/"
S3_WRITES = {"PutObject", "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload"}


class CountingS3Resource(ByodS3Resource):
    """The real resource, counting the S3 operations its client sends."""

    def get_client(self) -> Any:
        client = super().get_client()
        client.meta.events.register("before-call.s3.*", _count)
        return client


CALLS: list[str] = []


def _count(model: Any, **_: Any) -> None:
    CALLS.append(model.name)


@pytest.fixture
def defs(focus_env: dict[str, str]) -> dg.Definitions:
    return build_definitions(load_settings())


def materialize(defs: dg.Definitions, instance: dg.DagsterInstance, day: str = DAY, **config):
    CALLS.clear()
    resources = dict(defs.resources)
    resources["s3"] = CountingS3Resource(
        bucket=os.environ["FOCUS_S3_BUCKET"],
        prefix=os.environ["FOCUS_S3_PREFIX"],
        region_name=os.environ["FOCUS_S3_REGION"],
        endpoint_url=os.environ["FOCUS_S3_ENDPOINT_URL"],
    )
    return dg.materialize(
        [defs.get_assets_def("byod_focus_reports")],
        partition_key=day,
        instance=instance,
        resources=resources,
        run_config={"ops": {"byod_focus_reports": {"config": config}}} if config else None,
        raise_on_error=False,
    )


def seed(emu: OciEmulator, names: dict[str, bytes]) -> None:
    for name, data in names.items():
        emu.put_object(TENANCY, FOLDER + name, data)


def metadata(result: dg.ExecuteInProcessResult) -> dict[str, Any]:
    mats = result.asset_materializations_for_node("byod_focus_reports")
    return {k: getattr(v, "value", v) for k, v in mats[-1].metadata.items()}


def test_day_is_copied_then_skipped_then_only_the_changed_file_recopied(
    defs, oci_emulator, s3_client, s3_bucket
) -> None:
    files = {
        "0001000002103533-00001.csv.gz": os.urandom(2000),
        "0001000002103533-00002.csv.gz": os.urandom(7 * 2**20),
        "0001000002103533-00003.csv.gz": b"",
    }
    seed(oci_emulator, files)
    oci_emulator.put_object(TENANCY, "FOCUS Reports/2024/11/29/other-day.csv.gz", b"x")
    expected = {f"byod/acct-1/{DAY}_{n}": b64md5(d) for n, d in files.items()}

    with dg.instance_for_test() as instance:
        first = materialize(defs, instance)
        assert first.success
        assert s3_contents(s3_client, s3_bucket) == expected
        meta = metadata(first)
        assert meta["files_copied"] == 3 and meta["files_unchanged"] == 0
        manifest = manifest_files(meta["manifest"])
        assert {f.s3_key for f in manifest} == set(expected)
        assert {f.md5 for f in manifest} == set(expected.values())

        oci_emulator.clear_requests()
        second = materialize(defs, instance)
        assert second.success
        assert oci_emulator.count(op="GetObject") == 0
        assert not S3_WRITES & set(CALLS)
        assert metadata(second)["files_copied"] == 0
        assert metadata(second)["files_unchanged"] == 3

        changed = os.urandom(3000)
        seed(oci_emulator, {"0001000002103533-00001.csv.gz": changed})
        oci_emulator.clear_requests()
        third = materialize(defs, instance)
        assert third.success
        gets = [r.object_name for r in oci_emulator.requests if r.op == "GetObject"]
        assert gets == [FOLDER + "0001000002103533-00001.csv.gz"]
        assert CALLS.count("PutObject") == 1
        expected[f"byod/acct-1/{DAY}_0001000002103533-00001.csv.gz"] = b64md5(changed)
        assert s3_contents(s3_client, s3_bucket) == expected

        forced = materialize(defs, instance, force=True)
        assert metadata(forced)["files_copied"] == 3


def test_unexpected_objects_are_skipped_with_a_warning_and_listed(
    defs, oci_emulator, s3_client, s3_bucket
) -> None:
    seed(oci_emulator, {"good.csv.gz": b"ok", "nested/x.csv.gz": b"no", "bad name.csv.gz": b"no"})
    with dg.instance_for_test() as instance:
        result = materialize(defs, instance)
        assert result.success
        meta = metadata(result)
        assert {s["name"] for s in meta["skipped_objects"]} == {
            FOLDER + "nested/x.csv.gz",
            FOLDER + "bad name.csv.gz",
        }
        assert s3_contents(s3_client, s3_bucket) == {
            f"byod/acct-1/{DAY}_good.csv.gz": b64md5(b"ok")
        }
        checks = {c.check_name: c.passed for c in result.get_asset_check_evaluations()}
        # b"ok" is not a gzip report either: reports_are_focus says so, the copy goes on.
        assert checks == {
            "all_reports_copied": True,
            "no_unexpected_objects": False,
            "reports_are_focus": False,
            "day_up_to_date": True,
        }
        logs = instance.all_logs(result.run_id)
        assert any("Skipped 'FOCUS Reports/2024/11/28/nested/x.csv.gz'" in e.message for e in logs)


def test_empty_day_succeeds_with_a_note(defs, oci_emulator) -> None:
    with dg.instance_for_test() as instance:
        result = materialize(defs, instance)
        assert result.success
        meta = metadata(result)
        assert meta["files_total"] == 0 and "no reports" in meta["note"]


def test_failed_files_fail_the_run_but_landed_files_are_not_copied_again(
    defs, oci_emulator, s3_client, s3_bucket
) -> None:
    from oci_emulator import Fault

    seed(oci_emulator, {f"f{i}.csv.gz": os.urandom(100 + i) for i in range(10)})
    oci_emulator.faults.add(Fault(op="GetObject", name_pattern=r"f[789]\.csv\.gz$", status=400))
    with dg.instance_for_test() as instance:
        first = materialize(defs, instance)
        assert not first.success
        assert len(s3_contents(s3_client, s3_bucket)) == 7
        failure = [e for e in first.all_events if e.is_step_failure][0]
        assert "3 of 10 reports of 2024-11-28 failed" in failure.step_failure_data.error.message

        oci_emulator.faults.clear()
        oci_emulator.clear_requests()
        second = materialize(defs, instance)
        assert second.success
        assert oci_emulator.count(op="GetObject") == 3
        assert metadata(second)["files_copied"] == 3
        assert metadata(second)["files_total"] == 10
        assert len(s3_contents(s3_client, s3_bucket)) == 10
        assert open_uploads(s3_client, s3_bucket) == []


def test_missing_bucket_fails_with_the_policy_hint(focus_env, monkeypatch) -> None:
    other = "ocid1.tenancy.oc1..aaaaaaaabbbbbbbbccccccccddddddddeeeeeeeeffffffffgggggggg"
    monkeypatch.setenv("FOCUS_OCI_BUCKET", other)
    defs = build_definitions(load_settings())
    with dg.instance_for_test() as instance:
        result = materialize(defs, instance)
    assert not result.success
    failure = [e for e in result.all_events if e.is_step_failure][0]
    message = failure.step_failure_data.error.message
    assert "404 BucketNotFound" in message
    assert "endorse group <group> to read objects in tenancy usage-report" in message


def test_a_day_of_many_small_reports_is_checkpointed_in_batches(
    defs, oci_emulator, s3_client, s3_bucket
) -> None:
    """One event-log write per landed file bounded a day of small reports (docs/benchmarks.md,
    (c)); each file must still be recorded exactly once, with what landed."""
    files = {f"0001000002103533-{i:05d}.csv.gz": os.urandom(500 + i) for i in range(40)}
    seed(oci_emulator, files)

    with dg.instance_for_test() as instance:
        result = materialize(defs, instance)
        assert result.success
        checkpoints = [
            e.asset_observation_data.asset_observation
            for e in result.get_asset_observation_events()
        ]
        recorded = [f for obs in checkpoints for f in obs.metadata["files"].value]

    assert sorted(f["object_name"] for f in recorded) == sorted(FOLDER + n for n in files)
    assert {f["s3_key"]: f["md5"] for f in recorded} == {
        f"byod/acct-1/{DAY}_{n}": b64md5(d) for n, d in files.items()
    }
    assert 1 <= len(checkpoints) < len(files)
    assert all(
        obs.metadata["files_landed"].value == len(obs.metadata["files"].value)
        for obs in checkpoints
    )


def test_api_key_given_by_value_in_the_environment_copies_a_day(
    focus_env, monkeypatch, oci_emulator, s3_client, s3_bucket
) -> None:
    """FOCUS_OCI_AUTH=api_key (Dagster+ Serverless, no key file): the emulator checks every
    signature against the registered public key, and the key only ever travels as an EnvVar."""
    from oci_emulator import make_api_key

    user = "ocid1.user.oc1..aaaaaaaaapikeyassettestuser4m2q7wv3s2vkx4n6bq2pl3xj7o4fk"
    key = make_api_key(pass_phrase="phrase-of-the-key")
    oci_emulator.register_api_key(f"{TENANCY}/{user}/{key.fingerprint}", key.public_pem)
    monkeypatch.delenv("FOCUS_OCI_CONFIG_FILE")
    for var, value in {
        "FOCUS_OCI_AUTH": "api_key",
        "FOCUS_OCI_USER": user,
        "FOCUS_OCI_FINGERPRINT": key.fingerprint,
        "FOCUS_OCI_REGION": "us-ashburn-1",
        # As a secret store that flattens line breaks gives it.
        "FOCUS_OCI_PRIVATE_KEY": key.private_pem.replace("\n", "\\n"),
        "FOCUS_OCI_PRIVATE_KEY_PASSPHRASE": "phrase-of-the-key",
    }.items():
        monkeypatch.setenv(var, value)
    files = {"0001000002103533-00001.csv.gz": os.urandom(3000)}
    seed(oci_emulator, files)

    defs = build_definitions(load_settings())
    oci = defs.resources["oci"]
    assert oci.private_key == dg.EnvVar("FOCUS_OCI_PRIVATE_KEY")
    assert oci.private_key_passphrase == dg.EnvVar("FOCUS_OCI_PRIVATE_KEY_PASSPHRASE")
    with dg.instance_for_test() as instance:
        result = materialize(defs, instance)

    assert result.success
    assert s3_contents(s3_client, s3_bucket) == {
        f"byod/acct-1/{DAY}_{n}": b64md5(d) for n, d in files.items()
    }
    assert oci_emulator.count(op="GetObject", status=200) == 1
