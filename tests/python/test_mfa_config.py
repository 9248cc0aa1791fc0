"""SetUserPoolMfaConfig / GetUserPoolMfaConfig contract (behaviour reference §2.1–2.6, §7.2).

Every valid combination round-trips: the Set response body equals the following Get body
(compared as raw JSON), both equal the body the contract requires, and DescribeUserPool's
MfaConfiguration / SmsConfiguration / SmsAuthenticationMessage agree with it.
Every invalid combination asserts the modelled exception class and its exact message.
"""

from __future__ import annotations

import threading

import pytest

from conftest import assert_aws_error, make_client, raw_call
from helpers import (
    EMAIL_COGNITO_DEFAULT,
    EMAIL_DEVELOPER,
    EMAIL_MSG,
    EMAIL_SUBJECT,
    MSG_CANT_TURN_OFF_SMS,
    MSG_CONCURRENT,
    MSG_CREATE_MFA_NEEDS_SMS,
    MSG_EMAIL_COGNITO_DEFAULT,
    MSG_EMAIL_RECOVERY,
    MSG_NO_FACTOR,
    MSG_OFF_WITH_FACTOR,
    MSG_PASSWORDLESS_WITH_MFA_ON,
    MSG_UPDATE_OFF_TO_ON,
    MSG_WEBAUTHN_SINGLE_FACTOR,
    PAT_EMAIL_MESSAGE,
    PAT_EMAIL_SUBJECT,
    PAT_OPTIONAL_ARN,
    PAT_SMS_MESSAGE,
    PAT_USER_POOL_ID,
    RECOVERY_ADMIN_ONLY,
    RECOVERY_EMAIL_AND_PHONE,
    RECOVERY_EMAIL_ONLY,
    RECOVERY_PHONE,
    SMS_CONFIG,
    SMS_CONFIG_2,
    SMS_MSG,
    create_pool,
    email_pool,
    expected_body,
    missing_pool_message,
    one_error,
    plain_pool,
    sms_pool,
    v_enum,
    v_max_len,
    v_min_len,
    v_null,
    v_pattern,
)

FACTOR_BLOCKS = ("SmsMfaConfiguration", "SoftwareTokenMfaConfiguration", "EmailMfaConfiguration")


# --------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------


def get_raw(cognito, raw_bodies, pool_id: str) -> dict:
    cognito.get_user_pool_mfa_config(UserPoolId=pool_id)
    return raw_bodies.latest("GetUserPoolMfaConfig")


def assert_describe_agrees(cognito, pool_id: str, get_body: dict) -> dict:
    pool = cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"]
    assert pool.get("MfaConfiguration") == get_body["MfaConfiguration"], (
        f"DescribeUserPool MfaConfiguration {pool.get('MfaConfiguration')!r} != Get {get_body['MfaConfiguration']!r}"
    )
    sms = get_body.get("SmsMfaConfiguration")
    if sms is not None:
        assert pool.get("SmsConfiguration") == sms.get("SmsConfiguration"), (
            f"DescribeUserPool SmsConfiguration {pool.get('SmsConfiguration')!r} != Get {sms.get('SmsConfiguration')!r}"
        )
        if "SmsAuthenticationMessage" in sms:
            assert pool.get("SmsAuthenticationMessage") == sms["SmsAuthenticationMessage"]
    return pool


def set_roundtrip(cognito, raw_bodies, pool_id: str, expected: dict | None, **request) -> dict:
    """Set -> raw response; Get -> raw; Set == Get (== expected); Describe agrees. Returns the body."""
    cognito.set_user_pool_mfa_config(UserPoolId=pool_id, **request)
    set_body = raw_bodies.latest("SetUserPoolMfaConfig")
    get_body = get_raw(cognito, raw_bodies, pool_id)
    if expected is not None:
        assert set_body == expected, f"SetUserPoolMfaConfig response\n  got      {set_body}\n  expected {expected}"
    assert get_body == set_body, f"Get after Set differs:\n  Set {set_body}\n  Get {get_body}"
    assert "UserPoolId" not in set_body
    assert_describe_agrees(cognito, pool_id, get_body)
    return set_body


def expect_error(cognito, exc_name: str, message: str | None, **request):
    exc = getattr(cognito.exceptions, exc_name)
    with pytest.raises(exc) as ei:
        cognito.set_user_pool_mfa_config(**request)
    if message is not None:
        assert ei.value.response["Error"]["Message"] == message, (
            f"\n  expected {message!r}\n  got      {ei.value.response['Error']['Message']!r}"
        )
    return ei.value


# --------------------------------------------------------------------------------------
# §2.4 GetUserPoolMfaConfig on a fresh pool
# --------------------------------------------------------------------------------------


def test_fresh_pool_get_is_exactly_off(cognito, raw_bodies):
    pool_id = plain_pool(cognito)
    body = get_raw(cognito, raw_bodies, pool_id)
    assert body == {"MfaConfiguration": "OFF"}
    parsed = cognito.get_user_pool_mfa_config(UserPoolId=pool_id)
    parsed.pop("ResponseMetadata")
    assert parsed == {"MfaConfiguration": "OFF"}
    assert_describe_agrees(cognito, pool_id, body)


def test_fresh_email_pool_and_lite_pool_get_is_exactly_off(cognito, raw_bodies):
    for pool_id in (email_pool(cognito), plain_pool(cognito, UserPoolTier="LITE")):
        assert get_raw(cognito, raw_bodies, pool_id) == {"MfaConfiguration": "OFF"}


def test_get_response_headers(server, cognito):
    pool_id = plain_pool(cognito)
    resp = raw_call(server, "GetUserPoolMfaConfig", {"UserPoolId": pool_id})
    assert resp.status == 200, resp.describe()
    assert resp.header("content-type").startswith("application/x-amz-json-1.1"), resp.describe()
    assert resp.header("x-amzn-RequestId"), resp.describe()
    assert resp.json() == {"MfaConfiguration": "OFF"}


# --------------------------------------------------------------------------------------
# §2.1/§2.4 valid combinations: Set == Get == expected, Describe agrees
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("mfa", ["ON", "OPTIONAL"])
def test_totp_only(cognito, raw_bodies, mfa):
    pool_id = plain_pool(cognito)
    set_roundtrip(
        cognito,
        raw_bodies,
        pool_id,
        expected_body(mfa, totp=True),
        MfaConfiguration=mfa,
        SoftwareTokenMfaConfiguration={"Enabled": True},
    )


def test_totp_on_matches_captured_aws_body_exactly(cognito, raw_bodies):
    """The exact body captured from AWS in 2026 (§2.4, second example)."""
    pool_id = plain_pool(cognito)
    cognito.set_user_pool_mfa_config(
        UserPoolId=pool_id, MfaConfiguration="ON", SoftwareTokenMfaConfiguration={"Enabled": True}
    )
    assert get_raw(cognito, raw_bodies, pool_id) == {
        "MfaConfiguration": "ON",
        "SoftwareTokenMfaConfiguration": {"Enabled": True},
        "WebAuthnConfiguration": {"FactorConfiguration": "SINGLE_FACTOR"},
    }


