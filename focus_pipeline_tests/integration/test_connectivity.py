"""The connectivity checks against the servers, and the BYOD key's minimal policy.

The S3 side runs twice: against the shared moto server, and against a second moto server that
enforces IAM, with a user holding exactly the policy docs/OCI_SETUP.md prints
(deploy/aws/byod-iam-policy.json). That user must pass the check, and must not be able to
list the bucket: the check may not depend on more rights than a BYOD key has. (That it copies
a day: dagster/test_iam.py; the IAM-enforcing server: support/iam.py.)

What the checks say without a server: unit/test_connectivity.py; the Dagster job:
dagster/test_connectivity.py; the job and `focus-pipeline check` side by side:
e2e/test_connectivity.py.
"""

from __future__ import annotations

import re
import subprocess
import sys

import boto3
import pytest

from focus_pipeline.lib.connectivity import CHECK_KEY_PREFIX, check_oci, check_s3
from focus_pipeline.lib.oci_source import ApiKey, OciConnection
from focus_pipeline_tests.support import NAMESPACE, REGION, TENANCY
from focus_pipeline_tests.support.iam import BUCKET as IAM_BUCKET
from focus_pipeline_tests.support.iam import PREFIX as IAM_PATH
from oci_emulator import make_api_key, make_oci_config

PREFIX = "FOCUS Reports/"
FOLDER = "FOCUS Reports/2024/11/28/"
WRONG_TENANCY = "ocid1.tenancy.oc1..aaaaaaaawrongtenancywrongtenancywrongtenancy"


def s3_factory(endpoint: str, **keys: str):  # type: ignore[no-untyped-def]
    # A new session each time: boto3's default session caches the credentials it found first.
    return lambda: boto3.session.Session().client(
        "s3", endpoint_url=endpoint, region_name=REGION, **keys
    )


# --- OCI -------------------------------------------------------------------------------------


def test_oci_check_lists_one_short_page(oci_emulator, oci_config_file) -> None:
    for i in range(1, 8):
        oci_emulator.put_object(TENANCY, f"{FOLDER}0001000002103533-0000{i}.csv.gz", b"x" * i)
    conn = OciConnection(config_file=str(oci_config_file), endpoint=oci_emulator.endpoint)

    result = check_oci(conn, NAMESPACE, TENANCY, PREFIX)

    assert result.ok, result.line
    assert "5 or more objects" in result.message
    assert f"first '{FOLDER}0001000002103533-00001.csv.gz'" in result.message
    lists = [r for r in oci_emulator.requests if r.op == "ListObjects"]
    assert len(lists) == 1 and oci_emulator.count(op="GetObject") == 0
    assert lists[0].query["limit"] == "5" and lists[0].query["prefix"] == PREFIX


def test_oci_check_on_an_empty_prefix_passes_and_says_so(oci_emulator, oci_config_file) -> None:
    conn = OciConnection(config_file=str(oci_config_file), endpoint=oci_emulator.endpoint)
    result = check_oci(conn, NAMESPACE, TENANCY, PREFIX)
    assert result.ok
    assert "no reports yet" in result.message and "FOCUS_OCI_PREFIX" in result.message


def test_oci_check_wrong_bucket_names_the_cross_tenancy_policy(
    oci_emulator, oci_config_file
) -> None:
    conn = OciConnection(config_file=str(oci_config_file), endpoint=oci_emulator.endpoint)
    result = check_oci(conn, NAMESPACE, WRONG_TENANCY, PREFIX)
    assert not result.ok
    assert result.line.startswith("FAIL oci: OCI Object Storage (namespace 'bling', bucket ")
    assert "answered 404 BucketNotFound" in result.message
    assert "FOCUS_OCI_BUCKET" in result.message
    assert (
        "define tenancy usage-report as "
        "ocid1.tenancy.oc1..aaaaaaaaned4fkpkisbwjlr56u7cj63lf3wffbilvqknstgtvzub7vhqkggq"
    ) in result.message
    assert "endorse group <group> to read objects in tenancy usage-report" in result.message


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"config_file": "/nonexistent/oci/config"}, "set FOCUS_OCI_CONFIG_FILE"),
        ({"profile": "NOPE"}, "set FOCUS_OCI_PROFILE to a [section] of FOCUS_OCI_CONFIG_FILE"),
        ({"auth": "security_token"}, "run 'oci session authenticate'"),
    ],
)
def test_oci_credential_problems_are_named_before_any_request(
    change, expected, oci_emulator, oci_config_file
) -> None:
    kwargs = {"config_file": str(oci_config_file), "endpoint": oci_emulator.endpoint, **change}
    result = check_oci(OciConnection(**kwargs), NAMESPACE, TENANCY, PREFIX)
    assert not result.ok
    assert expected in result.message
    assert oci_emulator.count() == 0


def test_oci_key_file_that_cannot_be_loaded(tmp_path, oci_config_file, oci_emulator) -> None:
    broken = tmp_path / "config"
    text = oci_config_file.read_text()
    broken.write_text(re.sub(r"key_file=.*", f"key_file={tmp_path / 'missing.pem'}", text))
    result = check_oci(
        OciConnection(config_file=str(broken), endpoint=oci_emulator.endpoint),
        NAMESPACE,
        TENANCY,
        PREFIX,
    )
    assert not result.ok
    assert "cannot be loaded (InvalidKeyFilePath): fix key_file" in result.message


