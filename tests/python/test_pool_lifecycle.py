"""CreateUserPool / DescribeUserPool / UpdateUserPool / DeleteUserPool / ListUserPools."""

from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest
from botocore.exceptions import ClientError

from conftest import assert_aws_error, make_client, raw_call
from helpers import (
    PAT_POOL_NAME,
    SMS_CONFIG,
    create_pool,
    missing_pool_message,
    one_error,
    unique_name,
    v_enum,
    v_max_len,
    v_max_value,
    v_min_value,
    v_pattern,
)

POOL_ID_RE = r"^{region}_[0-9a-zA-Z]+$"
UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def test_create_returns_a_complete_pool(cognito):
    name = unique_name("create")
    before = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=5)
    resp = cognito.create_user_pool(PoolName=name)
    pool = resp["UserPool"]
    assert re.match(POOL_ID_RE.format(region="us-east-1"), pool["Id"]), pool["Id"]
    assert len(pool["Id"]) <= 55
    assert pool["Name"] == name
    assert re.match(r"^arn:aws:cognito-idp:us-east-1:\d{12}:userpool/" + re.escape(pool["Id"]) + "$", pool["Arn"]), pool["Arn"]
    assert isinstance(pool["CreationDate"], dt.datetime)
    assert isinstance(pool["LastModifiedDate"], dt.datetime)
    after = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=5)
    assert before <= pool["CreationDate"] <= after
    assert pool["MfaConfiguration"] == "OFF"
    assert pool["UserPoolTier"] == "ESSENTIALS"
    assert pool.get("DeletionProtection", "INACTIVE") == "INACTIVE"
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert UUID_RE.match(resp["ResponseMetadata"]["RequestId"]), resp["ResponseMetadata"]["RequestId"]


def test_pool_ids_are_unique(cognito):
    ids = {create_pool(cognito, PoolName="same-name") for _ in range(5)}
    assert len(ids) == 5


def test_describe_matches_create(cognito):
    created = cognito.create_user_pool(PoolName=unique_name("desc"), SmsConfiguration=dict(SMS_CONFIG))["UserPool"]
    described = cognito.describe_user_pool(UserPoolId=created["Id"])["UserPool"]
    for key in ("Id", "Name", "Arn", "CreationDate", "MfaConfiguration", "UserPoolTier", "SmsConfiguration"):
        assert described.get(key) == created.get(key), key


@pytest.mark.parametrize("tier", ["LITE", "ESSENTIALS", "PLUS"])
def test_tier_at_create(cognito, tier):
    pool_id = create_pool(cognito, UserPoolTier=tier)
    assert cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"]["UserPoolTier"] == tier


def test_tier_defaults_to_essentials(cognito):
    pool_id = create_pool(cognito)
    assert cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"]["UserPoolTier"] == "ESSENTIALS"


def test_create_raw_response_shape(server):
    resp = raw_call(server, "CreateUserPool", {"PoolName": unique_name("raw")})
    assert resp.status == 200, resp.describe()
    assert resp.header("content-type").startswith("application/x-amz-json-1.1"), resp.describe()
    assert UUID_RE.match(resp.header("x-amzn-RequestId") or ""), resp.describe()
    body = resp.json()
    assert set(body) == {"UserPool"}
    pool = body["UserPool"]
    assert isinstance(pool["CreationDate"], (int, float)), "timestamps are epoch seconds as JSON numbers"
    assert isinstance(pool["LastModifiedDate"], (int, float))
    assert not any(v is None for v in pool.values()), f"null members should be omitted: {pool}"


@pytest.mark.parametrize("region", ["eu-west-1", "ap-southeast-2"])
def test_region_comes_from_the_signing_scope(server, region):
    c = make_client(server, region=region)
    pool = c.create_user_pool(PoolName=unique_name("region"))["UserPool"]
    assert re.match(POOL_ID_RE.format(region=re.escape(region)), pool["Id"]), pool["Id"]
    assert pool["Arn"].startswith(f"arn:aws:cognito-idp:{region}:"), pool["Arn"]
    assert c.describe_user_pool(UserPoolId=pool["Id"])["UserPool"]["Id"] == pool["Id"]
    c.set_user_pool_mfa_config(UserPoolId=pool["Id"], MfaConfiguration="ON", SoftwareTokenMfaConfiguration={"Enabled": True})
    assert c.get_user_pool_mfa_config(UserPoolId=pool["Id"])["MfaConfiguration"] == "ON"


def test_unsigned_request_uses_default_region(server):
    resp = raw_call(server, "CreateUserPool", {"PoolName": unique_name("unsigned")})
    assert resp.status == 200, resp.describe()
    assert resp.json()["UserPool"]["Id"].startswith("us-east-1_")


# ------------------------------------------------------------------------------------
# Update
# ------------------------------------------------------------------------------------


