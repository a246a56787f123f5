"""The connectivity checks: pure functions, the Dagster job, and the BYOD key's minimal policy.

The S3 side runs twice: against the shared moto server, and against a second moto server that
enforces IAM, with a user holding exactly the policy docs/OCI_SETUP.md prints
(deploy/aws/byod-iam-policy.json). That user must pass the check and copy a day, and must not
be able to list the bucket: the check may not depend on more rights than a BYOD key has.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import dagster as dg
import pytest

from focus_pipeline.defs import build_definitions
from focus_pipeline.emulator.oci_config import make_api_key, make_oci_config
from focus_pipeline.lib.connectivity import CHECK_KEY_PREFIX, check_oci, check_s3, check_settings
from focus_pipeline.lib.oci_source import ApiKey, OciConnection
from focus_pipeline.settings import load_settings
from focus_pipeline_tests.support import NAMESPACE, REGION, ROOT, TENANCY, b64md5, free_port

PREFIX = "FOCUS Reports/"
DAY = "2024-11-28"
FOLDER = "FOCUS Reports/2024/11/28/"
WRONG_TENANCY = "ocid1.tenancy.oc1..aaaaaaaawrongtenancywrongtenancywrongtenancy"
POLICY_FILE = ROOT / "deploy" / "aws" / "byod-iam-policy.json"


def s3_factory(endpoint: str, **keys: str):  # type: ignore[no-untyped-def]
    # A new session each time: boto3's default session caches the credentials it found first.
    return lambda: boto3.session.Session().client(
        "s3", endpoint_url=endpoint, region_name=REGION, **keys
    )


def no_request_ids(text: str) -> str:
    return re.sub(r"\[opc-request-id [^\]]+\]", "[opc-request-id X]", text)


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


def test_oci_check_unreachable_endpoint(oci_config_file) -> None:
    conn = OciConnection(
        config_file=str(oci_config_file), endpoint=f"http://127.0.0.1:{free_port()}"
    )
    result = check_oci(conn, NAMESPACE, TENANCY, PREFIX)
    assert not result.ok
    assert "could not be reached (RequestException)" in result.message
    assert "FOCUS_OCI_ENDPOINT" in result.message


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


def test_s3_check_key_is_under_the_prefix_and_never_a_report_name() -> None:
    from focus_pipeline.lib.connectivity import check_key

    key = check_key("/byod/acct-1/")
    assert (
        key.startswith(f"byod/acct-1/{CHECK_KEY_PREFIX}")
        and len(key) == len(f"byod/acct-1/{CHECK_KEY_PREFIX}") + 32
    )
    assert check_key("").startswith(CHECK_KEY_PREFIX)
    assert check_key("p") != check_key("p")


def test_s3_check_wrong_bucket(s3_endpoint) -> None:
    result = check_s3(s3_factory(s3_endpoint), "no-such-byod-bucket", "byod")
    assert not result.ok
    assert result.message == (
        "S3 bucket 'no-such-byod-bucket': CreateMultipartUpload answered 404 NoSuchBucket: "
        "check FOCUS_S3_BUCKET and FOCUS_S3_REGION."
    )


def test_s3_check_connection_refused_fails_fast() -> None:
    started = time.monotonic()
    from focus_pipeline.defs.jobs import CHECK_S3_CONFIG
    from focus_pipeline.defs.resources import ByodS3Resource

    s3 = ByodS3Resource(
        bucket="byod", endpoint_url=f"http://127.0.0.1:{free_port()}", region_name=REGION
    )
    result = check_s3(lambda: s3.get_client(CHECK_S3_CONFIG), "byod", "acct")
    assert not result.ok
    assert result.message.startswith(
        "S3 bucket 'byod' could not be reached (EndpointConnectionError): check "
        "FOCUS_S3_ENDPOINT_URL"
    )
    assert time.monotonic() - started < 10


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


def test_settings_check_names_each_bad_variable(monkeypatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)  # no .env
    monkeypatch.delenv("FOCUS_S3_BUCKET", raising=False)
    monkeypatch.setenv("FOCUS_OCI_BUCKET", "not-an-ocid")
    settings, results = check_settings()
    assert settings is None
    lines = [r.line for r in results]
    assert any(
        ln.startswith("FAIL settings: FOCUS_OCI_BUCKET: must be your tenancy OCID") for ln in lines
    )
    assert "FAIL settings: FOCUS_S3_BUCKET: is required: Destination bucket." in lines
    assert not any("not-an-ocid" in ln for ln in lines)


def test_connectivity_module_never_imports_dagster() -> None:
    code = (
        "import sys, focus_pipeline.lib.connectivity; "
        "assert 'dagster' not in sys.modules, 'dagster imported'"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr


# --- the Dagster job -------------------------------------------------------------------------


def run_job(instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
    defs = build_definitions(load_settings())
    job = defs.resolve_job_def("check_connectivity")
    return job.execute_in_process(instance=instance, raise_on_error=False)


def test_job_passes_with_the_definitions_resources(focus_env, oci_emulator, s3_client) -> None:
    oci_emulator.put_object(TENANCY, FOLDER + "0001000002103533-00001.csv.gz", b"abc")
    with dg.instance_for_test() as instance:
        result = run_job(instance)
    assert result.success
    out = result.output_for_node("check_oci_and_s3")
    assert [(r["name"], r["ok"]) for r in out] == [("oci", True), ("s3", True)]
    assert "1 objects, first 'FOCUS Reports/2024/11/28/" in out[0]["message"]
    assert s3_client.list_objects_v2(Bucket=focus_env["FOCUS_S3_BUCKET"])["KeyCount"] == 0


def test_job_and_cli_report_the_same_failures(monkeypatch, focus_env, tmp_path) -> None:
    monkeypatch.setenv("FOCUS_OCI_BUCKET", WRONG_TENANCY)
    monkeypatch.setenv("FOCUS_S3_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    with dg.instance_for_test() as instance:
        result = run_job(instance)
    assert not result.success
    failure = result.failure_data_for_node("check_oci_and_s3")
    job_lines = failure.user_failure_data.description.splitlines()
    assert [ln.split(":")[0] for ln in job_lines] == ["FAIL oci", "FAIL s3"]
    assert "404 BucketNotFound" in job_lines[0]
    assert "EndpointConnectionError" in job_lines[1]

    cli = Path(sys.executable).parent / "focus-pipeline"
    out = subprocess.run(
        [str(cli), "check"], env=dict(os.environ), cwd=tmp_path, capture_output=True, text=True
    )
    assert out.returncode == 1, out.stdout + out.stderr
    cli_fail = [ln for ln in out.stdout.splitlines() if ln.startswith("FAIL")]
    assert [no_request_ids(ln) for ln in cli_fail] == [no_request_ids(ln) for ln in job_lines]


# --- the BYOD key's minimal IAM policy, enforced ----------------------------------------------


IAM_BUCKET = "byod-iam"
IAM_PATH = "byod/acct-1"


def _policy(actions: list[str] | None = None) -> str:
    doc = json.loads(
        POLICY_FILE.read_text()
        .replace("YOUR-BYOD-BUCKET", IAM_BUCKET)
        .replace("YOUR/BYOD/PATH", IAM_PATH)
    )
    if actions is not None:
        doc["Statement"] = [{**doc["Statement"][0], "Action": actions}]
    return json.dumps(doc)


@pytest.fixture(scope="module")
def iam_s3() -> Iterator[dict[str, object]]:
    """A moto server enforcing IAM, with users 'byod' (the documented policy), 'putonly'
    (s3:PutObject alone) and 'reader' (everything, to verify what landed)."""
    port = free_port()
    # Setup requests are free (1 bucket + 3 users x 3 calls); every later one is authorised.
    env = {**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": "10"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        admin = {"aws_access_key_id": "setup", "aws_secret_access_key": "setup"}
        boto3.client("s3", endpoint_url=endpoint, region_name=REGION, **admin).create_bucket(
            Bucket=IAM_BUCKET
        )
        iam = boto3.client("iam", endpoint_url=endpoint, region_name=REGION, **admin)
        keys = {}
        everything = json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
            }
        )
        for user, policy in (
            ("byod", _policy()),
            ("putonly", _policy(["s3:PutObject"])),
            ("reader", everything),
        ):
            iam.create_user(UserName=user)
            iam.put_user_policy(UserName=user, PolicyName="p", PolicyDocument=policy)
            key = iam.create_access_key(UserName=user)["AccessKey"]
            keys[user] = {
                "aws_access_key_id": key["AccessKeyId"],
                "aws_secret_access_key": key["SecretAccessKey"],
            }
        yield {"endpoint": endpoint, "keys": keys}
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_minimal_policy_passes_the_check_and_cannot_list(iam_s3) -> None:
    byod = s3_factory(iam_s3["endpoint"], **iam_s3["keys"]["byod"])
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
        s3_factory(iam_s3["endpoint"], **iam_s3["keys"]["putonly"]), IAM_BUCKET, IAM_PATH
    )
    assert not result.ok
    assert "AbortMultipartUpload answered 403 AccessDenied" in result.message
    assert "grant s3:AbortMultipartUpload on the prefix" in result.message
    left = re.search(r"key '([^']+)', upload id '([^']+)'", result.message)
    assert left is not None and left[1].startswith(f"{IAM_PATH}/{CHECK_KEY_PREFIX}")
    reader = s3_factory(iam_s3["endpoint"], **iam_s3["keys"]["reader"])()
    uploads = reader.list_multipart_uploads(Bucket=IAM_BUCKET).get("Uploads", [])
    assert (left[1], left[2]) in {(u["Key"], u["UploadId"]) for u in uploads}
    reader.abort_multipart_upload(Bucket=IAM_BUCKET, Key=left[1], UploadId=left[2])


def test_minimal_policy_is_enough_to_copy_a_day(
    monkeypatch, focus_env, oci_emulator, iam_s3
) -> None:
    files = {
        "0001000002103533-00001.csv.gz": os.urandom(30_000),
        "0001000002103533-00002.csv.gz": os.urandom(6 * 2**20),  # multipart (5 MiB parts)
    }
    for name, data in files.items():
        oci_emulator.put_object(TENANCY, FOLDER + name, data)
    keys = iam_s3["keys"]["byod"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", keys["aws_access_key_id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", keys["aws_secret_access_key"])
    monkeypatch.setenv("FOCUS_S3_ENDPOINT_URL", iam_s3["endpoint"])
    monkeypatch.setenv("FOCUS_S3_BUCKET", IAM_BUCKET)
    monkeypatch.setenv("FOCUS_S3_PREFIX", IAM_PATH)
    defs = build_definitions(load_settings())
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [defs.get_assets_def("byod_focus_reports")],
            partition_key=DAY,
            instance=instance,
            resources=dict(defs.resources),
            raise_on_error=False,
        )
    assert result.success
    reader = s3_factory(iam_s3["endpoint"], **iam_s3["keys"]["reader"])()
    landed = {
        f"{IAM_PATH}/{DAY}_{name}": b64md5(
            reader.get_object(Bucket=IAM_BUCKET, Key=f"{IAM_PATH}/{DAY}_{name}")["Body"].read()
        )
        for name in files
    }
    assert landed == {f"{IAM_PATH}/{DAY}_{n}": b64md5(d) for n, d in files.items()}
