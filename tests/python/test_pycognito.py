"""Sign-in with pycognito, a widely used third-party Cognito client, unchanged.

pycognito's `AWSSRP.authenticate_user()` answers `PASSWORD_VERIFIER` without a `Session` (AWS sends
that challenge without one: the state travels in `SECRET_BLOCK`), then hands a TOTP challenge's
`Session` to `Cognito.respond_to_software_token_mfa_challenge`. Also here, from boto3: the
sign-in errors AWS gives before any password check, and MFA_SETUP's `MFAS_CAN_SETUP`.
"""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError
from pycognito import Cognito
from pycognito.aws_srp import AWSSRP
from pycognito.exceptions import SoftwareTokenMFAChallengeException

from conftest import ServerProcess, make_client, unique_name
from test_mfa_signin import PASSWORD, Authenticator, Pool, challenge_of, tokens_of

NOT_CONFIRMED = "User is not confirmed."


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    base = tmp_path_factory.mktemp("pycognito-server")
    s = ServerProcess(base / "data", ["--password-hash", "fast"], log_dir=base).start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def idp(srv):
    return make_client(srv)


def srp_client(idp, pool: Pool) -> str:
    return idp.create_user_pool_client(
        UserPoolId=pool.id,
        ClientName="pycognito",
        ExplicitAuthFlows=["ALLOW_USER_SRP_AUTH", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]


def cognito_user(srv, pool: Pool, client_id: str, username: str) -> Cognito:
    """pycognito's own client, pointed at the server; it verifies tokens against the server's JWKS
    ({endpoint}/{pool}/.well-known/jwks.json, issuer {endpoint}/{pool})."""
    return Cognito(
        pool.id,
        client_id,
        username=username,
        boto3_client_kwargs={
            "endpoint_url": srv.url,
            "aws_access_key_id": "test",
            "aws_secret_access_key": "test",
        },
    )


def test_pycognito_srp_sign_in_without_mfa(srv, idp):
    pool = Pool(idp, srv.url, "OPTIONAL")
    username = pool.user("py")
    client_id = srp_client(idp, pool)

    user = cognito_user(srv, pool, client_id, username)
    user.authenticate(password=PASSWORD)
    assert user.access_claims["username"] == username
    assert user.id_claims["cognito:username"] == username
    assert idp.get_user(AccessToken=user.access_token)["Username"] == username

    # The proof still fails for a wrong password.
    with pytest.raises(idp.exceptions.NotAuthorizedException) as excinfo:
        AWSSRP(username=username, password="Wrong-Pass-9", pool_id=pool.id, client_id=client_id, client=idp).authenticate_user()
    assert excinfo.value.response["Error"]["Message"] == "Incorrect username or password."


def test_pycognito_srp_sign_in_with_totp(srv, idp):
    pool = Pool(idp, srv.url, "OPTIONAL")
    username = pool.user("pytotp")
    client_id = srp_client(idp, pool)
    access = tokens_of(pool.password_auth(username))["AccessToken"]
    app = Authenticator(idp.associate_software_token(AccessToken=access)["SecretCode"])
    assert idp.verify_software_token(AccessToken=access, UserCode=app.code())["Status"] == "SUCCESS"
    idp.set_user_mfa_preference(AccessToken=access, SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True})

    user = cognito_user(srv, pool, client_id, username)
    with pytest.raises(SoftwareTokenMFAChallengeException):
        user.authenticate(password=PASSWORD)
    assert user.mfa_tokens["ChallengeName"] == "SOFTWARE_TOKEN_MFA"
    user.respond_to_software_token_mfa_challenge(app.code())
    assert user.access_claims["username"] == username
    assert idp.get_user(AccessToken=user.access_token)["Username"] == username

    # A wrong password never reaches the TOTP step (pycognito's own client raises it).
    with pytest.raises(ClientError) as excinfo:
        cognito_user(srv, pool, client_id, username).authenticate(password="Wrong-Pass-9")
    assert excinfo.value.response["Error"]["Code"] == "NotAuthorizedException"


def test_password_verifier_reply_has_no_session_and_the_aws_keys(srv, idp):
    pool = Pool(idp, srv.url, "OPTIONAL")
    username = pool.user("keys")
    client_id = srp_client(idp, pool)
    aws = AWSSRP(username=username, password=PASSWORD, pool_id=pool.id, client_id=client_id, client=idp)
    resp = idp.initiate_auth(AuthFlow="USER_SRP_AUTH", AuthParameters=aws.get_auth_params(), ClientId=client_id)
    assert resp["ChallengeName"] == "PASSWORD_VERIFIER"
    assert "Session" not in resp, resp
    assert sorted(resp["ChallengeParameters"]) == ["SALT", "SECRET_BLOCK", "SRP_B", "USERNAME", "USER_ID_FOR_SRP"]


def test_unconfirmed_user_is_told_before_the_password_is_checked(srv, idp):
    pool = Pool(idp, srv.url, "OPTIONAL")
    client_id = srp_client(idp, pool)
    username = unique_name("pending")
    idp.sign_up(ClientId=client_id, Username=username, Password=PASSWORD)
    for password in (PASSWORD, "Wrong-Pass-9"):
        with pytest.raises(idp.exceptions.UserNotConfirmedException) as excinfo:
            idp.initiate_auth(
                ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH", AuthParameters={"USERNAME": username, "PASSWORD": password}
            )
        assert excinfo.value.response["Error"]["Message"] == NOT_CONFIRMED
        with pytest.raises(idp.exceptions.UserNotConfirmedException):
            idp.admin_initiate_auth(
                UserPoolId=pool.id,
                ClientId=pool.client_id,
                AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": username, "PASSWORD": password},
            )
    with pytest.raises(idp.exceptions.UserNotConfirmedException) as excinfo:
        AWSSRP(username=username, password="Wrong-Pass-9", pool_id=pool.id, client_id=client_id, client=idp).authenticate_user()
    assert excinfo.value.response["Error"]["Message"] == NOT_CONFIRMED


def test_mfa_setup_lists_sms_next_to_totp(srv, idp):
    pool = Pool(idp, srv.url, "ON", sms=True)
    username = pool.user("nophone")
    _, params = challenge_of(pool.password_auth(username), "MFA_SETUP")
    assert json.loads(params["MFAS_CAN_SETUP"]) == ["SMS_MFA", "SOFTWARE_TOKEN_MFA"], params
