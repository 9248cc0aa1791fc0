"""AWS behaviours that existing boto3 suites written against AWS rely on (issue 9, items 6, 8, 9, 10):
schema checks on CreateUserPool, Boolean attributes in any case, EstimatedNumberOfUsers, the
verification texts kept in step, unknown attribute names refused, client read/write attributes,
ForgotPassword in an admin-only pool, AdminCreateUser on a taken name, and SetUserPoolMfaConfig's
SMS rule only when MFA is turned on from OFF.
"""

from __future__ import annotations

import pytest

from conftest import ServerProcess, make_client, unique_name

SMS = {"SnsCallerArn": "arn:aws:iam::123456789012:role/sms", "ExternalId": "fidelity"}


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    base = tmp_path_factory.mktemp("fidelity-server")
    s = ServerProcess(base / "data", ["--password-hash", "fast"], log_dir=base).start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def idp(srv):
    return make_client(srv)


def invalid(idp, message_part: str, fn, **kw):
    with pytest.raises(idp.exceptions.InvalidParameterException) as e:
        fn(**kw)
    assert message_part in e.value.response["Error"]["Message"], e.value.response["Error"]
    return e.value.response["Error"]["Message"]


def schema_of(idp, pool: str) -> dict:
    return {a["Name"]: a for a in idp.describe_user_pool(UserPoolId=pool)["UserPool"]["SchemaAttributes"]}


# --- 9. schema checks ------------------------------------------------------------------------


def test_custom_attributes_need_a_type(idp):
    msg = invalid(idp, "AttributeDataType", idp.create_user_pool, PoolName=unique_name(), Schema=[{"Name": "tier"}])
    assert msg == "Invalid AttributeDataType input, consider using the provided AttributeDataType enum."


def test_a_standard_attribute_cannot_be_retyped_or_made_developer_only(idp):
    for bad in ({"Name": "email", "AttributeDataType": "Number"}, {"Name": "email", "DeveloperOnlyAttribute": True}):
        invalid(idp, "standard schema attribute email", idp.create_user_pool, PoolName=unique_name(), Schema=[bad])
    # Refining it is fine.
    pool = idp.create_user_pool(
        PoolName=unique_name(), Schema=[{"Name": "email", "AttributeDataType": "String", "Required": True}]
    )["UserPool"]["Id"]
    assert schema_of(idp, pool)["email"]["Required"] is True


@pytest.mark.parametrize(
    "attr, part",
    [
        ({"Name": "n", "AttributeDataType": "Number", "NumberAttributeConstraints": {"MinValue": "x"}}, "MinValue must be a whole number"),
        ({"Name": "s", "AttributeDataType": "String", "StringAttributeConstraints": {"MaxLength": "2049"}}, "more than 2048"),
        ({"Name": "s", "AttributeDataType": "String", "StringAttributeConstraints": {"MinLength": "9", "MaxLength": "3"}}, "MaxLength cannot be less than MinLength"),
        ({"Name": "n", "AttributeDataType": "Number", "NumberAttributeConstraints": {"MinValue": "9", "MaxValue": "3"}}, "MaxValue cannot be less than MinValue"),
        ({"Name": "s", "AttributeDataType": "String", "NumberAttributeConstraints": {"MinValue": "1"}}, "Number attributes only"),
        ({"Name": "n", "AttributeDataType": "Number", "StringAttributeConstraints": {"MaxLength": "5"}}, "String attributes only"),
        ({"Name": "s", "AttributeDataType": "String", "Required": True}, "Required custom attributes are not supported currently"),
    ],
)
def test_bad_constraints_are_refused_and_nothing_is_stored(idp, attr, part):
    name = unique_name("refused")
    invalid(idp, part, idp.create_user_pool, PoolName=name, Schema=[attr])
    pages = idp.get_paginator("list_user_pools").paginate(MaxResults=60)
    assert all(p["Name"] != name for page in pages for p in page["UserPools"])


def test_developer_only_attributes_are_listed_as_dev_custom(idp):
    pool = idp.create_user_pool(
        PoolName=unique_name(),
        Schema=[
            {"Name": "secret", "AttributeDataType": "String", "DeveloperOnlyAttribute": True},
            {"Name": "plan", "AttributeDataType": "String"},
        ],
    )["UserPool"]["Id"]
    schema = schema_of(idp, pool)
    assert schema["dev:custom:secret"]["DeveloperOnlyAttribute"] is True
    assert schema["custom:plan"]["DeveloperOnlyAttribute"] is False
    assert "custom:secret" not in schema


# --- 8. Boolean attributes in any case --------------------------------------------------------


def test_verified_flags_accept_python_booleans(idp):
    pool = idp.create_user_pool(PoolName=unique_name())["UserPool"]["Id"]
    idp.admin_create_user(
        UserPoolId=pool,
        Username="flags",
        MessageAction="SUPPRESS",
        UserAttributes=[
            {"Name": "email", "Value": "flags@example.com"},
            {"Name": "email_verified", "Value": str(True)},
        ],
    )
    attrs = {a["Name"]: a["Value"] for a in idp.admin_get_user(UserPoolId=pool, Username="flags")["UserAttributes"]}
    assert attrs["email_verified"] == "true"
    idp.admin_update_user_attributes(
        UserPoolId=pool,
        Username="flags",
        UserAttributes=[{"Name": "phone_number", "Value": "+15555550100"}, {"Name": "phone_number_verified", "Value": "False"}],
    )
    attrs = {a["Name"]: a["Value"] for a in idp.admin_get_user(UserPoolId=pool, Username="flags")["UserAttributes"]}
    assert attrs["phone_number_verified"] == "false"
    invalid(
        idp,
        "Value must be either true or false",
        idp.admin_update_user_attributes,
        UserPoolId=pool,
        Username="flags",
        UserAttributes=[{"Name": "email_verified", "Value": "yes"}],
    )


