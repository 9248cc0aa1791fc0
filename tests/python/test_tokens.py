"""Tokens as a relying party sees them: sign in with boto3 (USER_PASSWORD_AUTH), fetch the pool's
JWKS and verify the ID and access tokens with PyJWT, the way AWS's "verifying a JSON web token"
guide says to (behaviour reference §6): RS256, `kid` from the JWKS, issuer `{url}/{poolId}`, the ID
token's `aud` is the client id, the access token has no `aud` but a `client_id` and `token_use`.
Tampered tokens must fail; refreshed tokens must verify too.
"""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest
import requests
from botocore.exceptions import ClientError

from conftest import ServerProcess, make_client, unique_name

PASSWORD = "Correct-Horse-9"
USER_SCOPE = "aws.cognito.signin.user.admin"


# --------------------------------------------------------------------------------------
# Fixtures: one server (fast password hashing) and one pool/client/user for the module
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def token_server(tmp_path_factory):
    """Own server with `--password-hash fast`: the shared one hashes at the production cost."""
    base = tmp_path_factory.mktemp("tokens-server")
    srv = ServerProcess(base / "data", ["--password-hash", "fast"], log_dir=base).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def idp(token_server):
    return make_client(token_server)


@pytest.fixture(scope="module")
def setup(token_server, idp):
    """A pool, a public client allowing USER_PASSWORD_AUTH + refresh, and a confirmed user."""
    pool_id = idp.create_user_pool(PoolName=unique_name("tokens"))["UserPool"]["Id"]
    client_id = idp.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="relying-party",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    username = unique_name("alice")
    email = f"{username}@example.com"
    idp.admin_create_user(
        UserPoolId=pool_id,
        Username=username,
        TemporaryPassword="Temp-Pass-123",
        MessageAction="SUPPRESS",
        UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}],
    )
    idp.admin_set_user_password(UserPoolId=pool_id, Username=username, Password=PASSWORD, Permanent=True)
    return {
        "url": token_server.url,
        "pool_id": pool_id,
        "client_id": client_id,
        "username": username,
        "email": email,
        "issuer": f"{token_server.url}/{pool_id}",
        "jwks_url": f"{token_server.url}/{pool_id}/.well-known/jwks.json",
    }