def test_update_changes_fields_and_returns_empty(server, cognito):
    created = cognito.create_user_pool(PoolName=unique_name("upd"))["UserPool"]
    pool_id = created["Id"]
    resp = raw_call(server, "UpdateUserPool", {"UserPoolId": pool_id, "UserPoolTier": "PLUS", "DeletionProtection": "INACTIVE"})
    assert resp.status == 200, resp.describe()
    assert resp.json() == {}
    pool = cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"]
    assert pool["UserPoolTier"] == "PLUS"
    assert pool["CreationDate"] == created["CreationDate"]
    assert pool["LastModifiedDate"] >= created["LastModifiedDate"]
    assert pool["Name"] == created["Name"]


def test_update_tier_both_directions(cognito):
    pool_id = create_pool(cognito, UserPoolTier="LITE")
    for tier in ("PLUS", "ESSENTIALS", "LITE"):
        cognito.update_user_pool(UserPoolId=pool_id, UserPoolTier=tier)
        assert cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"]["UserPoolTier"] == tier


def test_update_pool_name(cognito):
    pool_id = create_pool(cognito)
    new = unique_name("renamed")
    cognito.update_user_pool(UserPoolId=pool_id, PoolName=new)
    assert cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"]["Name"] == new


def test_update_unknown_pool(cognito):
    pool_id = "us-east-1_NoSuchPoolU"
    with pytest.raises(cognito.exceptions.ResourceNotFoundException) as ei:
        cognito.update_user_pool(UserPoolId=pool_id, UserPoolTier="PLUS")
    assert ei.value.response["Error"]["Message"] == missing_pool_message(pool_id)


def test_update_bad_tier_enum(cognito):
    pool_id = create_pool(cognito)
    with pytest.raises(cognito.exceptions.InvalidParameterException) as ei:
        cognito.update_user_pool(UserPoolId=pool_id, UserPoolTier="GOLD")
    assert ei.value.response["Error"]["Message"] == one_error(v_enum("GOLD", "userPoolTier", ["LITE", "ESSENTIALS", "PLUS"]))


# ------------------------------------------------------------------------------------
# Delete and deletion protection
# ------------------------------------------------------------------------------------


def test_delete_then_gone(server, cognito):
    pool_id = create_pool(cognito)
    resp = raw_call(server, "DeleteUserPool", {"UserPoolId": pool_id})
    assert resp.status == 200, resp.describe()
    assert resp.json() == {}
    for call in (
        lambda: cognito.describe_user_pool(UserPoolId=pool_id),
        lambda: cognito.delete_user_pool(UserPoolId=pool_id),
        lambda: cognito.get_user_pool_mfa_config(UserPoolId=pool_id),
        lambda: cognito.update_user_pool(UserPoolId=pool_id),
    ):
        with pytest.raises(cognito.exceptions.ResourceNotFoundException) as ei:
            call()
        assert ei.value.response["Error"]["Message"] == missing_pool_message(pool_id)


def test_describe_unknown_pool(cognito):
    pool_id = "eu-west-1_Missing99"
    with pytest.raises(cognito.exceptions.ResourceNotFoundException) as ei:
        cognito.describe_user_pool(UserPoolId=pool_id)
    assert ei.value.response["Error"]["Message"] == missing_pool_message(pool_id)


def test_deletion_protection(cognito):
    pool = cognito.create_user_pool(PoolName=unique_name("protected"), DeletionProtection="ACTIVE")["UserPool"]
    assert pool["DeletionProtection"] == "ACTIVE"
    with pytest.raises(cognito.exceptions.InvalidParameterException):
        cognito.delete_user_pool(UserPoolId=pool["Id"])
    assert cognito.describe_user_pool(UserPoolId=pool["Id"])["UserPool"]["DeletionProtection"] == "ACTIVE"
    cognito.update_user_pool(UserPoolId=pool["Id"], DeletionProtection="INACTIVE")
    cognito.delete_user_pool(UserPoolId=pool["Id"])
    with pytest.raises(cognito.exceptions.ResourceNotFoundException):
        cognito.describe_user_pool(UserPoolId=pool["Id"])


def test_deletion_protection_turned_on_by_update(cognito):
    pool_id = create_pool(cognito)
    cognito.update_user_pool(UserPoolId=pool_id, DeletionProtection="ACTIVE")
    with pytest.raises(cognito.exceptions.InvalidParameterException):
        cognito.delete_user_pool(UserPoolId=pool_id)
    cognito.describe_user_pool(UserPoolId=pool_id)


# ------------------------------------------------------------------------------------
# Create validation
# ------------------------------------------------------------------------------------


def test_create_pool_name_pattern(cognito):
    with pytest.raises(cognito.exceptions.InvalidParameterException) as ei:
        cognito.create_user_pool(PoolName="bad/name")
    assert ei.value.response["Error"]["Message"] == one_error(v_pattern("bad/name", "poolName", PAT_POOL_NAME))


def test_create_pool_name_too_long(cognito):
    name = "n" * 129
    with pytest.raises(cognito.exceptions.InvalidParameterException) as ei:
        cognito.create_user_pool(PoolName=name)
    assert ei.value.response["Error"]["Message"] == one_error(v_max_len(name, "poolName", 128))


def test_create_pool_name_with_allowed_punctuation(cognito):
    name = "My pool+=,.@-_ 1"
    pool = cognito.create_user_pool(PoolName=name)["UserPool"]
    assert pool["Name"] == name