# --- 10. the small ones -----------------------------------------------------------------------


def test_estimated_number_of_users_counts_users(idp):
    pool = idp.create_user_pool(PoolName=unique_name())["UserPool"]["Id"]
    assert idp.describe_user_pool(UserPoolId=pool)["UserPool"]["EstimatedNumberOfUsers"] == 0
    for name in ("a", "b", "c"):
        idp.admin_create_user(UserPoolId=pool, Username=name, MessageAction="SUPPRESS")
    assert idp.describe_user_pool(UserPoolId=pool)["UserPool"]["EstimatedNumberOfUsers"] == 3


def test_verification_texts_stay_in_step_both_ways(idp):
    pool = idp.create_user_pool(
        PoolName=unique_name(), EmailVerificationMessage="Code: {####}", EmailVerificationSubject="Verify"
    )["UserPool"]
    t = pool["VerificationMessageTemplate"]
    assert (t["EmailMessage"], t["EmailSubject"]) == ("Code: {####}", "Verify")
    idp.update_user_pool(
        UserPoolId=pool["Id"], VerificationMessageTemplate={"SmsMessage": "SMS {####}", "DefaultEmailOption": "CONFIRM_WITH_CODE"}
    )
    got = idp.describe_user_pool(UserPoolId=pool["Id"])["UserPool"]
    assert got["SmsVerificationMessage"] == "SMS {####}"
    assert got["VerificationMessageTemplate"]["SmsMessage"] == "SMS {####}"


def test_deleting_an_attribute_outside_the_schema_is_refused(idp):
    pool = idp.create_user_pool(PoolName=unique_name())["UserPool"]["Id"]
    idp.admin_create_user(UserPoolId=pool, Username="del", MessageAction="SUPPRESS")
    msg = invalid(
        idp,
        "could not be determined",
        idp.admin_delete_user_attributes,
        UserPoolId=pool,
        Username="del",
        UserAttributeNames=["custom:nope"],
    )
    assert msg == "Attributes did not conform to the schema: Type for attribute {custom:nope} could not be determined"


def test_client_read_and_write_attributes_must_be_in_the_schema(idp):
    pool = idp.create_user_pool(PoolName=unique_name())["UserPool"]["Id"]
    msg = invalid(idp, "read attributes", idp.create_user_pool_client, UserPoolId=pool, ClientName="c", ReadAttributes=["nope"])
    assert msg == "Invalid read attributes specified while creating a client"
    client = idp.create_user_pool_client(
        UserPoolId=pool, ClientName="c", ReadAttributes=["email", "email_verified"], WriteAttributes=["email"]
    )["UserPoolClient"]["ClientId"]
    msg = invalid(
        idp, "write attributes", idp.update_user_pool_client, UserPoolId=pool, ClientId=client, WriteAttributes=["custom:nope"]
    )
    assert msg == "Invalid write attributes specified while updating a client"


def test_forgot_password_in_an_admin_only_pool(idp):
    pool = idp.create_user_pool(
        PoolName=unique_name(), AccountRecoverySetting={"RecoveryMechanisms": [{"Name": "admin_only", "Priority": 1}]}
    )["UserPool"]["Id"]
    client = idp.create_user_pool_client(UserPoolId=pool, ClientName="c")["UserPoolClient"]["ClientId"]
    idp.admin_create_user(UserPoolId=pool, Username="forgot", MessageAction="SUPPRESS")
    with pytest.raises(idp.exceptions.NotAuthorizedException) as e:
        idp.forgot_password(ClientId=client, Username="forgot")
    assert e.value.response["Error"]["Message"] == "Contact administrator to reset password."


def test_admin_create_user_on_a_taken_name(idp):
    pool = idp.create_user_pool(PoolName=unique_name())["UserPool"]["Id"]
    idp.admin_create_user(UserPoolId=pool, Username="taken", MessageAction="SUPPRESS")
    with pytest.raises(idp.exceptions.UsernameExistsException) as e:
        idp.admin_create_user(UserPoolId=pool, Username="taken", MessageAction="SUPPRESS")
    assert e.value.response["Error"]["Message"] == "User account already exists"


# --- 6. SetUserPoolMfaConfig rule 9 -----------------------------------------------------------


def test_a_pool_created_with_sms_mfa_can_go_totp_only(idp):
    pool = idp.create_user_pool(
        PoolName=unique_name(), MfaConfiguration="OPTIONAL", SmsConfiguration=SMS, AutoVerifiedAttributes=["phone_number"]
    )["UserPool"]["Id"]
    got = idp.set_user_pool_mfa_config(
        UserPoolId=pool, MfaConfiguration="OPTIONAL", SoftwareTokenMfaConfiguration={"Enabled": True}
    )
    assert got["MfaConfiguration"] == "OPTIONAL"
    assert "SmsMfaConfiguration" not in got
    assert got["SoftwareTokenMfaConfiguration"] == {"Enabled": True}


def test_turning_mfa_on_from_off_with_an_sms_configuration_keeps_the_rule(idp):
    pool = idp.create_user_pool(PoolName=unique_name(), SmsConfiguration=SMS, AutoVerifiedAttributes=["phone_number"])[
        "UserPool"
    ]["Id"]
    msg = invalid(
        idp,
        "SMS",
        idp.set_user_pool_mfa_config,
        UserPoolId=pool,
        MfaConfiguration="OPTIONAL",
        SoftwareTokenMfaConfiguration={"Enabled": True},
    )
    assert msg == "Can't turn off SMS_MFA when SMS configuration is set for the user pool"
