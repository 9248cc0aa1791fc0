"""MFA at sign-in, driven by boto3 the way an app's own test suite would (README "Testing your
app's MFA", docs/compatibility.md "MFA at sign-in"):

- TOTP enrollment with an access token (AssociateSoftwareToken / VerifySoftwareToken /
  SetUserMFAPreference), then USER_PASSWORD_AUTH -> SOFTWARE_TOKEN_MFA -> tokens; a TOTP code is
  accepted once.
- SMS MFA with the code read from the outbox (masked CODE_DELIVERY_DESTINATION, the pool's
  SmsAuthenticationMessage).
- SELECT_MFA_TYPE, MFA_SETUP through AssociateSoftwareToken(Session) /
  VerifySoftwareToken(Session) / RespondToAuthChallenge(MFA_SETUP), and the admin flow.
- GetUser's UserMFASettingList / PreferredMfaSetting.

TOTP codes are computed with pyotp for explicit 30 s steps: the server accepts the previous, the
current and the next step, each at most once per user, so every user enrolls with the current
step and signs in with the next one, and no test has to wait for the clock.
"""

from __future__ import annotations

import json
import re
import time

import pyotp
import pytest
import requests

from conftest import ServerProcess, make_client, unique_name

PASSWORD = "Correct-Horse-9"
TEMP_PASSWORD = "Temp-Pass-123"
PHONE = "+15555550100"
MASKED_PHONE = "+*******0100"
SMS_CONFIG = {"SnsCallerArn": "arn:aws:iam::123456789012:role/sms", "ExternalId": "cognito-mfa-tests"}
SMS_MESSAGE = "Your sign-in code for the test app is {####}."
CODE_MISMATCH = "Invalid code or auth state for the user."
STEP = 30


# --------------------------------------------------------------------------------------
# Fixtures: one server (fast password hashing) and one boto3 client for the module
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mfa_server(tmp_path_factory):
    base = tmp_path_factory.mktemp("mfa-signin-server")
    srv = ServerProcess(base / "data", ["--password-hash", "fast"], log_dir=base).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def idp(mfa_server):
    return make_client(mfa_server)


# --------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------


class Authenticator:
    """An authenticator app for one secret that never reuses a time step.

    `code()` gives the code for the current step, or for the step after the last one used when
    that one is already spent (the server accepts one step ahead), waiting only if even that is
    spent.
    """

    def __init__(self, secret: str):
        self.secret = secret
        self.totp = pyotp.TOTP(secret)  # RFC 6238 defaults: HMAC-SHA1, 6 digits, 30 s
        self.last_step: int | None = None

    def code(self) -> str:
        while True:
            now = int(time.time()) // STEP
            step = now if self.last_step is None else max(now, self.last_step + 1)
            if step <= now + 1:
                self.last_step = step
                return self.totp.at(step * STEP)
            time.sleep((now + 1) * STEP - time.time() + 0.05)

    def wrong_code(self) -> str:
        """Six digits that match none of the steps the server would accept now."""
        now = int(time.time()) // STEP
        valid = {self.totp.at(s * STEP) for s in range(now - 2, now + 3)}
        return next(c for c in ("000000", "111111", "123456", "999999") if c not in valid)