def test_create_bad_deletion_protection(cognito):
    with pytest.raises(cognito.exceptions.InvalidParameterException) as ei:
        cognito.create_user_pool(PoolName=unique_name(), DeletionProtection="MAYBE")
    assert ei.value.response["Error"]["Message"] == one_error(v_enum("MAYBE", "deletionProtection", ["ACTIVE", "INACTIVE"]))


# ------------------------------------------------------------------------------------
# List + pagination (own server so the set of pools is known exactly)
# ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def list_server(tmp_path_factory):
    from conftest import ServerProcess

    base = tmp_path_factory.mktemp("list-server")
    srv = ServerProcess(base / "data", log_dir=base).start()
    yield srv
    srv.stop()


def test_list_user_pools_pagination(list_server):
    c = make_client(list_server)
    assert c.list_user_pools(MaxResults=60)["UserPools"] == []
    created = {}
    for i in range(7):
        p = c.create_user_pool(PoolName=f"list-{i}")["UserPool"]
        created[p["Id"]] = p
    # Everything in one page, no NextToken.
    page = c.list_user_pools(MaxResults=60)
    assert "NextToken" not in page
    assert {p["Id"] for p in page["UserPools"]} == set(created)
    for p in page["UserPools"]:
        assert p["Name"] == created[p["Id"]]["Name"]
        assert isinstance(p["CreationDate"], dt.datetime)
        assert isinstance(p["LastModifiedDate"], dt.datetime)
    # Pages of 3: 3, 3, 1.
    seen, sizes, token = [], [], None
    for _ in range(10):
        kw = {"MaxResults": 3}
        if token:
            kw["NextToken"] = token
        page = c.list_user_pools(**kw)
        sizes.append(len(page["UserPools"]))
        seen.extend(p["Id"] for p in page["UserPools"])
        token = page.get("NextToken")
        if not token:
            break
    assert sizes == [3, 3, 1], sizes
    assert len(seen) == len(set(seen)) == 7
    assert set(seen) == set(created)
    # Exact page size: 7 pools, MaxResults 7 -> at most one trailing empty page.
    page = c.list_user_pools(MaxResults=7)
    assert len(page["UserPools"]) == 7
    if "NextToken" in page:
        assert c.list_user_pools(MaxResults=7, NextToken=page["NextToken"])["UserPools"] == []
    # The boto3 paginator walks the same set.
    ids = [
        p["Id"]
        for pg in c.get_paginator("list_user_pools").paginate(PaginationConfig={"PageSize": 2})
        for p in pg["UserPools"]
    ]
    assert sorted(ids) == sorted(created)
    # Deleted pools disappear from the list.
    gone = next(iter(created))
    c.delete_user_pool(UserPoolId=gone)
    page = c.list_user_pools(MaxResults=60)
    assert {p["Id"] for p in page["UserPools"]} == set(created) - {gone}


def test_list_max_results_bounds(list_server):
    c = make_client(list_server)
    with pytest.raises(c.exceptions.InvalidParameterException) as ei:
        c.list_user_pools(MaxResults=61)
    assert ei.value.response["Error"]["Message"] == one_error(v_max_value(61, "maxResults", 60))
    resp = raw_call(list_server, "ListUserPools", {"MaxResults": 0})
    assert_aws_error(resp, "InvalidParameterException", one_error(v_min_value(0, "maxResults", 1)))


def test_list_bogus_next_token(list_server):
    c = make_client(list_server)
    with pytest.raises(ClientError) as ei:
        c.list_user_pools(MaxResults=5, NextToken="bogus-" + uuid.uuid4().hex)
    err = ei.value.response
    assert err["ResponseMetadata"]["HTTPStatusCode"] < 500, err
    assert err["Error"]["Code"] == "InvalidParameterException", err


# ------------------------------------------------------------------------------------
# UpdateUserPool semantics (reference §2.2)
# ------------------------------------------------------------------------------------


def test_update_resets_omitted_top_level_members(cognito):
    """UpdateUserPool resets most members the caller omits, e.g. AutoVerifiedAttributes."""
    pool_id = create_pool(cognito, AutoVerifiedAttributes=["email"])
    assert cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"]["AutoVerifiedAttributes"] == ["email"]
    cognito.update_user_pool(UserPoolId=pool_id, DeletionProtection="INACTIVE")
    assert not cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"].get("AutoVerifiedAttributes")


def test_update_preserves_omitted_policies_sub_keys(cognito):
    """Nested Policies sub-keys the caller omits are preserved (SignInPolicy left as it was)."""
    pool_id = create_pool(
        cognito,
        Policies={
            "PasswordPolicy": {"MinimumLength": 12},
            "SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD", "WEB_AUTHN"]},
        },
    )
    cognito.update_user_pool(UserPoolId=pool_id, Policies={"PasswordPolicy": {"MinimumLength": 10}})
    policies = cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"]["Policies"]
    assert policies["PasswordPolicy"]["MinimumLength"] == 10
    assert policies["SignInPolicy"]["AllowedFirstAuthFactors"] == ["PASSWORD", "WEB_AUTHN"]