@pytest.mark.parametrize("mfa", ["ON", "OPTIONAL"])
def test_sms_on_pool_with_sms_configuration(cognito, raw_bodies, mfa):
    pool_id = sms_pool(cognito)
    set_roundtrip(
        cognito,
        raw_bodies,
        pool_id,
        expected_body(mfa, sms={"SmsAuthenticationMessage": SMS_MSG, "SmsConfiguration": SMS_CONFIG}),
        MfaConfiguration=mfa,
        SmsMfaConfiguration={"SmsAuthenticationMessage": SMS_MSG},
    )


def test_sms_block_without_message_reports_sms_configuration_in_effect(cognito, raw_bodies):
    pool_id = sms_pool(cognito)
    set_roundtrip(
        cognito,
        raw_bodies,
        pool_id,
        expected_body("OPTIONAL", sms={"SmsConfiguration": SMS_CONFIG}),
        MfaConfiguration="OPTIONAL",
        SmsMfaConfiguration={},
    )


def test_sms_configuration_given_in_the_block_on_a_plain_pool(cognito, raw_bodies):
    """SmsMfaConfiguration.SmsConfiguration is the same store as the pool's SmsConfiguration (§2.5)."""
    pool_id = plain_pool(cognito)
    body = set_roundtrip(
        cognito,
        raw_bodies,
        pool_id,
        expected_body("OPTIONAL", sms={"SmsAuthenticationMessage": SMS_MSG, "SmsConfiguration": SMS_CONFIG_2}),
        MfaConfiguration="OPTIONAL",
        SmsMfaConfiguration={"SmsAuthenticationMessage": SMS_MSG, "SmsConfiguration": SMS_CONFIG_2},
    )
    pool = cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"]
    assert pool["SmsConfiguration"] == SMS_CONFIG_2
    assert pool["SmsAuthenticationMessage"] == SMS_MSG
    assert body["SmsMfaConfiguration"]["SmsConfiguration"] == SMS_CONFIG_2


def test_sms_configuration_in_block_replaces_pool_sms_configuration(cognito, raw_bodies):
    pool_id = sms_pool(cognito)
    set_roundtrip(
        cognito,
        raw_bodies,
        pool_id,
        expected_body("ON", sms={"SmsAuthenticationMessage": SMS_MSG, "SmsConfiguration": SMS_CONFIG_2}),
        MfaConfiguration="ON",
        SmsMfaConfiguration={"SmsAuthenticationMessage": SMS_MSG, "SmsConfiguration": SMS_CONFIG_2},
    )


@pytest.mark.parametrize("mfa", ["ON", "OPTIONAL"])
def test_sms_and_totp(cognito, raw_bodies, mfa):
    pool_id = sms_pool(cognito)
    set_roundtrip(
        cognito,
        raw_bodies,
        pool_id,
        expected_body(mfa, sms={"SmsAuthenticationMessage": SMS_MSG, "SmsConfiguration": SMS_CONFIG}, totp=True),
        MfaConfiguration=mfa,
        SmsMfaConfiguration={"SmsAuthenticationMessage": SMS_MSG},
        SoftwareTokenMfaConfiguration={"Enabled": True},
    )


@pytest.mark.parametrize("mfa", ["ON", "OPTIONAL"])
def test_email_only(cognito, raw_bodies, mfa):
    pool_id = email_pool(cognito)
    email = {"Message": EMAIL_MSG, "Subject": EMAIL_SUBJECT}
    set_roundtrip(
        cognito, raw_bodies, pool_id, expected_body(mfa, email=email), MfaConfiguration=mfa, EmailMfaConfiguration=email
    )


def test_email_message_without_subject(cognito, raw_bodies):
    pool_id = email_pool(cognito)
    email = {"Message": EMAIL_MSG}
    set_roundtrip(
        cognito,
        raw_bodies,
        pool_id,
        expected_body("OPTIONAL", email=email, totp=True),
        MfaConfiguration="OPTIONAL",
        EmailMfaConfiguration=email,
        SoftwareTokenMfaConfiguration={"Enabled": True},
    )


@pytest.mark.parametrize("recovery", [RECOVERY_EMAIL_AND_PHONE, RECOVERY_ADMIN_ONLY, RECOVERY_PHONE], ids=["email+phone", "admin_only", "phone"])
def test_email_mfa_allowed_with_recovery_not_only_email(cognito, raw_bodies, recovery):
    pool_id = email_pool(cognito, recovery=recovery)
    email = {"Message": EMAIL_MSG, "Subject": EMAIL_SUBJECT}
    set_roundtrip(
        cognito, raw_bodies, pool_id, expected_body("ON", email=email), MfaConfiguration="ON", EmailMfaConfiguration=email
    )


def test_email_mfa_on_plus_tier(cognito, raw_bodies):
    pool_id = email_pool(cognito, UserPoolTier="PLUS")
    email = {"Message": EMAIL_MSG, "Subject": EMAIL_SUBJECT}
    set_roundtrip(
        cognito, raw_bodies, pool_id, expected_body("OPTIONAL", email=email), MfaConfiguration="OPTIONAL", EmailMfaConfiguration=email
    )


def test_everything_optional(cognito, raw_bodies):
    """Fully configured pool, like the awscli example in §2.4 (plus FactorConfiguration)."""
    pool_id = email_pool(cognito, SmsConfiguration=dict(SMS_CONFIG), AutoVerifiedAttributes=["phone_number"])
    sms = {"SmsAuthenticationMessage": "Your OTP for MFA or sign-in: use {####}.", "SmsConfiguration": SMS_CONFIG}
    email = {"Message": EMAIL_MSG, "Subject": EMAIL_SUBJECT}
    webauthn = {"RelyingPartyId": "auth.example.com", "UserVerification": "preferred"}
    set_roundtrip(
        cognito,
        raw_bodies,
        pool_id,
        expected_body(
            "OPTIONAL", sms=sms, totp=True, email=email, webauthn={**webauthn, "FactorConfiguration": "SINGLE_FACTOR"}
        ),
        MfaConfiguration="OPTIONAL",
        SmsMfaConfiguration={"SmsAuthenticationMessage": sms["SmsAuthenticationMessage"]},
        SoftwareTokenMfaConfiguration={"Enabled": True},
        EmailMfaConfiguration=email,
        WebAuthnConfiguration=webauthn,
    )


@pytest.mark.parametrize(
    "webauthn",
    [
        {"RelyingPartyId": "auth.example.com"},
        {"UserVerification": "required"},
        {"UserVerification": "preferred", "RelyingPartyId": "login.example.org"},
    ],
)
def test_webauthn_fields_appear_only_if_set_plus_single_factor(cognito, raw_bodies, webauthn):
    pool_id = plain_pool(cognito)
    set_roundtrip(
        cognito,
        raw_bodies,
        pool_id,
        expected_body("ON", totp=True, webauthn={**webauthn, "FactorConfiguration": "SINGLE_FACTOR"}),
        MfaConfiguration="ON",
        SoftwareTokenMfaConfiguration={"Enabled": True},
        WebAuthnConfiguration=webauthn,
    )


@pytest.mark.parametrize("factor", ["SINGLE_FACTOR", "MULTI_FACTOR_WITH_USER_VERIFICATION"])
def test_webauthn_factor_configuration_as_set(cognito, raw_bodies, factor):
    pool_id = plain_pool(cognito)
    webauthn = {"RelyingPartyId": "auth.example.com", "UserVerification": "required", "FactorConfiguration": factor}
    set_roundtrip(
        cognito,
        raw_bodies,
        pool_id,
        expected_body("OPTIONAL", totp=True, webauthn=webauthn),
        MfaConfiguration="OPTIONAL",
        SoftwareTokenMfaConfiguration={"Enabled": True},
        WebAuthnConfiguration=webauthn,
    )