class Pool:
    def __init__(self, idp, url: str, mfa: str, *, sms: bool = False, totp: bool = True):
        self.idp = idp
        self.url = url
        kw = {"PoolName": unique_name("mfa-signin")}
        if sms:
            kw.update(SmsConfiguration=dict(SMS_CONFIG), AutoVerifiedAttributes=["phone_number"])
        self.id = idp.create_user_pool(**kw)["UserPool"]["Id"]
        cfg = {"UserPoolId": self.id, "MfaConfiguration": mfa, "SoftwareTokenMfaConfiguration": {"Enabled": totp}}
        if sms:
            cfg["SmsMfaConfiguration"] = {"SmsConfiguration": dict(SMS_CONFIG), "SmsAuthenticationMessage": SMS_MESSAGE}
        got = idp.set_user_pool_mfa_config(**cfg)
        assert got["MfaConfiguration"] == mfa, got
        self.client_id = idp.create_user_pool_client(
            UserPoolId=self.id,
            ClientName="app",
            ExplicitAuthFlows=[
                "ALLOW_USER_PASSWORD_AUTH",
                "ALLOW_ADMIN_USER_PASSWORD_AUTH",
                "ALLOW_REFRESH_TOKEN_AUTH",
            ],
        )["UserPoolClient"]["ClientId"]

    def user(self, prefix: str = "user", phone: str | None = None) -> str:
        """AdminCreateUser + AdminSetUserPassword(Permanent): a CONFIRMED user."""
        username = unique_name(prefix)
        attrs = [{"Name": "phone_number", "Value": phone}] if phone else []
        self.idp.admin_create_user(
            UserPoolId=self.id,
            Username=username,
            TemporaryPassword=TEMP_PASSWORD,
            MessageAction="SUPPRESS",
            UserAttributes=attrs,
        )
        self.idp.admin_set_user_password(UserPoolId=self.id, Username=username, Password=PASSWORD, Permanent=True)
        return username

    def password_auth(self, username: str) -> dict:
        return self.idp.initiate_auth(
            ClientId=self.client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": PASSWORD},
        )

    def respond(self, challenge: str, session: str, username: str, **responses) -> dict:
        return self.idp.respond_to_auth_challenge(
            ClientId=self.client_id,
            ChallengeName=challenge,
            Session=session,
            ChallengeResponses={"USERNAME": username, **responses},
        )

    def outbox(self, username: str) -> list[dict]:
        resp = requests.get(
            f"{self.url}/_cognito-mfa/outbox", params={"pool_id": self.id, "username": username}, timeout=10
        )
        assert resp.status_code == 200, resp.text
        return resp.json()["messages"]

    def sms_code(self, username: str) -> tuple[str, dict]:
        """The code in the newest SMS to `username`, and the message."""
        messages = self.outbox(username)
        assert messages, f"no outbox message for {username}"
        msg = messages[0]
        assert msg["channel"] == "SMS", msg
        m = re.fullmatch(re.escape(SMS_MESSAGE).replace(re.escape("{####}"), r"(\d{6})"), msg["body"])
        assert m, f"SMS body {msg['body']!r} is not the pool's SmsAuthenticationMessage with a 6-digit code"
        return m.group(1), msg


def tokens_of(resp: dict) -> dict:
    """The AuthenticationResult of a response that must not be a challenge."""
    assert "ChallengeName" not in resp, {k: v for k, v in resp.items() if k != "ResponseMetadata"}
    assert "Session" not in resp, resp
    result = resp["AuthenticationResult"]
    for name in ("AccessToken", "IdToken", "RefreshToken"):
        assert isinstance(result.get(name), str) and result[name], result
    assert result["TokenType"] == "Bearer"
    return result


def challenge_of(resp: dict, name: str) -> tuple[str, dict]:
    """(Session, ChallengeParameters) of a response that must be challenge `name`."""
    assert resp.get("ChallengeName") == name, {k: v for k, v in resp.items() if k != "ResponseMetadata"}
    assert "AuthenticationResult" not in resp, resp
    assert isinstance(resp.get("Session"), str) and resp["Session"], resp
    return resp["Session"], resp["ChallengeParameters"]


def enroll_totp(idp, access_token: str, device: str | None = "My phone") -> Authenticator:
    """AssociateSoftwareToken + VerifySoftwareToken with an access token."""
    secret = idp.associate_software_token(AccessToken=access_token)["SecretCode"]
    assert re.fullmatch(r"[A-Z2-7]+=*", secret) and len(secret) >= 16, secret
    app = Authenticator(secret)
    kw = {"AccessToken": access_token, "UserCode": app.code()}
    if device is not None:
        kw["FriendlyDeviceName"] = device
    resp = idp.verify_software_token(**kw)
    assert resp["Status"] == "SUCCESS", resp
    return app


def signed_in_with_totp(pool: Pool, username: str) -> Authenticator:
    """Signs in (no MFA yet), enrolls an authenticator and makes it the preferred factor."""
    access = tokens_of(pool.password_auth(username))["AccessToken"]
    app = enroll_totp(pool.idp, access)
    pool.idp.set_user_mfa_preference(
        AccessToken=access, SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True}
    )
    return app


