"""Shared constants and helpers for the MFA-configuration and pool tests (no fixtures here)."""

from __future__ import annotations

import uuid
from typing import Any

SNS_ARN = "arn:aws:iam::123456789012:role/service-role/my-SMS-Role"
SMS_CONFIG = {
    "SnsCallerArn": SNS_ARN,
    "ExternalId": "a1b2c3d4-5678-90ab-cdef-EXAMPLE11111",
    "SnsRegion": "us-east-1",
}
SMS_CONFIG_2 = {
    "SnsCallerArn": "arn:aws:iam::000000000000:role/role-that-does-not-exist",
    "ExternalId": "another-external-id",
    "SnsRegion": "eu-west-1",
}
SES_ARN = "arn:aws:ses:us-east-1:123456789012:identity/no-reply@example.com"
EMAIL_DEVELOPER = {"EmailSendingAccount": "DEVELOPER", "SourceArn": SES_ARN, "From": "no-reply@example.com"}
EMAIL_COGNITO_DEFAULT = {"EmailSendingAccount": "COGNITO_DEFAULT"}
RECOVERY_PHONE = {"RecoveryMechanisms": [{"Priority": 1, "Name": "verified_phone_number"}]}
RECOVERY_EMAIL_ONLY = {"RecoveryMechanisms": [{"Priority": 1, "Name": "verified_email"}]}
RECOVERY_EMAIL_AND_PHONE = {
    "RecoveryMechanisms": [
        {"Priority": 1, "Name": "verified_email"},
        {"Priority": 2, "Name": "verified_phone_number"},
    ]
}
RECOVERY_ADMIN_ONLY = {"RecoveryMechanisms": [{"Priority": 1, "Name": "admin_only"}]}

SMS_MSG = "Your MFA code is {####}."
EMAIL_MSG = "Your OTP for MFA or sign-in: use {####}"
EMAIL_SUBJECT = "OTP test"

# Exact messages from the behaviour reference §2.3 / §2.5.
MSG_OFF_WITH_FACTOR = "Invalid MFA configuration given, can't turn off MFA and configure an MFA together."
MSG_NO_FACTOR = "Invalid MFA Configuration given. SMS MFA, Email MFA, or Software Token MFA must be enabled."
MSG_EMAIL_COGNITO_DEFAULT = (
    "Cannot set EmailMfaConfiguration when user pool EmailConfiguration contains an EmailSendingAccount of COGNITO_DEFAULT."
)
MSG_EMAIL_RECOVERY = (
    "Cannot set EmailMfaConfiguration when user pool AccountRecoverySetting is not set or contains only "
    "verified_email in RecoveryMechanisms."
)
MSG_PASSWORDLESS_WITH_MFA_ON = "Only PASSWORD and WEB_AUTHN (if configured) can be enabled as an auth factor if MFA is enabled"
MSG_WEBAUTHN_SINGLE_FACTOR = (
    "Cannot set WebAuthn factor configuration to SINGLE_FACTOR if MFA is required and WebAuthn is an allowed first auth factor"
)
MSG_CANT_TURN_OFF_SMS = "Can't turn off SMS_MFA when SMS configuration is set for the user pool"
MSG_CREATE_MFA_NEEDS_SMS = (
    "SMS configuration and Auto verification for phone_number are required when MFA is required/optional"
)
MSG_UPDATE_OFF_TO_ON = "Cannot turn MFA functionality ON, once the user pool has been created."
MSG_CONCURRENT = "Only one request to update this UserPool can be processed at a time"

PAT_USER_POOL_ID = r"[\w-]+_[0-9a-zA-Z]+"
PAT_SMS_MESSAGE = r".*\{####\}.*"
PAT_EMAIL_MESSAGE = r"[\p{L}\p{M}\p{S}\p{N}\p{P}\s*]*\{####\}[\p{L}\p{M}\p{S}\p{N}\p{P}\s*]*"
PAT_EMAIL_SUBJECT = r"[\p{L}\p{M}\p{S}\p{N}\p{P}\s]+"
PAT_OPTIONAL_ARN = (
    r"(arn:[\w+=/,.@-]+:[\w+=/,.@-]+:([\w+=/,.@-]*)?:[0-9]+:[\w+=/,.@-]+(:[\w+=/,.@-]+)?(:[\w+=/,.@-]+)?)?"
)
PAT_POOL_NAME = r"[\w\s+=,.@-]+"


def missing_pool_message(pool_id: str) -> str:
    return f"User pool {pool_id} does not exist."


def v_pattern(value: Any, path: str, pattern: str) -> str:
    return f"Value '{value}' at '{path}' failed to satisfy constraint: Member must satisfy regular expression pattern: {pattern}"


def v_enum(value: Any, path: str, allowed: list[str]) -> str:
    return f"Value '{value}' at '{path}' failed to satisfy constraint: Member must satisfy enum value set: [{', '.join(allowed)}]"


def v_max_len(value: Any, path: str, n: int) -> str:
    return f"Value '{value}' at '{path}' failed to satisfy constraint: Member must have length less than or equal to {n}"


def v_min_len(value: Any, path: str, n: int) -> str:
    return f"Value '{value}' at '{path}' failed to satisfy constraint: Member must have length greater than or equal to {n}"


def v_min_value(value: Any, path: str, n: int) -> str:
    return f"Value '{value}' at '{path}' failed to satisfy constraint: Member must have value greater than or equal to {n}"


def v_max_value(value: Any, path: str, n: int) -> str:
    return f"Value '{value}' at '{path}' failed to satisfy constraint: Member must have value less than or equal to {n}"


def v_null(path: str) -> str:
    return f"Value null at '{path}' failed to satisfy constraint: Member must not be null"


def one_error(detail: str) -> str:
    return f"1 validation error detected: {detail}"


def unique_name(prefix: str = "pool") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def create_pool(client, **kw) -> str:
    kw.setdefault("PoolName", unique_name())
    return client.create_user_pool(**kw)["UserPool"]["Id"]


def plain_pool(client, **kw) -> str:
    """No SmsConfiguration, no EmailConfiguration (COGNITO_DEFAULT), default tier."""
    return create_pool(client, **kw)


def sms_pool(client, sms_config: dict | None = None, **kw) -> str:
    kw.setdefault("AutoVerifiedAttributes", ["phone_number"])
    return create_pool(client, SmsConfiguration=dict(sms_config or SMS_CONFIG), **kw)


def email_pool(client, recovery: dict | None = None, **kw) -> str:
    """A pool that may use email MFA: DEVELOPER sending account and non-email-only recovery."""
    return create_pool(
        client,
        EmailConfiguration=dict(EMAIL_DEVELOPER),
        AccountRecoverySetting=recovery or RECOVERY_PHONE,
        **kw,
    )


def expected_body(
    mfa: str,
    *,
    sms: dict | None = None,
    totp: bool | None = None,
    email: dict | None = None,
    webauthn: dict | None = None,
) -> dict:
    """The exact GetUserPoolMfaConfig / SetUserPoolMfaConfig JSON body the contract requires."""
    body: dict[str, Any] = {"MfaConfiguration": mfa}
    if sms is not None:
        body["SmsMfaConfiguration"] = sms
    if totp is not None:
        body["SoftwareTokenMfaConfiguration"] = {"Enabled": totp}
    if email is not None:
        body["EmailMfaConfiguration"] = email
    if webauthn is not None:
        body["WebAuthnConfiguration"] = webauthn
    elif mfa in ("ON", "OPTIONAL"):
        body["WebAuthnConfiguration"] = {"FactorConfiguration": "SINGLE_FACTOR"}
    return body