def test_webauthn_with_off_is_accepted(cognito, raw_bodies):
    """§2.3 rule 3: WebAuthnConfiguration sent with OFF is accepted."""
    pool_id = plain_pool(cognito)
    body = set_roundtrip(
        cognito,
        raw_bodies,
        pool_id,
        None,
        MfaConfiguration="OFF",
        WebAuthnConfiguration={"RelyingPartyId": "auth.example.com", "UserVerification": "required"},
    )
    assert body["MfaConfiguration"] == "OFF"
    for block in FACTOR_BLOCKS:
        assert block not in body
    assert body["WebAuthnConfiguration"]["RelyingPartyId"] == "auth.example.com"
    assert body["WebAuthnConfiguration"]["UserVerification"] == "required"


def test_totp_disabled_alongside_email_appears_as_set(cognito, raw_bodies):
    pool_id = email_pool(cognito)
    email = {"Message": EMAIL_MSG, "Subject": EMAIL_SUBJECT}
    set_roundtrip(
        cognito,
        raw_bodies,
        pool_id,
        expected_body("OPTIONAL", email=email, totp=False),
        MfaConfiguration="OPTIONAL",
        EmailMfaConfiguration=email,
        SoftwareTokenMfaConfiguration={"Enabled": False},
    )


def test_totp_on_lite_tier(cognito, raw_bodies):
    """SMS and TOTP MFA are available on LITE (§2.6)."""
    pool_id = plain_pool(cognito, UserPoolTier="LITE")
    set_roundtrip(
        cognito,
        raw_bodies,
        pool_id,
        expected_body("ON", totp=True),
        MfaConfiguration="ON",
        SoftwareTokenMfaConfiguration={"Enabled": True},
    )


def test_sms_on_lite_tier(cognito, raw_bodies):
    pool_id = sms_pool(cognito, UserPoolTier="LITE")
    set_roundtrip(
        cognito,
        raw_bodies,
        pool_id,
        expected_body("OPTIONAL", sms={"SmsAuthenticationMessage": SMS_MSG, "SmsConfiguration": SMS_CONFIG}),
        MfaConfiguration="OPTIONAL",
        SmsMfaConfiguration={"SmsAuthenticationMessage": SMS_MSG},
    )


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:iam::000000000000:role/nobody-can-assume-me",
        "arn:aws-cn:iam::111122223333:role/path/to/Role_With+Chars=,.@-",
        "arn:x:y::1:z",
    ],
)
def test_any_sns_caller_arn_matching_the_pattern_is_accepted(cognito, raw_bodies, arn):
    """§2.3 rule 11: no IAM here, so any ARN that matches the model pattern is accepted."""
    pool_id = plain_pool(cognito)
    cfg = {"SnsCallerArn": arn, "ExternalId": "ext", "SnsRegion": "us-east-1"}
    set_roundtrip(
        cognito,
        raw_bodies,
        pool_id,
        expected_body("ON", sms={"SmsAuthenticationMessage": SMS_MSG, "SmsConfiguration": cfg}),
        MfaConfiguration="ON",
        SmsMfaConfiguration={"SmsAuthenticationMessage": SMS_MSG, "SmsConfiguration": cfg},
    )


def test_boundary_lengths_are_accepted(cognito, raw_bodies):
    pool_id = plain_pool(cognito)
    msg140 = "{####}" + "x" * 134
    rp127 = "a" * 127
    cfg = {"SnsCallerArn": SMS_CONFIG["SnsCallerArn"], "ExternalId": "e", "SnsRegion": "r" * 32}
    set_roundtrip(
        cognito,
        raw_bodies,
        pool_id,
        expected_body(
            "ON",
            sms={"SmsAuthenticationMessage": msg140, "SmsConfiguration": cfg},
            webauthn={"RelyingPartyId": rp127, "FactorConfiguration": "SINGLE_FACTOR"},
        ),
        MfaConfiguration="ON",
        SmsMfaConfiguration={"SmsAuthenticationMessage": msg140, "SmsConfiguration": cfg},
        WebAuthnConfiguration={"RelyingPartyId": rp127},
    )


def test_minimal_sms_message_is_accepted(cognito, raw_bodies):
    pool_id = sms_pool(cognito)
    set_roundtrip(
        cognito,
        raw_bodies,
        pool_id,
        expected_body("ON", sms={"SmsAuthenticationMessage": "{####}", "SmsConfiguration": SMS_CONFIG}),
        MfaConfiguration="ON",
        SmsMfaConfiguration={"SmsAuthenticationMessage": "{####}"},
    )


def test_unicode_email_message_and_subject(cognito, raw_bodies):
    pool_id = email_pool(cognito)
    email = {"Message": "Votre code : {####} — merci ✓", "Subject": "Código de verificación"}
    set_roundtrip(
        cognito,
        raw_bodies,
        pool_id,
        expected_body("OPTIONAL", email=email),
        MfaConfiguration="OPTIONAL",
        EmailMfaConfiguration=email,
    )


def test_same_set_twice_is_idempotent(cognito, raw_bodies):
    pool_id = plain_pool(cognito)
    req = dict(MfaConfiguration="OPTIONAL", SoftwareTokenMfaConfiguration={"Enabled": True})
    first = set_roundtrip(cognito, raw_bodies, pool_id, expected_body("OPTIONAL", totp=True), **req)
    second = set_roundtrip(cognito, raw_bodies, pool_id, expected_body("OPTIONAL", totp=True), **req)
    assert first == second


# --------------------------------------------------------------------------------------
# §2.2 full replace, not a patch
# --------------------------------------------------------------------------------------


def test_full_replace_drops_omitted_factor_blocks(cognito, raw_bodies):
    pool_id = email_pool(cognito)
    email = {"Message": EMAIL_MSG, "Subject": EMAIL_SUBJECT}
    set_roundtrip(
        cognito,
        raw_bodies,
        pool_id,
        expected_body("OPTIONAL", totp=True, email=email),
        MfaConfiguration="OPTIONAL",
        SoftwareTokenMfaConfiguration={"Enabled": True},
        EmailMfaConfiguration=email,
    )
    # Email left out -> turned off.
    set_roundtrip(
        cognito,
        raw_bodies,
        pool_id,
        expected_body("OPTIONAL", totp=True),
        MfaConfiguration="OPTIONAL",
        SoftwareTokenMfaConfiguration={"Enabled": True},
    )
    # TOTP left out -> turned off.
    set_roundtrip(
        cognito, raw_bodies, pool_id, expected_body("ON", email=email), MfaConfiguration="ON", EmailMfaConfiguration=email
    )


def test_full_replace_drops_webauthn_fields_not_sent(cognito, raw_bodies):
    pool_id = plain_pool(cognito)
    set_roundtrip(
        cognito,
        raw_bodies,
        pool_id,
        expected_body(
            "ON", totp=True, webauthn={"RelyingPartyId": "a.example.com", "UserVerification": "required", "FactorConfiguration": "SINGLE_FACTOR"}
        ),
        MfaConfiguration="ON",
        SoftwareTokenMfaConfiguration={"Enabled": True},
        WebAuthnConfiguration={"RelyingPartyId": "a.example.com", "UserVerification": "required"},
    )
    set_roundtrip(
        cognito,
        raw_bodies,
        pool_id,
        expected_body("ON", totp=True),
        MfaConfiguration="ON",
        SoftwareTokenMfaConfiguration={"Enabled": True},
    )