@pytest.mark.parametrize(
    ("secret", "detail"),
    [
        (
            # Escaped line breaks, as a secret store may give them.
            "-----BEGIN PRIVATE KEY-----\\nc2VjcmV0LWJ1dC1ub3QtYS1rZXk=\\n"
            "-----END PRIVATE KEY-----",
            "(InvalidPrivateKey)",
        ),
        ("c2VjcmV0LWJ1dC1ub3QtYS1rZXk=", "(is not a PEM private key (-----BEGIN"),
    ],
)
def test_oci_api_key_that_cannot_be_used_is_named_and_never_echoed(
    secret, detail, oci_emulator
) -> None:
    conn = OciConnection(
        auth="api_key",
        region="us-ashburn-1",
        endpoint=oci_emulator.endpoint,
        api_key=ApiKey(
            TENANCY,
            "ocid1.user.oc1..aaaaaaaaconnectivityuser4m2q7wv3s2vkx4n6bq2pl3xj7o4fk5",
            "12:34:56:78:9a:bc:de:f0:12:34:56:78:9a:bc:de:f0",
            private_key=secret,
        ),
    )
    result = check_oci(conn, NAMESPACE, TENANCY, PREFIX)
    assert not result.ok
    assert result.message.startswith(
        f"FOCUS_OCI_AUTH=api_key: the key given by value cannot be used {detail}"
    )
    assert "check FOCUS_OCI_USER, FOCUS_OCI_FINGERPRINT" in result.message
    assert "c2VjcmV0" not in result.message
    assert oci_emulator.count() == 0


def test_oci_encrypted_key_file_without_its_pass_phrase(tmp_path, oci_emulator) -> None:
    config, _ = make_oci_config(tmp_path, key=make_api_key("a-pass-phrase"))
    result = check_oci(
        OciConnection(config_file=str(config), endpoint=oci_emulator.endpoint),
        NAMESPACE,
        TENANCY,
        PREFIX,
    )
    assert not result.ok
    assert result.message.startswith("The OCI API signing key is encrypted: add pass_phrase")


# --- S3 --------------------------------------------------------------------------------------


def test_s3_check_starts_and_aborts_an_upload_and_leaves_nothing(
    s3_endpoint, s3_client, s3_bucket
) -> None:
    calls: list[str] = []

    def factory():  # type: ignore[no-untyped-def]
        client = s3_factory(s3_endpoint)()
        client.meta.events.register("before-call.s3.*", lambda model, **_: calls.append(model.name))
        return client

    result = check_s3(factory, s3_bucket, "byod/acct-1")

    assert result.ok, result.line
    assert "under 'byod/acct-1/'" in result.message
    assert calls == ["CreateMultipartUpload", "AbortMultipartUpload"]
    assert s3_client.list_objects_v2(Bucket=s3_bucket).get("KeyCount") == 0
    assert s3_client.list_multipart_uploads(Bucket=s3_bucket).get("Uploads", []) == []


def test_s3_check_wrong_bucket(s3_endpoint) -> None:
    result = check_s3(s3_factory(s3_endpoint), "no-such-byod-bucket", "byod")
    assert not result.ok
    assert result.message == (
        "S3 bucket 'no-such-byod-bucket': CreateMultipartUpload answered 404 NoSuchBucket: "
        "check FOCUS_S3_BUCKET and FOCUS_S3_REGION."
    )


def test_s3_check_without_credentials(monkeypatch, s3_endpoint, tmp_path) -> None:
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    # No shared files and no instance metadata lookup: nothing on this machine may answer.
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    result = check_s3(s3_factory(s3_endpoint), "byod", "acct")
    assert not result.ok
    assert "no complete AWS credentials were found (NoCredentialsError)" in result.message
    assert "AWS_ACCESS_KEY_ID" in result.message


def test_connectivity_module_never_imports_dagster() -> None:
    code = (
        "import sys, focus_pipeline.lib.connectivity; "
        "assert 'dagster' not in sys.modules, 'dagster imported'"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr


# --- the BYOD key's minimal IAM policy, enforced ----------------------------------------------


def test_minimal_policy_passes_the_check_and_cannot_list(iam_s3) -> None:
    byod = s3_factory(iam_s3.endpoint, **iam_s3.credentials("pipeline"))
    result = check_s3(byod, IAM_BUCKET, IAM_PATH)
    assert result.ok, result.line
    with pytest.raises(Exception, match="AccessDenied"):
        byod().list_objects_v2(Bucket=IAM_BUCKET)
    with pytest.raises(Exception, match="AccessDenied"):
        byod().get_object(Bucket=IAM_BUCKET, Key=f"{IAM_PATH}/anything")
    outside = check_s3(byod, IAM_BUCKET, "another-account")
    assert not outside.ok
    assert "CreateMultipartUpload answered 403 AccessDenied" in outside.message


def test_a_key_without_abort_fails_and_says_what_it_left(iam_s3) -> None:
    result = check_s3(
        s3_factory(iam_s3.endpoint, **iam_s3.credentials("putonly")), IAM_BUCKET, IAM_PATH
    )
    assert not result.ok
    assert "AbortMultipartUpload answered 403 AccessDenied" in result.message
    assert "grant s3:AbortMultipartUpload on the prefix" in result.message
    left = re.search(r"key '([^']+)', upload id '([^']+)'", result.message)
    assert left is not None and left[1].startswith(f"{IAM_PATH}/{CHECK_KEY_PREFIX}")
    reader = iam_s3.client("admin")
    uploads = reader.list_multipart_uploads(Bucket=IAM_BUCKET).get("Uploads", [])
    assert (left[1], left[2]) in {(u["Key"], u["UploadId"]) for u in uploads}
    reader.abort_multipart_upload(Bucket=IAM_BUCKET, Key=left[1], UploadId=left[2])