def assert_code_mismatch(excinfo):
    err = excinfo.value.response["Error"]
    assert err["Code"] == "CodeMismatchException", err
    assert err["Message"] == CODE_MISMATCH, err


def user_attrs(idp, access_token: str) -> dict:
    user = idp.get_user(AccessToken=access_token)
    return {a["Name"]: a["Value"] for a in user["UserAttributes"]}


# --------------------------------------------------------------------------------------
# TOTP
# --------------------------------------------------------------------------------------


def test_optional_pool_totp_enrollment_then_sign_in(mfa_server, idp):
    pool = Pool(idp, mfa_server.url, "OPTIONAL")
    username = pool.user("totp")

    # OPTIONAL and no factor yet: tokens straight away.
    access = tokens_of(pool.password_auth(username))["AccessToken"]
    before = idp.get_user(AccessToken=access)
    assert before.get("UserMFASettingList", []) == [], before
    assert "PreferredMfaSetting" not in before, before

    app = enroll_totp(idp, access, device="My phone")
    assert idp.set_user_mfa_preference(
        AccessToken=access, SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True}
    )["ResponseMetadata"]["HTTPStatusCode"] == 200
    after = idp.get_user(AccessToken=access)
    assert after["UserMFASettingList"] == ["SOFTWARE_TOKEN_MFA"], after
    assert after["PreferredMfaSetting"] == "SOFTWARE_TOKEN_MFA", after

    # The password alone no longer gives tokens.
    session, params = challenge_of(pool.password_auth(username), "SOFTWARE_TOKEN_MFA")
    assert params["USER_ID_FOR_SRP"] == username, params
    assert params["FRIENDLY_DEVICE_NAME"] == "My phone", params
    code = app.code()
    result = tokens_of(pool.respond("SOFTWARE_TOKEN_MFA", session, username, SOFTWARE_TOKEN_MFA_CODE=code))
    assert idp.get_user(AccessToken=result["AccessToken"])["Username"] == username

    # The same code (the same time step) is refused on a new sign-in, with AWS's answer.
    session, _ = challenge_of(pool.password_auth(username), "SOFTWARE_TOKEN_MFA")
    with pytest.raises(idp.exceptions.ExpiredCodeException) as excinfo:
        pool.respond("SOFTWARE_TOKEN_MFA", session, username, SOFTWARE_TOKEN_MFA_CODE=code)
    assert excinfo.value.response["Error"]["Message"] == "Your software token has already been used once."


def test_totp_session_is_single_use(mfa_server, idp):
    pool = Pool(idp, mfa_server.url, "OPTIONAL")
    username = pool.user("once")
    app = signed_in_with_totp(pool, username)
    session, _ = challenge_of(pool.password_auth(username), "SOFTWARE_TOKEN_MFA")
    tokens_of(pool.respond("SOFTWARE_TOKEN_MFA", session, username, SOFTWARE_TOKEN_MFA_CODE=app.code()))
    with pytest.raises(idp.exceptions.NotAuthorizedException):
        pool.respond("SOFTWARE_TOKEN_MFA", session, username, SOFTWARE_TOKEN_MFA_CODE=app.wrong_code())


def test_wrong_totp_code_then_the_right_one_on_the_same_session(mfa_server, idp):
    pool = Pool(idp, mfa_server.url, "OPTIONAL")
    username = pool.user("retry")
    app = signed_in_with_totp(pool, username)
    session, _ = challenge_of(pool.password_auth(username), "SOFTWARE_TOKEN_MFA")
    with pytest.raises(idp.exceptions.CodeMismatchException) as excinfo:
        pool.respond("SOFTWARE_TOKEN_MFA", session, username, SOFTWARE_TOKEN_MFA_CODE=app.wrong_code())
    assert_code_mismatch(excinfo)
    tokens_of(pool.respond("SOFTWARE_TOKEN_MFA", session, username, SOFTWARE_TOKEN_MFA_CODE=app.code()))