def test_set_with_nothing_resets_to_off(cognito, raw_bodies):
    """MfaConfiguration omitted and no factor block: accepted, the pool is reset to OFF."""
    pool_id = plain_pool(cognito)
    set_roundtrip(
        cognito,
        raw_bodies,
        pool_id,
        expected_body("ON", totp=True),
        MfaConfiguration="ON",
        SoftwareTokenMfaConfiguration={"Enabled": True},
    )
    body = set_roundtrip(cognito, raw_bodies, pool_id, None)
    assert body["MfaConfiguration"] == "OFF"
    for block in FACTOR_BLOCKS:
        assert block not in body, body
    assert cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"]["MfaConfiguration"] == "OFF"


def test_explicit_off_after_on(cognito, raw_bodies):
    pool_id = plain_pool(cognito)
    set_roundtrip(
        cognito,
        raw_bodies,
        pool_id,
        expected_body("OPTIONAL", totp=True),
        MfaConfiguration="OPTIONAL",
        SoftwareTokenMfaConfiguration={"Enabled": True},
    )
    body = set_roundtrip(cognito, raw_bodies, pool_id, None, MfaConfiguration="OFF")
    assert body["MfaConfiguration"] == "OFF"
    for block in FACTOR_BLOCKS:
        assert block not in body, body


def test_off_is_allowed_on_a_pool_with_sms_configuration(cognito, raw_bodies):
    pool_id = sms_pool(cognito)
    set_roundtrip(
        cognito,
        raw_bodies,
        pool_id,
        expected_body("ON", sms={"SmsAuthenticationMessage": SMS_MSG, "SmsConfiguration": SMS_CONFIG}),
        MfaConfiguration="ON",
        SmsMfaConfiguration={"SmsAuthenticationMessage": SMS_MSG},
    )
    body = set_roundtrip(cognito, raw_bodies, pool_id, None, MfaConfiguration="OFF")
    assert body["MfaConfiguration"] == "OFF"
    for block in FACTOR_BLOCKS:
        assert block not in body, body


def test_switch_on_optional_on(cognito, raw_bodies):
    pool_id = sms_pool(cognito)
    sms = {"SmsAuthenticationMessage": SMS_MSG, "SmsConfiguration": SMS_CONFIG}
    for mfa in ("ON", "OPTIONAL", "ON"):
        set_roundtrip(
            cognito,
            raw_bodies,
            pool_id,
            expected_body(mfa, sms=sms, totp=True),
            MfaConfiguration=mfa,
            SmsMfaConfiguration={"SmsAuthenticationMessage": SMS_MSG},
            SoftwareTokenMfaConfiguration={"Enabled": True},
        )


# --------------------------------------------------------------------------------------
# §2.3 rule 1: model constraints (InvalidParameterException, AWS message format)
# --------------------------------------------------------------------------------------


def test_sms_message_without_placeholder(cognito):
    pool_id = sms_pool(cognito)
    value = "Your code is 123456"
    expect_error(
        cognito,
        "InvalidParameterException",
        one_error(v_pattern(value, "smsMfaConfiguration.smsAuthenticationMessage", PAT_SMS_MESSAGE)),
        UserPoolId=pool_id,
        MfaConfiguration="ON",
        SmsMfaConfiguration={"SmsAuthenticationMessage": value},
    )


def test_sms_message_too_long(cognito):
    pool_id = sms_pool(cognito)
    value = "{####}" + "y" * 135  # 141 chars
    expect_error(
        cognito,
        "InvalidParameterException",
        one_error(v_max_len(value, "smsMfaConfiguration.smsAuthenticationMessage", 140)),
        UserPoolId=pool_id,
        MfaConfiguration="ON",
        SmsMfaConfiguration={"SmsAuthenticationMessage": value},
    )


def test_sms_message_too_short_raw(server, cognito):
    """botocore blocks min-length client-side, so send it raw: 5 chars breaks min AND pattern."""
    pool_id = sms_pool(cognito)
    value = "{###}"
    resp = raw_call(
        server,
        "SetUserPoolMfaConfig",
        {"UserPoolId": pool_id, "MfaConfiguration": "ON", "SmsMfaConfiguration": {"SmsAuthenticationMessage": value}},
    )
    body = assert_aws_error(resp, "InvalidParameterException")
    msg = body["message"]
    path = "smsMfaConfiguration.smsAuthenticationMessage"
    assert msg.startswith("2 validation errors detected: "), msg
    parts = msg[len("2 validation errors detected: ") :].split("; ")
    assert sorted(parts) == sorted([v_min_len(value, path, 6), v_pattern(value, path, PAT_SMS_MESSAGE)]), msg


def test_unknown_mfa_configuration_enum(cognito):
    pool_id = plain_pool(cognito)
    expect_error(
        cognito,
        "InvalidParameterException",
        one_error(v_enum("MAYBE", "mfaConfiguration", ["OFF", "ON", "OPTIONAL"])),
        UserPoolId=pool_id,
        MfaConfiguration="MAYBE",
        SoftwareTokenMfaConfiguration={"Enabled": True},
    )


def test_lowercase_mfa_configuration_is_not_an_enum_value(cognito):
    pool_id = plain_pool(cognito)
    expect_error(
        cognito,
        "InvalidParameterException",
        one_error(v_enum("on", "mfaConfiguration", ["OFF", "ON", "OPTIONAL"])),
        UserPoolId=pool_id,
        MfaConfiguration="on",
        SoftwareTokenMfaConfiguration={"Enabled": True},
    )


def test_unknown_user_verification_enum(cognito):
    pool_id = plain_pool(cognito)
    expect_error(
        cognito,
        "InvalidParameterException",
        one_error(v_enum("discouraged", "webAuthnConfiguration.userVerification", ["required", "preferred"])),
        UserPoolId=pool_id,
        MfaConfiguration="ON",
        SoftwareTokenMfaConfiguration={"Enabled": True},
        WebAuthnConfiguration={"UserVerification": "discouraged"},
    )


def test_unknown_factor_configuration_enum(cognito):
    pool_id = plain_pool(cognito)
    expect_error(
        cognito,
        "InvalidParameterException",
        one_error(
            v_enum("BOTH", "webAuthnConfiguration.factorConfiguration", ["SINGLE_FACTOR", "MULTI_FACTOR_WITH_USER_VERIFICATION"])
        ),
        UserPoolId=pool_id,
        MfaConfiguration="ON",
        SoftwareTokenMfaConfiguration={"Enabled": True},
        WebAuthnConfiguration={"FactorConfiguration": "BOTH"},
    )


def test_relying_party_id_too_long(cognito):
    pool_id = plain_pool(cognito)
    value = "r" * 128
    expect_error(
        cognito,
        "InvalidParameterException",
        one_error(v_max_len(value, "webAuthnConfiguration.relyingPartyId", 127)),
        UserPoolId=pool_id,
        MfaConfiguration="ON",
        SoftwareTokenMfaConfiguration={"Enabled": True},
        WebAuthnConfiguration={"RelyingPartyId": value},
    )


