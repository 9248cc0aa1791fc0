"""The unchanged AWS CLI (awscli v1, with its own vendored botocore) against the server."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import make_client, write_credentials_file
from helpers import unique_name


def run_aws(srv, args: list[str], tmp_path, key=("AKIAIOSFODNN7EXAMPLE", "dummy-secret"), region="us-east-1"):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID=key[0],
        AWS_SECRET_ACCESS_KEY=key[1],
        AWS_DEFAULT_REGION=region,
        AWS_CONFIG_FILE=str(tmp_path / "no-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "no-credentials"),
        AWS_PAGER="",
        AWS_MAX_ATTEMPTS="1",
    )
    cmd = [sys.executable, "-m", "awscli", "cognito-idp", *args, "--endpoint-url", srv.url, "--output", "json"]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)


def ok_json(proc) -> dict:
    assert proc.returncode == 0, f"aws exited {proc.returncode}\nstdout: {proc.stdout}\nstderr: {proc.stderr}"
    return json.loads(proc.stdout) if proc.stdout.strip() else {}


def test_cli_set_and_get_mfa_config(server, tmp_path):
    pool_id = make_client(server).create_user_pool(PoolName=unique_name("cli"))["UserPool"]["Id"]
    expected = {
        "MfaConfiguration": "ON",
        "SoftwareTokenMfaConfiguration": {"Enabled": True},
        "WebAuthnConfiguration": {"FactorConfiguration": "SINGLE_FACTOR"},
    }
    out = ok_json(
        run_aws(
            server,
            [
                "set-user-pool-mfa-config",
                "--user-pool-id",
                pool_id,
                "--mfa-configuration",
                "ON",
                "--software-token-mfa-configuration",
                "Enabled=true",
            ],
            tmp_path,
        )
    )
    assert out == expected
    assert ok_json(run_aws(server, ["get-user-pool-mfa-config", "--user-pool-id", pool_id], tmp_path)) == expected


def test_cli_fresh_pool_and_describe(server, tmp_path):
    created = ok_json(run_aws(server, ["create-user-pool", "--pool-name", unique_name("cli-create")], tmp_path))
    pool_id = created["UserPool"]["Id"]
    assert pool_id.startswith("us-east-1_")
    assert ok_json(run_aws(server, ["get-user-pool-mfa-config", "--user-pool-id", pool_id], tmp_path)) == {
        "MfaConfiguration": "OFF"
    }
    described = ok_json(run_aws(server, ["describe-user-pool", "--user-pool-id", pool_id], tmp_path))
    assert described["UserPool"]["Id"] == pool_id
    assert described["UserPool"]["MfaConfiguration"] == "OFF"
    listed = ok_json(run_aws(server, ["list-user-pools", "--max-results", "60"], tmp_path))
    assert pool_id in {p["Id"] for p in listed["UserPools"]}


def test_cli_full_json_input(server, tmp_path):
    pool_id = make_client(server).create_user_pool(
        PoolName=unique_name("cli-json"),
        EmailConfiguration={
            "EmailSendingAccount": "DEVELOPER",
            "SourceArn": "arn:aws:ses:us-east-1:123456789012:identity/no-reply@example.com",
        },
        AccountRecoverySetting={"RecoveryMechanisms": [{"Priority": 1, "Name": "verified_phone_number"}]},
    )["UserPool"]["Id"]
    req = {
        "UserPoolId": pool_id,
        "MfaConfiguration": "OPTIONAL",
        "SoftwareTokenMfaConfiguration": {"Enabled": True},
        "EmailMfaConfiguration": {"Message": "Code: {####}", "Subject": "Your code"},
        "WebAuthnConfiguration": {"RelyingPartyId": "auth.example.com", "UserVerification": "required"},
    }
    out = ok_json(run_aws(server, ["set-user-pool-mfa-config", "--cli-input-json", json.dumps(req)], tmp_path))
    assert out == {
        "MfaConfiguration": "OPTIONAL",
        "SoftwareTokenMfaConfiguration": {"Enabled": True},
        "EmailMfaConfiguration": {"Message": "Code: {####}", "Subject": "Your code"},
        "WebAuthnConfiguration": {
            "RelyingPartyId": "auth.example.com",
            "UserVerification": "required",
            "FactorConfiguration": "SINGLE_FACTOR",
        },
    }


def test_cli_error_output(server, tmp_path):
    pool_id = "us-east-1_NoSuchPoolCli"
    proc = run_aws(server, ["get-user-pool-mfa-config", "--user-pool-id", pool_id], tmp_path)
    assert proc.returncode in (254, 255), (proc.returncode, proc.stdout, proc.stderr)
    assert "(ResourceNotFoundException)" in proc.stderr, proc.stderr
    assert f"User pool {pool_id} does not exist." in proc.stderr, proc.stderr

    pool = make_client(server).create_user_pool(PoolName=unique_name("cli-err"))["UserPool"]["Id"]
    proc = run_aws(
        server,
        ["set-user-pool-mfa-config", "--user-pool-id", pool, "--mfa-configuration", "OFF", "--software-token-mfa-configuration", "Enabled=true"],
        tmp_path,
    )
    assert proc.returncode in (254, 255), (proc.returncode, proc.stdout, proc.stderr)
    assert "(InvalidParameterException)" in proc.stderr
    assert "Invalid MFA configuration given, can't turn off MFA and configure an MFA together." in proc.stderr


def test_cli_region_from_signing_scope(server, tmp_path):
    created = ok_json(run_aws(server, ["create-user-pool", "--pool-name", unique_name("cli-eu")], tmp_path, region="eu-central-1"))
    assert created["UserPool"]["Id"].startswith("eu-central-1_")


def test_cli_against_sigv4_server(server_factory, tmp_path):
    key = ("AKIDCLITEST000000001", "cliSecretValue00000000000000000000000000")
    creds = write_credentials_file(tmp_path / "server-creds", {"default": key})
    srv = server_factory(args=["--auth", "sigv4", "--credentials-file", str(creds)])
    created = ok_json(run_aws(srv, ["create-user-pool", "--pool-name", unique_name("cli-sig")], tmp_path, key=key))
    pool_id = created["UserPool"]["Id"]
    out = ok_json(
        run_aws(
            srv,
            ["set-user-pool-mfa-config", "--user-pool-id", pool_id, "--mfa-configuration", "ON", "--software-token-mfa-configuration", "Enabled=true"],
            tmp_path,
            key=key,
        )
    )
    assert out["MfaConfiguration"] == "ON"
    bad = run_aws(srv, ["get-user-pool-mfa-config", "--user-pool-id", pool_id], tmp_path, key=(key[0], "wrong"))
    assert bad.returncode in (254, 255), bad.stderr
    assert "InvalidSignatureException" in bad.stderr, bad.stderr