def test_wrong_code_at_verify_software_token(mfa_server, idp):
    pool = Pool(idp, mfa_server.url, "OPTIONAL")
    username = pool.user("badverify")
    access = tokens_of(pool.password_auth(username))["AccessToken"]
    app = Authenticator(idp.associate_software_token(AccessToken=access)["SecretCode"])
    with pytest.raises(idp.exceptions.EnableSoftwareTokenMFAException):
        idp.verify_software_token(AccessToken=access, UserCode=app.wrong_code())
    # Nothing was registered: still no MFA at sign-in.
    tokens_of(pool.password_auth(username))
    assert idp.get_user(AccessToken=access).get("UserMFASettingList", []) == []
    # The right code still registers the pending secret.
    assert idp.verify_software_token(AccessToken=access, UserCode=app.code())["Status"] == "SUCCESS"
    _, params = challenge_of(pool.password_auth(username), "SOFTWARE_TOKEN_MFA")
    # No FriendlyDeviceName given: the server's documented placeholder.
    assert params["FRIENDLY_DEVICE_NAME"] == "Unknown", params


def test_on_pool_user_with_authenticator_is_challenged(mfa_server, idp):
    pool = Pool(idp, mfa_server.url, "ON")
    username = pool.user("on")
    session, params = challenge_of(pool.password_auth(username), "MFA_SETUP")
    secret = idp.associate_software_token(Session=session)
    app = Authenticator(secret["SecretCode"])
    done = idp.verify_software_token(Session=secret["Session"], UserCode=app.code(), FriendlyDeviceName="Work phone")
    tokens_of(pool.respond("MFA_SETUP", done["Session"], username))

    session, params = challenge_of(pool.password_auth(username), "SOFTWARE_TOKEN_MFA")
    assert params["FRIENDLY_DEVICE_NAME"] == "Work phone", params
    result = tokens_of(pool.respond("SOFTWARE_TOKEN_MFA", session, username, SOFTWARE_TOKEN_MFA_CODE=app.code()))
    assert idp.get_user(AccessToken=result["AccessToken"])["Username"] == username


# --------------------------------------------------------------------------------------
# MFA_SETUP
# --------------------------------------------------------------------------------------


def test_mfa_setup_with_session(mfa_server, idp):
    pool = Pool(idp, mfa_server.url, "ON")
    username = pool.user("setup")

    session, params = challenge_of(pool.password_auth(username), "MFA_SETUP")
    assert params["USER_ID_FOR_SRP"] == username, params
    assert json.loads(params["MFAS_CAN_SETUP"]) == ["SOFTWARE_TOKEN_MFA"], params

    associated = idp.associate_software_token(Session=session)
    assert set(associated) >= {"SecretCode", "Session"}, associated
    assert "Session" in associated and associated["Session"] != session
    app = Authenticator(associated["SecretCode"])

    # A wrong code leaves the Session usable.
    with pytest.raises(idp.exceptions.EnableSoftwareTokenMFAException):
        idp.verify_software_token(Session=associated["Session"], UserCode=app.wrong_code())
    verified = idp.verify_software_token(Session=associated["Session"], UserCode=app.code(), FriendlyDeviceName="Laptop")
    assert verified["Status"] == "SUCCESS", verified
    assert isinstance(verified.get("Session"), str) and verified["Session"], verified

    result = tokens_of(pool.respond("MFA_SETUP", verified["Session"], username))
    user = idp.get_user(AccessToken=result["AccessToken"])
    assert user["UserMFASettingList"] == ["SOFTWARE_TOKEN_MFA"], user
    # MFA_SETUP enables the authenticator but does not make it preferred (docs/compatibility.md).
    assert "PreferredMfaSetting" not in user, user

    # The setup Session is spent.
    with pytest.raises(idp.exceptions.NotAuthorizedException):
        pool.respond("MFA_SETUP", verified["Session"], username)


def test_mfa_setup_session_cannot_skip_verification(mfa_server, idp):
    pool = Pool(idp, mfa_server.url, "ON")
    username = pool.user("skip")
    session, _ = challenge_of(pool.password_auth(username), "MFA_SETUP")
    associated = idp.associate_software_token(Session=session)
    # Answering MFA_SETUP without a verified authenticator gives no tokens.
    with pytest.raises(idp.exceptions.InvalidParameterException):
        pool.respond("MFA_SETUP", associated["Session"], username)
    # Still nothing registered: the next sign-in asks for set-up again.
    challenge_of(pool.password_auth(username), "MFA_SETUP")