def test_relying_party_id_empty_raw(server, cognito):
    pool_id = plain_pool(cognito)
    resp = raw_call(
        server,
        "SetUserPoolMfaConfig",
        {
            "UserPoolId": pool_id,
            "MfaConfiguration": "ON",
            "SoftwareTokenMfaConfiguration": {"Enabled": True},
            "WebAuthnConfiguration": {"RelyingPartyId": ""},
        },
    )
    assert_aws_error(
        resp, "InvalidParameterException", one_error(v_min_len("", "webAuthnConfiguration.relyingPartyId", 1))
    )


def test_email_message_without_placeholder(cognito):
    pool_id = email_pool(cognito)
    value = "Your code is here"
    expect_error(
        cognito,
        "InvalidParameterException",
        one_error(v_pattern(value, "emailMfaConfiguration.message", PAT_EMAIL_MESSAGE)),
        UserPoolId=pool_id,
        MfaConfiguration="ON",
        EmailMfaConfiguration={"Message": value, "Subject": EMAIL_SUBJECT},
    )


def test_email_message_too_long(cognito):
    pool_id = email_pool(cognito)
    value = "{####}" + "z" * 19995  # 20001 chars
    exc = expect_error(
        cognito,
        "InvalidParameterException",
        None,
        UserPoolId=pool_id,
        MfaConfiguration="ON",
        EmailMfaConfiguration={"Message": value},
    )
    msg = exc.response["Error"]["Message"]
    assert msg == one_error(v_max_len(value, "emailMfaConfiguration.message", 20000)), msg[:300] + "..."


def test_email_subject_empty_fails_pattern(cognito):
    pool_id = email_pool(cognito)
    expect_error(
        cognito,
        "InvalidParameterException",
        one_error(v_pattern("", "emailMfaConfiguration.subject", PAT_EMAIL_SUBJECT)),
        UserPoolId=pool_id,
        MfaConfiguration="ON",
        EmailMfaConfiguration={"Message": EMAIL_MSG, "Subject": ""},
    )


def test_email_subject_with_control_character_fails_pattern(cognito):
    pool_id = email_pool(cognito)
    value = "bad\x07subject"
    exc = expect_error(
        cognito,
        "InvalidParameterException",
        None,
        UserPoolId=pool_id,
        MfaConfiguration="ON",
        EmailMfaConfiguration={"Message": EMAIL_MSG, "Subject": value},
    )
    msg = exc.response["Error"]["Message"]
    assert msg.startswith("1 validation error detected: Value '"), msg
    assert msg.endswith(
        "' at 'emailMfaConfiguration.subject' failed to satisfy constraint: Member must satisfy regular expression pattern: "
        + PAT_EMAIL_SUBJECT
    ), msg


def test_sns_caller_arn_not_an_arn(cognito):
    pool_id = plain_pool(cognito)
    value = "not-an-arn"
    expect_error(
        cognito,
        "InvalidParameterException",
        one_error(v_pattern(value, "smsMfaConfiguration.smsConfiguration.snsCallerArn", PAT_OPTIONAL_ARN)),
        UserPoolId=pool_id,
        MfaConfiguration="ON",
        SmsMfaConfiguration={
            "SmsAuthenticationMessage": SMS_MSG,
            "SmsConfiguration": {"SnsCallerArn": value, "ExternalId": "x", "SnsRegion": "us-east-1"},
        },
    )


def test_sns_region_too_long(cognito):
    pool_id = plain_pool(cognito)
    value = "r" * 33
    expect_error(
        cognito,
        "InvalidParameterException",
        one_error(v_max_len(value, "smsMfaConfiguration.smsConfiguration.snsRegion", 32)),
        UserPoolId=pool_id,
        MfaConfiguration="ON",
        SmsMfaConfiguration={
            "SmsAuthenticationMessage": SMS_MSG,
            "SmsConfiguration": {"SnsCallerArn": SMS_CONFIG["SnsCallerArn"], "ExternalId": "x", "SnsRegion": value},
        },
    )


def test_sns_region_too_short_raw(server, cognito):
    pool_id = plain_pool(cognito)
    resp = raw_call(
        server,
        "SetUserPoolMfaConfig",
        {
            "UserPoolId": pool_id,
            "MfaConfiguration": "ON",
            "SmsMfaConfiguration": {
                "SmsAuthenticationMessage": SMS_MSG,
                "SmsConfiguration": {"SnsCallerArn": SMS_CONFIG["SnsCallerArn"], "ExternalId": "x", "SnsRegion": "us"},
            },
        },
    )
    assert_aws_error(
        resp,
        "InvalidParameterException",
        one_error(v_min_len("us", "smsMfaConfiguration.smsConfiguration.snsRegion", 5)),
    )


def test_eums_sms_missing_caller_arn_raw(server, cognito):
    """botocore enforces nested required members client-side, so this goes raw."""
    pool_id = plain_pool(cognito)
    resp = raw_call(
        server,
        "SetUserPoolMfaConfig",
        {
            "UserPoolId": pool_id,
            "MfaConfiguration": "ON",
            "SmsMfaConfiguration": {"SmsAuthenticationMessage": SMS_MSG, "SmsConfiguration": {"EumsSms": {"Region": "us-east-1"}}},
        },
    )
    assert_aws_error(
        resp, "InvalidParameterException", one_error(v_null("smsMfaConfiguration.smsConfiguration.eumsSms.callerArn"))
    )


def test_user_pool_id_pattern(cognito):
    expect_error(
        cognito,
        "InvalidParameterException",
        one_error(v_pattern("nounderscore", "userPoolId", PAT_USER_POOL_ID)),
        UserPoolId="nounderscore",
        MfaConfiguration="OFF",
    )


def test_user_pool_id_too_long(cognito):
    value = "us-east-1_" + "a" * 46  # 56 chars, matches the pattern
    expect_error(
        cognito,
        "InvalidParameterException",
        one_error(v_max_len(value, "userPoolId", 55)),
        UserPoolId=value,
        MfaConfiguration="OFF",
    )


def test_get_user_pool_id_pattern(cognito):
    with pytest.raises(cognito.exceptions.InvalidParameterException) as ei:
        cognito.get_user_pool_mfa_config(UserPoolId="bad id!")
    assert ei.value.response["Error"]["Message"] == one_error(v_pattern("bad id!", "userPoolId", PAT_USER_POOL_ID))


@pytest.mark.parametrize("op", ["SetUserPoolMfaConfig", "GetUserPoolMfaConfig"])
def test_missing_user_pool_id_raw(server, op):
    resp = raw_call(server, op, {"MfaConfiguration": "OFF"} if op.startswith("Set") else {})
    assert_aws_error(resp, "InvalidParameterException", one_error(v_null("userPoolId")))


def test_two_validation_errors(server):
    resp = raw_call(
        server,
        "SetUserPoolMfaConfig",
        {"UserPoolId": "bad id!", "MfaConfiguration": "MAYBE"},
    )
    body = assert_aws_error(resp, "InvalidParameterException")
    msg = body["message"]
    prefix = "2 validation errors detected: "
    assert msg.startswith(prefix), msg
    parts = msg[len(prefix) :].split("; ")
    assert sorted(parts) == sorted(
        [
            v_pattern("bad id!", "userPoolId", PAT_USER_POOL_ID),
            v_enum("MAYBE", "mfaConfiguration", ["OFF", "ON", "OPTIONAL"]),
        ]
    ), msg


# --------------------------------------------------------------------------------------
# §2.3 rule 2: unknown pool
# --------------------------------------------------------------------------------------


