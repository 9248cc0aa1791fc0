"""Fault injection and reset through boto3: the standard retry mode rides out an injected
`TooManyRequestsException` burst (and a 500), a longer burst reaches the caller after the
mode's three attempts, a dropped connection is a connection error, and moto server's
`/moto-api/reset` wipes the server as moto's does.
"""

from __future__ import annotations

import boto3
import botocore.config
import pytest
import requests
from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError

from conftest import DUMMY_KEY, DUMMY_SECRET, ServerProcess, unique_name


@pytest.fixture
def srv(server_factory) -> ServerProcess:
    """A server of its own: fault rules apply to every call the server gets."""
    return server_factory()


def standard_client(srv: ServerProcess, total_max_attempts: int | None = None):
    """boto3 as an application would configure it: standard retry mode, with its default of
    3 attempts in all unless `total_max_attempts` says otherwise."""
    retries = {"mode": "standard"}
    if total_max_attempts is not None:
        retries["total_max_attempts"] = total_max_attempts
    return boto3.session.Session().client(
        "cognito-idp",
        endpoint_url=srv.url,
        region_name="us-east-1",
        aws_access_key_id=DUMMY_KEY,
        aws_secret_access_key=DUMMY_SECRET,
        config=botocore.config.Config(retries=retries, connect_timeout=5, read_timeout=30),
    )


def add_rule(srv: ServerProcess, **rule) -> dict:
    r = requests.post(f"{srv.url}/_cognito-mfa/faults", json=rule, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def rules(srv: ServerProcess) -> list[dict]:
    r = requests.get(f"{srv.url}/_cognito-mfa/faults", timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["rules"]


def test_standard_retry_mode_rides_out_a_throttling_burst(srv):
    idp = standard_client(srv)
    pool = idp.create_user_pool(PoolName=unique_name("burst"))["UserPool"]["Id"]
    add_rule(srv, operation="DescribeUserPool", error="TooManyRequestsException", count=2)

    resp = idp.describe_user_pool(UserPoolId=pool)

    assert resp["UserPool"]["Id"] == pool
    assert resp["ResponseMetadata"]["RetryAttempts"] == 2
    assert rules(srv) == [], "both refusals were spent on the one call"


def test_a_burst_longer_than_the_attempts_reaches_the_caller(srv):
    idp = standard_client(srv)
    add_rule(srv, operation="ListUserPools", error="TooManyRequestsException", count=3)

    with pytest.raises(ClientError) as e:
        idp.list_user_pools(MaxResults=10)

    err = e.value.response
    assert err["Error"]["Code"] == "TooManyRequestsException"
    assert err["Error"]["Message"] == "Rate exceeded"
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert err["ResponseMetadata"]["RetryAttempts"] == 2
    # The next call, past the burst, succeeds at once.
    assert idp.list_user_pools(MaxResults=10)["ResponseMetadata"]["RetryAttempts"] == 0


def test_an_injected_internal_error_is_a_500_that_standard_mode_retries(srv):
    idp = standard_client(srv)
    add_rule(srv, operation="ListUserPools", error="InternalErrorException", count=1)
    resp = idp.list_user_pools(MaxResults=10)
    assert resp["ResponseMetadata"]["RetryAttempts"] == 1

    add_rule(srv, operation="ListUserPools", error="InternalErrorException", count=1)
    with pytest.raises(ClientError) as e:
        standard_client(srv, total_max_attempts=1).list_user_pools(MaxResults=10)
    assert e.value.response["Error"]["Code"] == "InternalErrorException"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500


def test_a_dropped_connection_is_a_connection_error(srv):
    add_rule(srv, operation="ListUserPools", drop=True, count=1)
    with pytest.raises((ConnectionClosedError, EndpointConnectionError)):
        standard_client(srv, total_max_attempts=1).list_user_pools(MaxResults=10)
    # Standard mode retries a dropped connection.
    add_rule(srv, operation="ListUserPools", drop=True, count=1)
    resp = standard_client(srv).list_user_pools(MaxResults=10)
    assert resp["ResponseMetadata"]["RetryAttempts"] == 1


def test_moto_api_reset_wipes_the_server(srv):
    idp = standard_client(srv)
    for i in range(3):
        idp.create_user_pool(PoolName=unique_name(f"moto-{i}"))
    assert len(idp.list_user_pools(MaxResults=10)["UserPools"]) == 3

    r = requests.post(f"{srv.url}/moto-api/reset", timeout=10)

    assert r.status_code == 200
    assert r.json() == {"status": "ok"}
    assert idp.list_user_pools(MaxResults=10)["UserPools"] == []