# --------------------------------------------------------------------------------------
# SMS
# --------------------------------------------------------------------------------------


def test_sms_mfa_on_pool_code_from_the_outbox(mfa_server, idp):
    pool = Pool(idp, mfa_server.url, "ON", sms=True, totp=False)
    username = pool.user("sms", phone=PHONE)

    session, params = challenge_of(pool.password_auth(username), "SMS_MFA")
    assert params["CODE_DELIVERY_DELIVERY_MEDIUM"] == "SMS", params
    assert params["CODE_DELIVERY_DESTINATION"] == MASKED_PHONE, params
    assert params["USER_ID_FOR_SRP"] == username, params
    code, msg = pool.sms_code(username)
    assert msg["destination"] == PHONE, msg
    assert msg["body"] == SMS_MESSAGE.replace("{####}", code), msg

    wrong = "000000" if code != "000000" else "111111"
    with pytest.raises(idp.exceptions.CodeMismatchException) as excinfo:
        pool.respond("SMS_MFA", session, username, SMS_MFA_CODE=wrong)
    assert_code_mismatch(excinfo)
    # A wrong answer sends no new code; the first code still works on the same session.
    assert pool.sms_code(username)[0] == code
    result = tokens_of(pool.respond("SMS_MFA", session, username, SMS_MFA_CODE=code))
    # A code that reached the phone proves the number.
    assert user_attrs(idp, result["AccessToken"])["phone_number_verified"] == "true"

    # Every sign-in sends a fresh code; the old one is not valid for the new session.
    session2, _ = challenge_of(pool.password_auth(username), "SMS_MFA")
    code2, _ = pool.sms_code(username)
    assert len(pool.outbox(username)) == 2
    if code2 != code:
        with pytest.raises(idp.exceptions.CodeMismatchException):
            pool.respond("SMS_MFA", session2, username, SMS_MFA_CODE=code)
    tokens_of(pool.respond("SMS_MFA", session2, username, SMS_MFA_CODE=code2))


def test_sms_mfa_in_optional_pool_once_the_user_enables_it(mfa_server, idp):
    pool = Pool(idp, mfa_server.url, "OPTIONAL", sms=True)
    username = pool.user("optsms", phone=PHONE)
    access = tokens_of(pool.password_auth(username))["AccessToken"]
    assert pool.outbox(username) == []

    idp.set_user_mfa_preference(AccessToken=access, SMSMfaSettings={"Enabled": True})
    user = idp.get_user(AccessToken=access)
    assert user["UserMFASettingList"] == ["SMS_MFA"], user

    session, params = challenge_of(pool.password_auth(username), "SMS_MFA")
    assert params["CODE_DELIVERY_DESTINATION"] == MASKED_PHONE, params
    code, _ = pool.sms_code(username)
    tokens_of(pool.respond("SMS_MFA", session, username, SMS_MFA_CODE=code))


# --------------------------------------------------------------------------------------
# SELECT_MFA_TYPE and preferences
# --------------------------------------------------------------------------------------