def test_set_unknown_pool(cognito):
    pool_id = "us-east-1_NoSuchPool1"
    expect_error(
        cognito,
        "ResourceNotFoundException",
        missing_pool_message(pool_id),
        UserPoolId=pool_id,
        MfaConfiguration="ON",
        SoftwareTokenMfaConfiguration={"Enabled": True},
    )


def test_get_unknown_pool(cognito):
    pool_id = "us-east-1_NoSuchPool2"
    with pytest.raises(cognito.exceptions.ResourceNotFoundException) as ei:
        cognito.get_user_pool_mfa_config(UserPoolId=pool_id)
    assert ei.value.response["Error"]["Message"] == missing_pool_message(pool_id)


def test_set_and_get_on_deleted_pool(cognito):
    pool_id = plain_pool(cognito)
    cognito.delete_user_pool(UserPoolId=pool_id)
    expect_error(
        cognito,
        "ResourceNotFoundException",
        missing_pool_message(pool_id),
        UserPoolId=pool_id,
        MfaConfiguration="OFF",
    )
    with pytest.raises(cognito.exceptions.ResourceNotFoundException):
        cognito.get_user_pool_mfa_config(UserPoolId=pool_id)


def test_model_constraints_checked_before_pool_lookup(cognito):
    pool_id = "us-east-1_NoSuchPool3"
    expect_error(
        cognito,
        "InvalidParameterException",
        one_error(v_enum("MAYBE", "mfaConfiguration", ["OFF", "ON", "OPTIONAL"])),
        UserPoolId=pool_id,
        MfaConfiguration="MAYBE",
    )


# --------------------------------------------------------------------------------------
# §2.3 rule 3: OFF (or omitted) together with a factor block
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("mfa", ["OFF", None], ids=["OFF", "omitted"])
@pytest.mark.parametrize(
    "block",
    [
        {"SoftwareTokenMfaConfiguration": {"Enabled": True}},
        {"SoftwareTokenMfaConfiguration": {"Enabled": False}},
        {"SmsMfaConfiguration": {"SmsAuthenticationMessage": SMS_MSG}},
        {"EmailMfaConfiguration": {"Message": EMAIL_MSG, "Subject": EMAIL_SUBJECT}},
    ],
    ids=["totp", "totp-disabled", "sms", "email"],
)
def test_off_with_a_factor_block(cognito, raw_bodies, mfa, block):
    pool_id = email_pool(cognito, SmsConfiguration=dict(SMS_CONFIG), AutoVerifiedAttributes=["phone_number"])
    req = dict(UserPoolId=pool_id, **block)
    if mfa is not None:
        req["MfaConfiguration"] = mfa
    expect_error(cognito, "InvalidParameterException", MSG_OFF_WITH_FACTOR, **req)
    assert get_raw(cognito, raw_bodies, pool_id)["MfaConfiguration"] == "OFF"


def test_off_exclusion_checked_before_email_rules(cognito):
    """Plain pool (COGNITO_DEFAULT, no recovery): rule 3 wins over rules 5/6."""
    pool_id = plain_pool(cognito)
    expect_error(
        cognito,
        "InvalidParameterException",
        MSG_OFF_WITH_FACTOR,
        UserPoolId=pool_id,
        EmailMfaConfiguration={"Message": EMAIL_MSG},
    )


def test_failed_set_leaves_configuration_unchanged(cognito, raw_bodies):
    pool_id = plain_pool(cognito)
    before = set_roundtrip(
        cognito,
        raw_bodies,
        pool_id,
        expected_body("ON", totp=True),
        MfaConfiguration="ON",
        SoftwareTokenMfaConfiguration={"Enabled": True},
    )
    expect_error(
        cognito,
        "InvalidParameterException",
        MSG_OFF_WITH_FACTOR,
        UserPoolId=pool_id,
        MfaConfiguration="OFF",
        SoftwareTokenMfaConfiguration={"Enabled": True},
    )
    assert get_raw(cognito, raw_bodies, pool_id) == before


# --------------------------------------------------------------------------------------
# §2.3 rule 4: ON/OPTIONAL without any factor
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("mfa", ["ON", "OPTIONAL"])
@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"SoftwareTokenMfaConfiguration": {"Enabled": False}},
        {"WebAuthnConfiguration": {"RelyingPartyId": "auth.example.com"}},
        {"SoftwareTokenMfaConfiguration": {}},
    ],
    ids=["nothing", "totp-disabled", "webauthn-only", "totp-empty"],
)
def test_on_without_any_factor(cognito, mfa, extra):
    pool_id = plain_pool(cognito)
    expect_error(cognito, "InvalidParameterException", MSG_NO_FACTOR, UserPoolId=pool_id, MfaConfiguration=mfa, **extra)


# --------------------------------------------------------------------------------------
# §2.3 rules 5, 6, 7: email MFA preconditions
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("email_cfg", [None, EMAIL_COGNITO_DEFAULT], ids=["no-email-config", "COGNITO_DEFAULT"])
def test_email_mfa_needs_developer_sending_account(cognito, email_cfg):
    kw = {"AccountRecoverySetting": RECOVERY_PHONE}
    if email_cfg is not None:
        kw["EmailConfiguration"] = dict(email_cfg)
    pool_id = create_pool(cognito, **kw)
    expect_error(
        cognito,
        "InvalidParameterException",
        MSG_EMAIL_COGNITO_DEFAULT,
        UserPoolId=pool_id,
        MfaConfiguration="OPTIONAL",
        EmailMfaConfiguration={"Message": EMAIL_MSG, "Subject": EMAIL_SUBJECT},
    )


@pytest.mark.parametrize("recovery", [None, RECOVERY_EMAIL_ONLY], ids=["recovery-unset", "verified_email-only"])
def test_email_mfa_needs_recovery_other_than_email_only(cognito, recovery):
    kw = {"EmailConfiguration": dict(EMAIL_DEVELOPER)}
    if recovery is not None:
        kw["AccountRecoverySetting"] = recovery
    pool_id = create_pool(cognito, **kw)
    expect_error(
        cognito,
        "InvalidParameterException",
        MSG_EMAIL_RECOVERY,
        UserPoolId=pool_id,
        MfaConfiguration="ON",
        EmailMfaConfiguration={"Message": EMAIL_MSG, "Subject": EMAIL_SUBJECT},
    )


def test_email_mfa_on_lite_tier(cognito, raw_bodies):
    pool_id = email_pool(cognito, UserPoolTier="LITE")
    expect_error(
        cognito,
        "FeatureUnavailableInTierException",
        None,
        UserPoolId=pool_id,
        MfaConfiguration="OPTIONAL",
        EmailMfaConfiguration={"Message": EMAIL_MSG, "Subject": EMAIL_SUBJECT},
        SoftwareTokenMfaConfiguration={"Enabled": True},
    )
    assert get_raw(cognito, raw_bodies, pool_id) == {"MfaConfiguration": "OFF"}


