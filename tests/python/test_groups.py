"""User pool groups and custom attributes through boto3: CreateGroup / GetGroup / UpdateGroup /
DeleteGroup / ListGroups, the membership operations, the group claims of tokens verified
against the pool's JWKS (after USER_PASSWORD_AUTH and after REFRESH_TOKEN_AUTH), and
AddCustomAttributes. Errors are checked for their type and AWS's message.
"""

from __future__ import annotations

import jwt
import pytest
from botocore.exceptions import ClientError

from conftest import ServerProcess, make_client, unique_name

PASSWORD = "Correct-Horse-9"
GROUP_NOT_FOUND = "Group not found."
ROLE_ADMIN = "arn:aws:iam::123456789012:role/admin"
ROLE_STAFF = "arn:aws:iam::123456789012:role/staff"


@pytest.fixture(scope="module")
def groups_server(tmp_path_factory):
    """Own server with `--password-hash fast`: this module signs in several times."""
    base = tmp_path_factory.mktemp("groups-server")
    srv = ServerProcess(base / "data", ["--password-hash", "fast"], log_dir=base).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def idp(groups_server):
    return make_client(groups_server)


@pytest.fixture
def pool(idp):
    pool_id = idp.create_user_pool(PoolName=unique_name("groups"))["UserPool"]["Id"]
    client_id = idp.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="app",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    return {"id": pool_id, "client": client_id}


def make_user(idp, pool_id: str, name: str) -> None:
    idp.admin_create_user(UserPoolId=pool_id, Username=name, MessageAction="SUPPRESS")
    idp.admin_set_user_password(UserPoolId=pool_id, Username=name, Password=PASSWORD, Permanent=True)


def error_of(excinfo) -> tuple[int, str, str]:
    e = excinfo.value.response
    return e["ResponseMetadata"]["HTTPStatusCode"], e["Error"]["Code"], e["Error"]["Message"]


def verified(groups_server, pool_id: str, token: str, **kw) -> dict:
    """The claims of a token whose RS256 signature checks out against the pool's JWKS."""
    jwks = jwt.PyJWKClient(f"{groups_server.url}/{pool_id}/.well-known/jwks.json")
    key = jwks.get_signing_key_from_jwt(token).key
    return jwt.decode(token, key, algorithms=["RS256"], issuer=f"{groups_server.url}/{pool_id}", **kw)


def test_group_lifecycle_and_errors(idp, pool):
    p = pool["id"]
    g = idp.create_group(UserPoolId=p, GroupName="admins", Description="d", RoleArn=ROLE_ADMIN, Precedence=2)["Group"]
    assert (g["GroupName"], g["UserPoolId"], g["Description"], g["RoleArn"], g["Precedence"]) == (
        "admins", p, "d", ROLE_ADMIN, 2)
    assert g["CreationDate"] == g["LastModifiedDate"]

    with pytest.raises(ClientError) as e:
        idp.create_group(UserPoolId=p, GroupName="admins")
    status, code, message = error_of(e)
    assert (status, code) == (400, "GroupExistsException")
    assert "admins" in message

    assert idp.get_group(UserPoolId=p, GroupName="admins")["Group"] == g

    updated = idp.update_group(UserPoolId=p, GroupName="admins", Description="new")["Group"]
    assert updated["Description"] == "new"
    assert (updated["RoleArn"], updated["Precedence"]) == (ROLE_ADMIN, 2), "omitted members are kept"
    assert updated["LastModifiedDate"] >= g["LastModifiedDate"]

    idp.delete_group(UserPoolId=p, GroupName="admins")
    for call in (
        lambda: idp.get_group(UserPoolId=p, GroupName="admins"),
        lambda: idp.delete_group(UserPoolId=p, GroupName="admins"),
        lambda: idp.update_group(UserPoolId=p, GroupName="admins", Precedence=1),
        lambda: idp.list_users_in_group(UserPoolId=p, GroupName="admins"),
    ):
        with pytest.raises(ClientError) as e:
            call()
        assert error_of(e) == (400, "ResourceNotFoundException", GROUP_NOT_FOUND)

    with pytest.raises(ClientError) as e:
        idp.create_group(UserPoolId="us-east-1_NoSuchPool", GroupName="g")
    assert error_of(e) == (400, "ResourceNotFoundException", "User pool us-east-1_NoSuchPool does not exist.")