def sign_in(idp, setup) -> dict:
    resp = idp.initiate_auth(
        ClientId=setup["client_id"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": setup["username"], "PASSWORD": PASSWORD},
    )
    assert "ChallengeName" not in resp, resp
    return resp["AuthenticationResult"]


@pytest.fixture(scope="module")
def tokens(idp, setup) -> dict:
    result = sign_in(idp, setup)
    assert result["TokenType"] == "Bearer"
    assert result["ExpiresIn"] == 3600
    return result


@pytest.fixture(scope="module")
def jwks_client(setup) -> jwt.PyJWKClient:
    return jwt.PyJWKClient(setup["jwks_url"], cache_keys=True)


# --------------------------------------------------------------------------------------
# Verification helpers (what a relying party would write)
# --------------------------------------------------------------------------------------


def verify_id_token(token: str, key, setup) -> dict:
    return jwt.decode(
        token,
        key,
        algorithms=["RS256"],
        audience=setup["client_id"],
        issuer=setup["issuer"],
        options={"require": ["exp", "iat", "iss", "aud", "sub", "token_use", "auth_time", "jti"]},
    )


def verify_access_token(token: str, key, setup) -> dict:
    # No `audience`: PyJWT then rejects a token that *has* an `aud`, which access tokens must not.
    claims = jwt.decode(
        token,
        key,
        algorithms=["RS256"],
        issuer=setup["issuer"],
        options={"require": ["exp", "iat", "iss", "sub", "client_id", "token_use", "auth_time", "jti"]},
    )
    assert claims["client_id"] == setup["client_id"]
    assert claims["token_use"] == "access"
    return claims


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def with_payload(token: str, **changes) -> str:
    """The same header and signature, with payload claims changed (a forgery)."""
    header, payload, sig = token.split(".")
    claims = json.loads(b64url_decode(payload))
    claims.update(changes)
    return ".".join([header, b64url(json.dumps(claims, separators=(",", ":")).encode()), sig])


# --------------------------------------------------------------------------------------
# JWKS
# --------------------------------------------------------------------------------------


def test_jwks_document_shape(setup, tokens):
    resp = requests.get(setup["jwks_url"], timeout=10)
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("application/json"), resp.headers
    keys = resp.json()["keys"]
    assert keys, "JWKS has no keys"
    for k in keys:
        assert k["kty"] == "RSA", k
        assert k["alg"] == "RS256", k
        assert k["use"] == "sig", k
        assert k["e"] == "AQAB", k
        assert isinstance(k["kid"], str) and k["kid"], k
        # At least a 2048-bit modulus.
        assert len(b64url_decode(k["n"])) >= 256, k
        assert not ({"d", "p", "q", "dp", "dq", "qi"} & set(k)), f"private key material in the JWKS: {sorted(k)}"
    kids = {k["kid"] for k in keys}
    assert len(kids) == len(keys), "duplicate kids"
    for name in ("IdToken", "AccessToken"):
        header = jwt.get_unverified_header(tokens[name])
        assert header["alg"] == "RS256", header
        assert header["kid"] in kids, f"{name} kid {header['kid']!r} not in the JWKS {sorted(kids)}"


def test_access_and_id_tokens_use_different_keys(tokens):
    """AWS signs the access token and the ID token with different keys (reference §6)."""
    id_kid = jwt.get_unverified_header(tokens["IdToken"])["kid"]
    access_kid = jwt.get_unverified_header(tokens["AccessToken"])["kid"]
    assert id_kid != access_kid


def test_unknown_pool_has_no_jwks(setup):
    # The exact status AWS uses here is not in the behaviour reference; only "an error, no keys".
    resp = requests.get(f"{setup['url']}/us-east-1_Nope12345/.well-known/jwks.json", timeout=10)
    assert resp.status_code in (400, 404), resp.text
    body = resp.json()
    assert "keys" not in body
    assert body["message"] == "User pool us-east-1_Nope12345 does not exist.", body


# --------------------------------------------------------------------------------------
# Valid tokens verify, with AWS's claims
# --------------------------------------------------------------------------------------


def test_id_token_verifies_with_pyjwkclient(setup, tokens, jwks_client):
    key = jwks_client.get_signing_key_from_jwt(tokens["IdToken"])
    claims = verify_id_token(tokens["IdToken"], key.key, setup)
    assert claims["token_use"] == "id"
    assert claims["aud"] == setup["client_id"]
    assert claims["iss"] == setup["issuer"]
    assert claims["cognito:username"] == setup["username"]
    assert claims["email"] == setup["email"]
    assert claims["email_verified"] is True
    assert "client_id" not in claims
    assert claims["exp"] - claims["iat"] == 3600
    assert abs(claims["iat"] - time.time()) < 300
    assert claims["auth_time"] <= claims["iat"]
    for claim in ("origin_jti", "event_id"):
        assert claim in claims, f"ID token lacks {claim}: {sorted(claims)}"


def test_access_token_verifies_with_pyjwkclient(setup, tokens, jwks_client):
    key = jwks_client.get_signing_key_from_jwt(tokens["AccessToken"])
    claims = verify_access_token(tokens["AccessToken"], key.key, setup)
    assert "aud" not in claims
    assert claims["username"] == setup["username"]
    assert claims["scope"] == USER_SCOPE
    assert claims["exp"] - claims["iat"] == 3600
    for claim in ("origin_jti", "event_id"):
        assert claim in claims, f"access token lacks {claim}: {sorted(claims)}"
    id_claims = jwt.decode(tokens["IdToken"], options={"verify_signature": False})
    assert claims["sub"] == id_claims["sub"]
    assert claims["origin_jti"] == id_claims["origin_jti"]
    assert claims["event_id"] == id_claims["event_id"]
    assert claims["jti"] != id_claims["jti"]


def test_tokens_verify_with_pyjwk_from_the_document(setup, tokens):
    """The other PyJWT route: pick the JWK by kid from the fetched document, build a PyJWK."""
    keys = {k["kid"]: k for k in requests.get(setup["jwks_url"], timeout=10).json()["keys"]}
    for name, verify in (("IdToken", verify_id_token), ("AccessToken", verify_access_token)):
        kid = jwt.get_unverified_header(tokens[name])["kid"]
        jwk = jwt.PyJWK(keys[kid])
        assert jwk.algorithm_name == "RS256"
        verify(tokens[name], jwk, setup)


def test_the_access_token_is_accepted_by_get_user(idp, setup, tokens):
    user = idp.get_user(AccessToken=tokens["AccessToken"])
    assert user["Username"] == setup["username"]
    attrs = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
    sub = jwt.decode(tokens["AccessToken"], options={"verify_signature": False})["sub"]
    assert attrs["sub"] == sub


# --------------------------------------------------------------------------------------
# Bad tokens fail
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["IdToken", "AccessToken"])
@pytest.mark.parametrize(
    "changes",
    [
        {"sub": "00000000-0000-0000-0000-000000000000"},
        {"exp": 4102444800},  # 2100-01-01
        {"token_use": "swap"},
        {"cognito:groups": ["admins"]},
    ],
    ids=["sub", "exp", "token_use", "groups"],
)
def test_tampered_payload_fails(setup, tokens, jwks_client, name, changes):
    if changes.get("token_use"):  # pass an ID token off as an access token and vice versa
        changes = {"token_use": "access" if name == "IdToken" else "id"}
    forged = with_payload(tokens[name], **changes)
    assert forged != tokens[name]
    key = jwks_client.get_signing_key_from_jwt(forged)  # same kid: the key is found
    verify = verify_id_token if name == "IdToken" else verify_access_token
    with pytest.raises(jwt.InvalidSignatureError):
        verify(forged, key.key, setup)