# --------------------------------------------------------------------------------------
# §2.3 rule 8: MFA required together with passwordless first factors
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("factor", ["EMAIL_OTP", "SMS_OTP"])
def test_mfa_on_with_otp_first_factor(cognito, raw_bodies, factor):
    pool_id = email_pool(
        cognito,
        SmsConfiguration=dict(SMS_CONFIG),
        AutoVerifiedAttributes=["phone_number"],
        Policies={"SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD", factor]}},
    )
    expect_error(
        cognito,
        "InvalidParameterException",
        MSG_PASSWORDLESS_WITH_MFA_ON,
        UserPoolId=pool_id,
        MfaConfiguration="ON",
        SmsMfaConfiguration={"SmsAuthenticationMessage": SMS_MSG},
        SoftwareTokenMfaConfiguration={"Enabled": True},
    )
    # OPTIONAL with the same first factors is accepted.
    set_roundtrip(
        cognito,
        raw_bodies,
        pool_id,
        expected_body("OPTIONAL", sms={"SmsAuthenticationMessage": SMS_MSG, "SmsConfiguration": SMS_CONFIG}, totp=True),
        MfaConfiguration="OPTIONAL",
        SmsMfaConfiguration={"SmsAuthenticationMessage": SMS_MSG},
        SoftwareTokenMfaConfiguration={"Enabled": True},
    )


def test_mfa_on_single_factor_webauthn_as_first_factor(cognito, raw_bodies):
    pool_id = plain_pool(cognito, Policies={"SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD", "WEB_AUTHN"]}})
    expect_error(
        cognito,
        "InvalidParameterException",
        MSG_WEBAUTHN_SINGLE_FACTOR,
        UserPoolId=pool_id,
        MfaConfiguration="ON",
        SoftwareTokenMfaConfiguration={"Enabled": True},
        WebAuthnConfiguration={"RelyingPartyId": "auth.example.com", "FactorConfiguration": "SINGLE_FACTOR"},
    )
    # With MULTI_FACTOR_WITH_USER_VERIFICATION a UV passkey is acceptable.
    webauthn = {"RelyingPartyId": "auth.example.com", "FactorConfiguration": "MULTI_FACTOR_WITH_USER_VERIFICATION"}
    set_roundtrip(
        cognito,
        raw_bodies,
        pool_id,
        expected_body("ON", totp=True, webauthn=webauthn),
        MfaConfiguration="ON",
        SoftwareTokenMfaConfiguration={"Enabled": True},
        WebAuthnConfiguration=webauthn,
    )


# --------------------------------------------------------------------------------------
# §2.3 rules 9, 10: SMS configuration
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("mfa", ["ON", "OPTIONAL"])
def test_cannot_drop_sms_when_pool_has_sms_configuration(cognito, raw_bodies, mfa):
    pool_id = sms_pool(cognito)
    expect_error(
        cognito,
        "InvalidParameterException",
        MSG_CANT_TURN_OFF_SMS,
        UserPoolId=pool_id,
        MfaConfiguration=mfa,
        SoftwareTokenMfaConfiguration={"Enabled": True},
    )
    assert get_raw(cognito, raw_bodies, pool_id)["MfaConfiguration"] == "OFF"


def test_sms_can_be_dropped_while_mfa_stays_on_but_not_when_mfa_is_turned_on_from_off(cognito, raw_bodies):
    pool_id = plain_pool(cognito)
    set_roundtrip(
        cognito,
        raw_bodies,
        pool_id,
        expected_body("OPTIONAL", sms={"SmsAuthenticationMessage": SMS_MSG, "SmsConfiguration": SMS_CONFIG}, totp=True),
        MfaConfiguration="OPTIONAL",
        SmsMfaConfiguration={"SmsAuthenticationMessage": SMS_MSG, "SmsConfiguration": SMS_CONFIG},
        SoftwareTokenMfaConfiguration={"Enabled": True},
    )
    # Already OPTIONAL: TOTP only with the same mode is accepted (as on AWS).
    set_roundtrip(
        cognito,
        raw_bodies,
        pool_id,
        expected_body("OPTIONAL", totp=True),
        MfaConfiguration="OPTIONAL",
        SoftwareTokenMfaConfiguration={"Enabled": True},
    )
    # OFF, then on again without SMS while the pool keeps its SmsConfiguration: refused
    # (aws-amplify/amplify-backend#1481).
    cognito.set_user_pool_mfa_config(UserPoolId=pool_id, MfaConfiguration="OFF")
    expect_error(
        cognito,
        "InvalidParameterException",
        MSG_CANT_TURN_OFF_SMS,
        UserPoolId=pool_id,
        MfaConfiguration="OPTIONAL",
        SoftwareTokenMfaConfiguration={"Enabled": True},
    )


@pytest.mark.parametrize("block", [{"SmsAuthenticationMessage": SMS_MSG}, {}], ids=["with-message", "empty"])
def test_sms_block_without_any_sms_configuration(cognito, raw_bodies, block):
    pool_id = plain_pool(cognito)
    expect_error(
        cognito,
        "InvalidParameterException",
        None,
        UserPoolId=pool_id,
        MfaConfiguration="ON",
        SmsMfaConfiguration=block,
    )
    assert get_raw(cognito, raw_bodies, pool_id) == {"MfaConfiguration": "OFF"}


# --------------------------------------------------------------------------------------
# §2.3 rule 12 / §7.2: concurrent modification
# --------------------------------------------------------------------------------------


def test_concurrent_sets_never_both_silently_win(server):
    clients = [make_client(server) for _ in range(8)]
    pool_id = plain_pool(clients[0])
    barrier = threading.Barrier(len(clients))
    results: list = [None] * len(clients)

    def worker(i: int):
        c = clients[i]
        mfa = "ON" if i % 2 else "OPTIONAL"
        req = dict(
            UserPoolId=pool_id,
            MfaConfiguration=mfa,
            SoftwareTokenMfaConfiguration={"Enabled": True},
            WebAuthnConfiguration={"RelyingPartyId": f"rp{i}.example.com"},
        )
        barrier.wait()
        try:
            r = c.set_user_pool_mfa_config(**req)
            r.pop("ResponseMetadata")
            results[i] = ("ok", r)
        except c.exceptions.ConcurrentModificationException as e:
            results[i] = ("cme", e.response["Error"]["Message"])
        except Exception as e:  # noqa: BLE001
            results[i] = ("other", repr(e))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(clients))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    others = [r for r in results if r is None or r[0] == "other"]
    assert not others, f"unexpected outcomes: {results}"
    for kind, payload in results:
        if kind == "cme":
            assert payload == MSG_CONCURRENT
    oks = [payload for kind, payload in results if kind == "ok"]
    assert oks, f"every concurrent Set failed: {results}"
    final = clients[0].get_user_pool_mfa_config(UserPoolId=pool_id)
    final.pop("ResponseMetadata")
    assert final in oks, f"final config {final} is none of the acknowledged writes {oks}"
    pool = clients[0].describe_user_pool(UserPoolId=pool_id)["UserPool"]
    assert pool["MfaConfiguration"] == final["MfaConfiguration"]


def test_set_immediately_after_create_eventually_succeeds(cognito, raw_bodies):
    """§2.3 rule 12: CME may happen right after CreateUserPool; a retry must then work."""
    for _ in range(3):
        pool_id = plain_pool(cognito)
        for attempt in range(5):
            try:
                cognito.set_user_pool_mfa_config(
                    UserPoolId=pool_id, MfaConfiguration="ON", SoftwareTokenMfaConfiguration={"Enabled": True}
                )
                break
            except cognito.exceptions.ConcurrentModificationException as e:
                assert e.response["Error"]["Message"] == MSG_CONCURRENT
        else:
            pytest.fail("SetUserPoolMfaConfig kept failing with ConcurrentModificationException")
        assert get_raw(cognito, raw_bodies, pool_id) == expected_body("ON", totp=True)