def test_bad_input_is_a_400_validation_error(idp, pool):
    with pytest.raises(ClientError) as e:
        idp.create_group(UserPoolId=pool["id"], GroupName="has space")
    status, code, message = error_of(e)
    assert (status, code) == (400, "InvalidParameterException")
    assert message.startswith("1 validation error detected: Value 'has space' at 'groupName'"), message
    with pytest.raises(ClientError) as e:
        idp.list_groups(UserPoolId=pool["id"], Limit=61)
    assert error_of(e)[:2] == (400, "InvalidParameterException")
    assert idp.list_groups(UserPoolId=pool["id"])["Groups"] == []


def test_list_groups_pages(idp, pool):
    names = [f"g{i:02d}" for i in range(7)]
    for n in reversed(names):
        idp.create_group(UserPoolId=pool["id"], GroupName=n)
    seen, token, pages = [], None, 0
    while True:
        kw = {"NextToken": token} if token else {}
        page = idp.list_groups(UserPoolId=pool["id"], Limit=3, **kw)
        assert len(page["Groups"]) <= 3
        seen += [g["GroupName"] for g in page["Groups"]]
        pages += 1
        token = page.get("NextToken")
        if not token:
            break
    assert seen == names
    assert pages == 3
    # The paginator boto3 ships follows the same tokens.
    listed = [g["GroupName"] for pg in idp.get_paginator("list_groups").paginate(
        UserPoolId=pool["id"], PaginationConfig={"PageSize": 2}) for g in pg["Groups"]]
    assert listed == names


def test_memberships(idp, pool):
    p = pool["id"]
    for u in ("ann", "bob", "cat"):
        make_user(idp, p, u)
    for g in ("admins", "staff"):
        idp.create_group(UserPoolId=p, GroupName=g)
    for u in ("ann", "bob", "cat"):
        idp.admin_add_user_to_group(UserPoolId=p, Username=u, GroupName="staff")
    idp.admin_add_user_to_group(UserPoolId=p, Username="ann", GroupName="admins")

    page = idp.list_users_in_group(UserPoolId=p, GroupName="staff", Limit=2)
    assert [u["Username"] for u in page["Users"]] == ["ann", "bob"]
    rest = idp.list_users_in_group(UserPoolId=p, GroupName="staff", Limit=2, NextToken=page["NextToken"])
    assert [u["Username"] for u in rest["Users"]] == ["cat"]
    assert "NextToken" not in rest
    assert rest["Users"][0]["UserStatus"] == "CONFIRMED"

    groups = idp.admin_list_groups_for_user(UserPoolId=p, Username="ann", Limit=1)
    assert [g["GroupName"] for g in groups["Groups"]] == ["admins"]
    more = idp.admin_list_groups_for_user(UserPoolId=p, Username="ann", Limit=1, NextToken=groups["NextToken"])
    assert [g["GroupName"] for g in more["Groups"]] == ["staff"]
    assert "NextToken" not in more

    with pytest.raises(ClientError) as e:
        idp.admin_add_user_to_group(UserPoolId=p, Username="nobody", GroupName="staff")
    assert error_of(e) == (400, "UserNotFoundException", "User does not exist.")
    with pytest.raises(ClientError) as e:
        idp.admin_add_user_to_group(UserPoolId=p, Username="ann", GroupName="nobody")
    assert error_of(e) == (400, "ResourceNotFoundException", GROUP_NOT_FOUND)

    idp.admin_remove_user_from_group(UserPoolId=p, Username="bob", GroupName="staff")
    assert [u["Username"] for u in idp.list_users_in_group(UserPoolId=p, GroupName="staff")["Users"]] == ["ann", "cat"]

    # A deleted user leaves its groups; a deleted group leaves its members.
    idp.admin_delete_user(UserPoolId=p, Username="cat")
    assert [u["Username"] for u in idp.list_users_in_group(UserPoolId=p, GroupName="staff")["Users"]] == ["ann"]
    idp.delete_group(UserPoolId=p, GroupName="staff")
    assert [g["GroupName"] for g in idp.admin_list_groups_for_user(UserPoolId=p, Username="ann")["Groups"]] == ["admins"]