@pytest.mark.parametrize("name", ["IdToken", "AccessToken"])
def test_tampered_signature_fails(setup, tokens, jwks_client, name):
    header, payload, sig = tokens[name].split(".")
    raw = bytearray(b64url_decode(sig))
    raw[len(raw) // 2] ^= 0x01
    forged = ".".join([header, payload, b64url(bytes(raw))])
    key = jwks_client.get_signing_key_from_jwt(forged)
    verify = verify_id_token if name == "IdToken" else verify_access_token
    with pytest.raises(jwt.InvalidSignatureError):
        verify(forged, key.key, setup)


def test_token_signed_by_another_key_fails(setup, tokens, jwks_client):
    """An attacker's own RS256 key, claiming the pool's kid."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    claims = jwt.decode(tokens["IdToken"], options={"verify_signature": False})
    kid = jwt.get_unverified_header(tokens["IdToken"])["kid"]
    attacker = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(claims, attacker, algorithm="RS256", headers={"kid": kid})
    key = jwks_client.get_signing_key_from_jwt(forged)
    with pytest.raises(jwt.InvalidSignatureError):
        verify_id_token(forged, key.key, setup)


def test_unsigned_token_fails(setup, tokens, jwks_client):
    claims = jwt.decode(tokens["AccessToken"], options={"verify_signature": False})
    kid = jwt.get_unverified_header(tokens["AccessToken"])["kid"]
    forged = jwt.encode(claims, None, algorithm="none", headers={"kid": kid})
    key = jwks_client.get_signing_key_from_jwt(forged)
    with pytest.raises(jwt.InvalidAlgorithmError):
        verify_access_token(forged, key.key, setup)


def test_wrong_audience_and_issuer_fail(setup, tokens, jwks_client):
    key = jwks_client.get_signing_key_from_jwt(tokens["IdToken"]).key
    with pytest.raises(jwt.InvalidAudienceError):
        jwt.decode(tokens["IdToken"], key, algorithms=["RS256"], audience="someotherclient", issuer=setup["issuer"])
    with pytest.raises(jwt.InvalidIssuerError):
        jwt.decode(
            tokens["IdToken"],
            key,
            algorithms=["RS256"],
            audience=setup["client_id"],
            issuer=f"{setup['url']}/us-east-1_Other1234",
        )
    # An access token has no aud, so a verifier that demands one refuses it.
    access_key = jwks_client.get_signing_key_from_jwt(tokens["AccessToken"]).key
    with pytest.raises(jwt.MissingRequiredClaimError):
        jwt.decode(tokens["AccessToken"], access_key, algorithms=["RS256"], audience=setup["client_id"])


def test_another_pools_jwks_does_not_verify(token_server, idp, setup, tokens):
    """Keys are per pool: the ID token is not verifiable with a different pool's JWKS."""
    other = idp.create_user_pool(PoolName=unique_name("other"))["UserPool"]["Id"]
    other_keys = requests.get(f"{token_server.url}/{other}/.well-known/jwks.json", timeout=10).json()["keys"]
    kid = jwt.get_unverified_header(tokens["IdToken"])["kid"]
    assert kid not in {k["kid"] for k in other_keys}
    for k in other_keys:
        with pytest.raises(jwt.InvalidSignatureError):
            jwt.decode(tokens["IdToken"], jwt.PyJWK(k), algorithms=["RS256"], audience=setup["client_id"])


# --------------------------------------------------------------------------------------
# Refresh
# --------------------------------------------------------------------------------------


def test_refresh_gives_verifiable_tokens(idp, setup, jwks_client):
    first = sign_in(idp, setup)
    time.sleep(1.1)  # so that a fresh iat is visible
    resp = idp.initiate_auth(
        ClientId=setup["client_id"],
        AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={"REFRESH_TOKEN": first["RefreshToken"]},
    )
    assert resp["ChallengeParameters"] == {}
    result = resp["AuthenticationResult"]
    assert "RefreshToken" not in result, "REFRESH_TOKEN_AUTH returns no new refresh token"
    assert result["TokenType"] == "Bearer"
    assert result["ExpiresIn"] == 3600

    old_id = jwt.decode(first["IdToken"], options={"verify_signature": False})
    old_access = jwt.decode(first["AccessToken"], options={"verify_signature": False})
    new_id = verify_id_token(result["IdToken"], jwks_client.get_signing_key_from_jwt(result["IdToken"]).key, setup)
    new_access = verify_access_token(
        result["AccessToken"], jwks_client.get_signing_key_from_jwt(result["AccessToken"]).key, setup
    )
    assert new_id["sub"] == old_id["sub"] == new_access["sub"]
    assert new_access["username"] == setup["username"]
    assert new_id["jti"] != old_id["jti"]
    assert new_access["jti"] != old_access["jti"]
    assert new_access["iat"] > old_access["iat"]
    # The session is the same: same origin_jti, original auth_time.
    assert new_access["origin_jti"] == old_access["origin_jti"]
    assert new_id["origin_jti"] == old_id["origin_jti"]
    assert new_access["auth_time"] == old_access["auth_time"]
    assert new_id["auth_time"] == old_id["auth_time"]
    assert idp.get_user(AccessToken=result["AccessToken"])["Username"] == setup["username"]


def test_refresh_with_a_tampered_refresh_token_fails(idp, setup):
    first = sign_in(idp, setup)
    token = first["RefreshToken"]
    i = len(token) // 2
    bad = token[:i] + ("A" if token[i] != "A" else "B") + token[i + 1 :]
    with pytest.raises(ClientError) as e:
        idp.initiate_auth(
            ClientId=setup["client_id"], AuthFlow="REFRESH_TOKEN_AUTH", AuthParameters={"REFRESH_TOKEN": bad}
        )
    assert e.value.response["Error"]["Code"] == "NotAuthorizedException"
    assert e.value.response["Error"]["Message"] == "Invalid Refresh Token"


def test_global_sign_out_revokes_but_signatures_still_verify(idp, setup, jwks_client):
    """Revocation is server state: the JWT still verifies offline, but the server refuses it."""
    username = unique_name("bob")  # its own user: GlobalSignOut revokes every session of the user
    idp.admin_create_user(
        UserPoolId=setup["pool_id"], Username=username, TemporaryPassword="Temp-Pass-123", MessageAction="SUPPRESS"
    )
    idp.admin_set_user_password(UserPoolId=setup["pool_id"], Username=username, Password=PASSWORD, Permanent=True)
    result = sign_in(idp, {**setup, "username": username})
    idp.global_sign_out(AccessToken=result["AccessToken"])
    key = jwks_client.get_signing_key_from_jwt(result["AccessToken"]).key
    verify_access_token(result["AccessToken"], key, setup)
    with pytest.raises(ClientError) as e:
        idp.get_user(AccessToken=result["AccessToken"])
    assert e.value.response["Error"]["Code"] == "NotAuthorizedException"
    assert e.value.response["Error"]["Message"] == "Access Token has been revoked"
    with pytest.raises(ClientError) as e:
        idp.initiate_auth(
            ClientId=setup["client_id"],
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": result["RefreshToken"]},
        )
    assert e.value.response["Error"]["Code"] == "NotAuthorizedException"
    assert e.value.response["Error"]["Message"] == "Refresh Token has been revoked"
