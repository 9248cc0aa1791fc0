"""`--throttle aws` on the real binary, from boto3: a burst above a category's rate (here the
5-per-second per-pool limit of GetUserPoolMfaConfig) is refused with TooManyRequestsException
`Rate exceeded`; boto3's standard retry mode rides it out; the TOML file's `[throttle_rates]`
changes a rate, and an unknown category stops the server at start-up.
"""

from __future__ import annotations

import subprocess

import boto3
import botocore.config
import botocore.exceptions

from conftest import DUMMY_KEY, DUMMY_SECRET, binary_path, make_client


def retrying_client(srv, attempts: int):
    return boto3.session.Session().client(
        "cognito-idp", endpoint_url=srv.url, region_name="us-east-1",
        aws_access_key_id=DUMMY_KEY, aws_secret_access_key=DUMMY_SECRET,
        config=botocore.config.Config(retries={"mode": "standard", "total_max_attempts": attempts}),
    )


def burst(idp, pool_id: str, n: int) -> list[str]:
    outcomes = []
    for _ in range(n):
        try:
            idp.get_user_pool_mfa_config(UserPoolId=pool_id)
            outcomes.append("ok")
        except botocore.exceptions.ClientError as e:
            assert e.response["Error"]["Message"] == "Rate exceeded", e.response
            assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 400
            outcomes.append(e.response["Error"]["Code"])
    return outcomes


def test_a_burst_is_throttled_and_standard_retries_ride_it_out(server_factory):
    srv = server_factory(args=["--throttle", "aws"])
    no_retries = make_client(srv)
    pool_id = no_retries.create_user_pool(PoolName="throttled")["UserPool"]["Id"]
    outcomes = burst(no_retries, pool_id, 12)
    assert outcomes.count("ok") <= 6 and "TooManyRequestsException" in outcomes, outcomes
    retrying = retrying_client(srv, 8)
    assert burst(retrying, pool_id, 8) == ["ok"] * 8


def test_rates_come_from_the_config_file(server_factory, tmp_path):
    cfg = tmp_path / "rates.toml"
    cfg.write_text("[throttle_rates]\nPerPool = 1000\nUserPoolResourceRead = 1000\n")
    srv = server_factory(args=["--throttle", "aws", "--config", str(cfg)])
    idp = make_client(srv)
    pool_id = idp.create_user_pool(PoolName="roomy")["UserPool"]["Id"]
    assert burst(idp, pool_id, 30) == ["ok"] * 30

    bad = tmp_path / "bad.toml"
    bad.write_text("[throttle_rates]\nUserReed = 5\n")
    run = subprocess.run(
        [str(binary_path()), "serve", "--throttle", "aws", "--config", str(bad), "--data-dir", str(tmp_path / "d")],
        capture_output=True, text=True, timeout=20,
    )
    assert run.returncode != 0 and "unknown throttle category UserReed" in run.stderr, run.stderr