def test_tokens_carry_groups_and_a_refresh_follows_membership(groups_server, idp, pool):
    p, client = pool["id"], pool["client"]
    make_user(idp, p, "ann")
    idp.create_group(UserPoolId=p, GroupName="admins", RoleArn=ROLE_ADMIN, Precedence=1)
    idp.create_group(UserPoolId=p, GroupName="staff", RoleArn=ROLE_STAFF)  # no precedence: ranks last
    idp.admin_add_user_to_group(UserPoolId=p, Username="ann", GroupName="staff")

    result = idp.initiate_auth(ClientId=client, AuthFlow="USER_PASSWORD_AUTH",
                               AuthParameters={"USERNAME": "ann", "PASSWORD": PASSWORD})["AuthenticationResult"]
    id_claims = verified(groups_server, p, result["IdToken"], audience=client)
    access = verified(groups_server, p, result["AccessToken"])
    assert id_claims["cognito:groups"] == ["staff"]
    assert id_claims["cognito:roles"] == [ROLE_STAFF]
    assert id_claims["cognito:preferred_role"] == ROLE_STAFF
    assert access["cognito:groups"] == ["staff"]
    assert "cognito:preferred_role" not in access

    idp.admin_add_user_to_group(UserPoolId=p, Username="ann", GroupName="admins")
    refreshed = idp.initiate_auth(ClientId=client, AuthFlow="REFRESH_TOKEN_AUTH",
                                  AuthParameters={"REFRESH_TOKEN": result["RefreshToken"]})["AuthenticationResult"]
    id_claims = verified(groups_server, p, refreshed["IdToken"], audience=client)
    assert id_claims["cognito:groups"] == ["admins", "staff"]
    assert sorted(id_claims["cognito:roles"]) == sorted([ROLE_ADMIN, ROLE_STAFF])
    assert id_claims["cognito:preferred_role"] == ROLE_ADMIN, "a precedence beats none"
    assert verified(groups_server, p, refreshed["AccessToken"])["cognito:groups"] == ["admins", "staff"]

    idp.admin_remove_user_from_group(UserPoolId=p, Username="ann", GroupName="admins")
    idp.admin_remove_user_from_group(UserPoolId=p, Username="ann", GroupName="staff")
    refreshed = idp.initiate_auth(ClientId=client, AuthFlow="REFRESH_TOKEN_AUTH",
                                  AuthParameters={"REFRESH_TOKEN": result["RefreshToken"]})["AuthenticationResult"]
    id_claims = verified(groups_server, p, refreshed["IdToken"], audience=client)
    for claim in ("cognito:groups", "cognito:roles", "cognito:preferred_role"):
        assert claim not in id_claims


def test_add_custom_attributes(groups_server, idp, pool):
    p = pool["id"]
    idp.add_custom_attributes(UserPoolId=p, CustomAttributes=[
        {"Name": "plan", "AttributeDataType": "String", "StringAttributeConstraints": {"MinLength": "1", "MaxLength": "16"}},
        {"Name": "seats", "AttributeDataType": "Number", "Mutable": False},
    ])
    schema = {a["Name"]: a for a in idp.describe_user_pool(UserPoolId=p)["UserPool"]["SchemaAttributes"]}
    assert schema["custom:plan"]["StringAttributeConstraints"] == {"MinLength": "1", "MaxLength": "16"}
    assert schema["custom:plan"]["Mutable"] is True
    assert (schema["custom:seats"]["AttributeDataType"], schema["custom:seats"]["Mutable"]) == ("Number", False)

    make_user(idp, p, "ann")
    idp.admin_update_user_attributes(UserPoolId=p, Username="ann", UserAttributes=[{"Name": "custom:plan", "Value": "pro"}])
    attrs = {a["Name"]: a["Value"] for a in idp.admin_get_user(UserPoolId=p, Username="ann")["UserAttributes"]}
    assert attrs["custom:plan"] == "pro"
    with pytest.raises(ClientError) as e:
        idp.admin_update_user_attributes(UserPoolId=p, Username="ann",
                                         UserAttributes=[{"Name": "custom:plan", "Value": "x" * 17}])
    assert error_of(e)[1] == "InvalidParameterException"

    with pytest.raises(ClientError) as e:
        idp.add_custom_attributes(UserPoolId=p, CustomAttributes=[{"Name": "plan", "AttributeDataType": "String"}])
    assert error_of(e) == (400, "InvalidParameterException", "Existing attribute already has name custom:plan.")
    with pytest.raises(ClientError) as e:
        idp.add_custom_attributes(UserPoolId=p, CustomAttributes=[{"Name": "a" * 21}])
    status, code, message = error_of(e)
    assert (status, code) == (400, "InvalidParameterException")
    assert "customAttributes.1.member.name" in message, message