def test_select_mfa_type(mfa_server, idp):
    pool = Pool(idp, mfa_server.url, "OPTIONAL", sms=True)
    username = pool.user("select", phone=PHONE)
    access = tokens_of(pool.password_auth(username))["AccessToken"]
    app = enroll_totp(idp, access)
    idp.set_user_mfa_preference(
        AccessToken=access,
        SMSMfaSettings={"Enabled": True, "PreferredMfa": False},
        SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": False},
    )
    user = idp.get_user(AccessToken=access)
    assert sorted(user["UserMFASettingList"]) == ["SMS_MFA", "SOFTWARE_TOKEN_MFA"], user
    assert "PreferredMfaSetting" not in user, user

    # Two enabled factors and no preference: the user chooses. TOTP first.
    session, params = challenge_of(pool.password_auth(username), "SELECT_MFA_TYPE")
    assert sorted(json.loads(params["MFAS_CAN_CHOOSE"])) == ["SMS_MFA", "SOFTWARE_TOKEN_MFA"], params
    assert params["USER_ID_FOR_SRP"] == username, params
    session, params = challenge_of(
        pool.respond("SELECT_MFA_TYPE", session, username, ANSWER="SOFTWARE_TOKEN_MFA"), "SOFTWARE_TOKEN_MFA"
    )
    assert params["FRIENDLY_DEVICE_NAME"] == "My phone", params
    assert pool.outbox(username) == [], "choosing TOTP must not send an SMS"
    tokens_of(pool.respond("SOFTWARE_TOKEN_MFA", session, username, SOFTWARE_TOKEN_MFA_CODE=app.code()))

    # Then SMS.
    session, _ = challenge_of(pool.password_auth(username), "SELECT_MFA_TYPE")
    session, params = challenge_of(pool.respond("SELECT_MFA_TYPE", session, username, ANSWER="SMS_MFA"), "SMS_MFA")
    assert params["CODE_DELIVERY_DESTINATION"] == MASKED_PHONE, params
    code, _ = pool.sms_code(username)
    tokens_of(pool.respond("SMS_MFA", session, username, SMS_MFA_CODE=code))

    # A preference ends the choice.
    idp.set_user_mfa_preference(AccessToken=access, SMSMfaSettings={"Enabled": True, "PreferredMfa": True})
    assert idp.get_user(AccessToken=access)["PreferredMfaSetting"] == "SMS_MFA"
    challenge_of(pool.password_auth(username), "SMS_MFA")


def test_select_mfa_type_rejects_an_unoffered_answer(mfa_server, idp):
    pool = Pool(idp, mfa_server.url, "OPTIONAL", sms=True)
    username = pool.user("badselect", phone=PHONE)
    access = tokens_of(pool.password_auth(username))["AccessToken"]
    enroll_totp(idp, access)
    idp.set_user_mfa_preference(
        AccessToken=access, SMSMfaSettings={"Enabled": True}, SoftwareTokenMfaSettings={"Enabled": True}
    )
    session, _ = challenge_of(pool.password_auth(username), "SELECT_MFA_TYPE")
    with pytest.raises(idp.exceptions.InvalidParameterException):
        pool.respond("SELECT_MFA_TYPE", session, username, ANSWER="EMAIL_OTP")


# --------------------------------------------------------------------------------------
# Admin flow
# --------------------------------------------------------------------------------------


def test_admin_user_password_auth_is_challenged_too(mfa_server, idp):
    pool = Pool(idp, mfa_server.url, "OPTIONAL", sms=True)

    # TOTP.
    username = pool.user("admintotp")
    app = signed_in_with_totp(pool, username)
    resp = idp.admin_initiate_auth(
        UserPoolId=pool.id,
        ClientId=pool.client_id,
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": PASSWORD},
    )
    session, _ = challenge_of(resp, "SOFTWARE_TOKEN_MFA")
    with pytest.raises(idp.exceptions.CodeMismatchException) as excinfo:
        idp.admin_respond_to_auth_challenge(
            UserPoolId=pool.id,
            ClientId=pool.client_id,
            ChallengeName="SOFTWARE_TOKEN_MFA",
            Session=session,
            ChallengeResponses={"USERNAME": username, "SOFTWARE_TOKEN_MFA_CODE": app.wrong_code()},
        )
    assert_code_mismatch(excinfo)
    tokens_of(
        idp.admin_respond_to_auth_challenge(
            UserPoolId=pool.id,
            ClientId=pool.client_id,
            ChallengeName="SOFTWARE_TOKEN_MFA",
            Session=session,
            ChallengeResponses={"USERNAME": username, "SOFTWARE_TOKEN_MFA_CODE": app.code()},
        )
    )

    # SMS, enabled by the admin.
    username = pool.user("adminsms", phone=PHONE)
    idp.admin_set_user_mfa_preference(
        UserPoolId=pool.id, Username=username, SMSMfaSettings={"Enabled": True, "PreferredMfa": True}
    )
    admin_user = idp.admin_get_user(UserPoolId=pool.id, Username=username)
    assert admin_user["UserMFASettingList"] == ["SMS_MFA"], admin_user
    assert admin_user["PreferredMfaSetting"] == "SMS_MFA", admin_user
    resp = idp.admin_initiate_auth(
        UserPoolId=pool.id,
        ClientId=pool.client_id,
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": PASSWORD},
    )
    session, params = challenge_of(resp, "SMS_MFA")
    assert params["CODE_DELIVERY_DESTINATION"] == MASKED_PHONE, params
    code, _ = pool.sms_code(username)
    tokens_of(
        idp.admin_respond_to_auth_challenge(
            UserPoolId=pool.id,
            ClientId=pool.client_id,
            ChallengeName="SMS_MFA",
            Session=session,
            ChallengeResponses={"USERNAME": username, "SMS_MFA_CODE": code},
        )
    )


