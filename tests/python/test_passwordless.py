"""Passwordless sign-in from boto3 (README "Passwordless sign-in"): SignUp without a password in a
pool that allows EMAIL_OTP as a first factor, ConfirmSignUp with the code from the outbox, then
InitiateAuth USER_AUTH with ConfirmSignUp's Session (no second code), and later sign-ins with
EMAIL_OTP; SELECT_CHALLENGE; GetUserAuthFactors.
"""

from __future__ import annotations

import re

import botocore.exceptions
import pytest
import requests

from conftest import ServerProcess, make_client, unique_name


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    base = tmp_path_factory.mktemp("passwordless-server")
    s = ServerProcess(base / "data", ["--password-hash", "fast"], log_dir=base).start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def idp(srv):
    return make_client(srv)


def outbox(srv, pool_id: str, username: str) -> list[dict]:
    r = requests.get(f"{srv.url}/_cognito-mfa/outbox", params={"pool_id": pool_id, "username": username}, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["messages"]


def code_in(message: dict, digits: int) -> str:
    runs = re.findall(r"\d+", message["body"])
    assert len(runs) == 1 and len(runs[0]) == digits, message
    return runs[0]


@pytest.fixture(scope="module")
def pool(idp):
    pool_id = idp.create_user_pool(
        PoolName=unique_name("passwordless"),
        AutoVerifiedAttributes=["email"],
        UsernameAttributes=["email"],
        Policies={"SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD", "EMAIL_OTP"]}},
    )["UserPool"]["Id"]
    client_id = idp.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="app",
        ExplicitAuthFlows=["ALLOW_USER_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    return pool_id, client_id


def test_sign_up_without_a_password_then_sign_in_with_the_confirm_session_and_email_codes(srv, idp, pool):
    pool_id, client_id = pool
    email = f"{unique_name('pl')}@example.com"
    up = idp.sign_up(ClientId=client_id, Username=email, UserAttributes=[{"Name": "email", "Value": email}])
    assert up["UserConfirmed"] is False
    assert up["CodeDeliveryDetails"]["DeliveryMedium"] == "EMAIL"
    # Pools that sign in with email name users by a UUID; the outbox is keyed by that name.
    username = idp.admin_get_user(UserPoolId=pool_id, Username=email)["Username"]
    code = code_in(outbox(srv, pool_id, username)[0], 6)

    confirmed = idp.confirm_sign_up(ClientId=client_id, Username=email, ConfirmationCode=code)
    session = confirmed["Session"]
    assert len(session) >= 20

    # Amplify's auto sign-in: USER_AUTH with the Session, and tokens without asking again.
    signed_in = idp.initiate_auth(
        ClientId=client_id, AuthFlow="USER_AUTH", AuthParameters={"USERNAME": email}, Session=session
    )
    assert "ChallengeName" not in signed_in, signed_in
    tokens = signed_in["AuthenticationResult"]
    assert tokens["AccessToken"] and tokens["IdToken"] and tokens["RefreshToken"]
    with pytest.raises(botocore.exceptions.ClientError) as used:
        idp.initiate_auth(ClientId=client_id, AuthFlow="USER_AUTH", AuthParameters={"USERNAME": email}, Session=session)
    assert used.value.response["Error"]["Code"] == "NotAuthorizedException"

    # Later: an email code as the first factor, 8 digits, masked destination.
    start = idp.initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_AUTH",
        AuthParameters={"USERNAME": email, "PREFERRED_CHALLENGE": "EMAIL_OTP"},
    )
    assert start["ChallengeName"] == "EMAIL_OTP"
    assert start["ChallengeParameters"]["CODE_DELIVERY_DELIVERY_MEDIUM"] == "EMAIL"
    assert re.fullmatch(r"\w\*\*\*@e\*\*\*", start["ChallengeParameters"]["CODE_DELIVERY_DESTINATION"])
    assert start["AvailableChallenges"] == ["EMAIL_OTP"], "no password: the email code only"
    message = outbox(srv, pool_id, username)[0]
    assert message["purpose"] == "EMAIL_OTP"
    otp = code_in(message, 8)
    done = idp.respond_to_auth_challenge(
        ClientId=client_id,
        ChallengeName="EMAIL_OTP",
        Session=start["Session"],
        ChallengeResponses={"USERNAME": email, "EMAIL_OTP_CODE": otp},
    )
    access = done["AuthenticationResult"]["AccessToken"]
    factors = idp.get_user_auth_factors(AccessToken=access)
    assert factors["ConfiguredUserAuthFactors"] == ["EMAIL_OTP"]
    assert idp.get_user(AccessToken=access)["Username"] == username


def test_select_challenge_for_a_user_with_a_password_and_an_email(srv, idp, pool):
    pool_id, client_id = pool
    email = f"{unique_name('both')}@example.com"
    idp.admin_create_user(
        UserPoolId=pool_id,
        Username=email,
        MessageAction="SUPPRESS",
        UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}],
    )
    idp.admin_set_user_password(UserPoolId=pool_id, Username=email, Password="Both-Passw0rd!", Permanent=True)
    select = idp.initiate_auth(ClientId=client_id, AuthFlow="USER_AUTH", AuthParameters={"USERNAME": email})
    assert select["ChallengeName"] == "SELECT_CHALLENGE"
    assert select["AvailableChallenges"] == ["PASSWORD", "PASSWORD_SRP", "EMAIL_OTP"]
    done = idp.respond_to_auth_challenge(
        ClientId=client_id,
        ChallengeName="SELECT_CHALLENGE",
        Session=select["Session"],
        ChallengeResponses={"USERNAME": email, "ANSWER": "PASSWORD", "PASSWORD": "Both-Passw0rd!"},
    )
    assert done["AuthenticationResult"]["AccessToken"]
    factors = idp.get_user_auth_factors(AccessToken=done["AuthenticationResult"]["AccessToken"])
    assert factors["ConfiguredUserAuthFactors"] == ["PASSWORD", "EMAIL_OTP"]


def test_sign_up_needs_a_password_where_no_passwordless_factor_is_allowed(idp):
    pool_id = idp.create_user_pool(PoolName=unique_name("pw-only"))["UserPool"]["Id"]
    client_id = idp.create_user_pool_client(UserPoolId=pool_id, ClientName="app")["UserPoolClient"]["ClientId"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        idp.sign_up(ClientId=client_id, Username="nopass")
    assert e.value.response["Error"]["Code"] == "InvalidParameterException"