# --------------------------------------------------------------------------------------
# §2.5 CreateUserPool / UpdateUserPool / DescribeUserPool
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("mfa", ["ON", "OPTIONAL"])
def test_create_with_mfa_needs_sms_configuration(cognito, mfa):
    with pytest.raises(cognito.exceptions.InvalidParameterException) as ei:
        cognito.create_user_pool(PoolName="needs-sms", MfaConfiguration=mfa)
    assert ei.value.response["Error"]["Message"] == MSG_CREATE_MFA_NEEDS_SMS


@pytest.mark.parametrize("mfa", ["ON", "OPTIONAL"])
def test_create_with_mfa_and_sms_configuration(cognito, raw_bodies, mfa):
    pool = cognito.create_user_pool(
        PoolName="mfa-at-create",
        MfaConfiguration=mfa,
        SmsConfiguration=dict(SMS_CONFIG),
        SmsAuthenticationMessage=SMS_MSG,
        AutoVerifiedAttributes=["phone_number"],
    )["UserPool"]
    assert pool["MfaConfiguration"] == mfa
    assert pool["SmsConfiguration"] == SMS_CONFIG
    assert pool["SmsAuthenticationMessage"] == SMS_MSG
    body = get_raw(cognito, raw_bodies, pool["Id"])
    assert body["MfaConfiguration"] == mfa
    assert body["SmsMfaConfiguration"] == {"SmsAuthenticationMessage": SMS_MSG, "SmsConfiguration": SMS_CONFIG}
    assert "SoftwareTokenMfaConfiguration" not in body or body["SoftwareTokenMfaConfiguration"] == {"Enabled": False}
    assert "EmailMfaConfiguration" not in body
    assert_describe_agrees(cognito, pool["Id"], body)


def test_create_off_with_sms_configuration_describes_it(cognito):
    pool_id = sms_pool(cognito, SmsAuthenticationMessage=SMS_MSG)
    pool = cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"]
    assert pool["MfaConfiguration"] == "OFF"
    assert pool["SmsConfiguration"] == SMS_CONFIG
    assert pool["SmsAuthenticationMessage"] == SMS_MSG


def test_describe_reflects_mfa_config_set(cognito, raw_bodies):
    pool_id = sms_pool(cognito)
    set_roundtrip(
        cognito,
        raw_bodies,
        pool_id,
        expected_body("ON", sms={"SmsAuthenticationMessage": SMS_MSG, "SmsConfiguration": SMS_CONFIG}, totp=True),
        MfaConfiguration="ON",
        SmsMfaConfiguration={"SmsAuthenticationMessage": SMS_MSG},
        SoftwareTokenMfaConfiguration={"Enabled": True},
    )
    pool = cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"]
    assert pool["MfaConfiguration"] == "ON"
    assert pool["SmsAuthenticationMessage"] == SMS_MSG
    assert pool["SmsConfiguration"] == SMS_CONFIG
    assert "EnabledMfas" not in pool  # a CloudFormation property, not an API field


@pytest.mark.parametrize("with_sms", [True, False], ids=["sms-pool", "plain-pool"])
def test_update_off_to_on_is_refused(cognito, raw_bodies, with_sms):
    if with_sms:
        pool_id = sms_pool(cognito)
        extra = dict(SmsConfiguration=dict(SMS_CONFIG), AutoVerifiedAttributes=["phone_number"])
    else:
        pool_id = plain_pool(cognito)
        extra = {}
    with pytest.raises(cognito.exceptions.InvalidParameterException) as ei:
        cognito.update_user_pool(UserPoolId=pool_id, MfaConfiguration="ON", **extra)
    assert ei.value.response["Error"]["Message"] == MSG_UPDATE_OFF_TO_ON
    assert get_raw(cognito, raw_bodies, pool_id)["MfaConfiguration"] == "OFF"


def test_update_off_to_optional_with_sms_configuration(cognito, raw_bodies):
    pool_id = sms_pool(cognito)
    cognito.update_user_pool(
        UserPoolId=pool_id,
        MfaConfiguration="OPTIONAL",
        SmsConfiguration=dict(SMS_CONFIG),
        SmsAuthenticationMessage=SMS_MSG,
        AutoVerifiedAttributes=["phone_number"],
    )
    body = get_raw(cognito, raw_bodies, pool_id)
    assert body["MfaConfiguration"] == "OPTIONAL"
    assert body["SmsMfaConfiguration"] == {"SmsAuthenticationMessage": SMS_MSG, "SmsConfiguration": SMS_CONFIG}
    assert_describe_agrees(cognito, pool_id, body)


def test_update_omitting_mfa_configuration_leaves_it_unchanged(cognito, raw_bodies):
    pool_id = plain_pool(cognito)
    before = set_roundtrip(
        cognito,
        raw_bodies,
        pool_id,
        expected_body("ON", totp=True),
        MfaConfiguration="ON",
        SoftwareTokenMfaConfiguration={"Enabled": True},
    )
    cognito.update_user_pool(UserPoolId=pool_id, DeletionProtection="INACTIVE")
    assert get_raw(cognito, raw_bodies, pool_id) == before
    assert cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"]["MfaConfiguration"] == "ON"


def test_update_sms_message_is_seen_by_get(cognito, raw_bodies):
    """Pool-level SmsAuthenticationMessage and SmsMfaConfiguration share one store (§2.5)."""
    pool_id = sms_pool(cognito)
    set_roundtrip(
        cognito,
        raw_bodies,
        pool_id,
        expected_body("OPTIONAL", sms={"SmsAuthenticationMessage": SMS_MSG, "SmsConfiguration": SMS_CONFIG}),
        MfaConfiguration="OPTIONAL",
        SmsMfaConfiguration={"SmsAuthenticationMessage": SMS_MSG},
    )
    new_msg = "New code: {####}"
    cognito.update_user_pool(
        UserPoolId=pool_id,
        MfaConfiguration="OPTIONAL",
        SmsConfiguration=dict(SMS_CONFIG_2),
        SmsAuthenticationMessage=new_msg,
        AutoVerifiedAttributes=["phone_number"],
    )
    body = get_raw(cognito, raw_bodies, pool_id)
    assert body["MfaConfiguration"] == "OPTIONAL"
    assert body["SmsMfaConfiguration"] == {"SmsAuthenticationMessage": new_msg, "SmsConfiguration": SMS_CONFIG_2}
    assert_describe_agrees(cognito, pool_id, body)


def test_set_mfa_config_to_on_after_create_is_allowed(cognito, raw_bodies):
    """UpdateUserPool cannot turn MFA ON, SetUserPoolMfaConfig can at any time."""
    pool_id = sms_pool(cognito)
    with pytest.raises(cognito.exceptions.InvalidParameterException):
        cognito.update_user_pool(
            UserPoolId=pool_id, MfaConfiguration="ON", SmsConfiguration=dict(SMS_CONFIG), AutoVerifiedAttributes=["phone_number"]
        )
    set_roundtrip(
        cognito,
        raw_bodies,
        pool_id,
        expected_body("ON", sms={"SmsAuthenticationMessage": SMS_MSG, "SmsConfiguration": SMS_CONFIG}),
        MfaConfiguration="ON",
        SmsMfaConfiguration={"SmsAuthenticationMessage": SMS_MSG},
    )