def test_refresh_token_auth_is_not_challenged(mfa_server, idp):
    """MFA guards sign-in; refreshing tokens of an MFA-authenticated session needs no code."""
    pool = Pool(idp, mfa_server.url, "OPTIONAL")
    username = pool.user("refresh")
    app = signed_in_with_totp(pool, username)
    session, _ = challenge_of(pool.password_auth(username), "SOFTWARE_TOKEN_MFA")
    refresh = tokens_of(pool.respond("SOFTWARE_TOKEN_MFA", session, username, SOFTWARE_TOKEN_MFA_CODE=app.code()))[
        "RefreshToken"
    ]
    resp = idp.initiate_auth(
        ClientId=pool.client_id, AuthFlow="REFRESH_TOKEN_AUTH", AuthParameters={"REFRESH_TOKEN": refresh}
    )
    assert "ChallengeName" not in resp, resp
    assert resp["AuthenticationResult"]["AccessToken"]


# --------------------------------------------------------------------------------------
# MFA after NEW_PASSWORD_REQUIRED, and right after a confirmed sign-up
# --------------------------------------------------------------------------------------


def test_new_password_required_is_followed_by_mfa(mfa_server, idp):
    pool = Pool(idp, mfa_server.url, "ON", sms=True, totp=False)
    username = unique_name("newpw")
    idp.admin_create_user(
        UserPoolId=pool.id,
        Username=username,
        TemporaryPassword=TEMP_PASSWORD,
        MessageAction="SUPPRESS",
        UserAttributes=[{"Name": "phone_number", "Value": PHONE}],
    )
    resp = idp.initiate_auth(
        ClientId=pool.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": TEMP_PASSWORD},
    )
    session, _ = challenge_of(resp, "NEW_PASSWORD_REQUIRED")
    session, params = challenge_of(
        pool.respond("NEW_PASSWORD_REQUIRED", session, username, NEW_PASSWORD=PASSWORD), "SMS_MFA"
    )
    assert params["CODE_DELIVERY_DESTINATION"] == MASKED_PHONE, params
    code, _ = pool.sms_code(username)
    tokens_of(pool.respond("SMS_MFA", session, username, SMS_MFA_CODE=code))
    # The new password is the password now, and it is still guarded by MFA.
    challenge_of(pool.password_auth(username), "SMS_MFA")


def test_confirmed_sign_up_skips_mfa_once(mfa_server, idp):
    """ON pool: the first sign-in right after ConfirmSignUp (the code proved the phone) gives
    tokens; the next one is challenged (docs/compatibility.md)."""
    pool = Pool(idp, mfa_server.url, "ON", sms=True, totp=False)
    username = unique_name("signup")
    idp.sign_up(
        ClientId=pool.client_id,
        Username=username,
        Password=PASSWORD,
        UserAttributes=[{"Name": "phone_number", "Value": PHONE}],
    )
    messages = pool.outbox(username)
    assert messages and messages[0]["channel"] == "SMS", messages
    code = re.search(r"\b(\d{6})\b", messages[0]["body"]).group(1)
    idp.confirm_sign_up(ClientId=pool.client_id, Username=username, ConfirmationCode=code)
    tokens_of(pool.password_auth(username))
    challenge_of(pool.password_auth(username), "SMS_MFA")
