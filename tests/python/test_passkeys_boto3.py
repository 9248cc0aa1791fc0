"""Passkeys from boto3 with a software authenticator written here on `cryptography` keys and
fido2's CBOR: ES256 and RS256 credentials register and sign in, an EdDSA one (not offered) is
refused; attestation none and packed; user verification required and preferred.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os

import botocore.exceptions
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from fido2 import cbor

from conftest import ServerProcess, make_client, unique_name

ORIGIN = "http://localhost:3000"
UP, UV = 0x01, 0x04


def b64u(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def unb64u(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


class Authenticator:
    """One passkey: `alg` -7 (P-256), -257 (RSA-2048) or -8 (Ed25519)."""

    def __init__(self, alg: int = -7, flags: int = UP | UV):
        self.alg, self.flags, self.counter = alg, flags, 0
        self.cred_id = os.urandom(32)
        if alg == -7:
            self.key = ec.generate_private_key(ec.SECP256R1())
        elif alg == -257:
            self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        else:
            self.key = ed25519.Ed25519PrivateKey.generate()

    def cose(self) -> dict:
        pub = self.key.public_key()
        if self.alg == -7:
            n = pub.public_numbers()
            return {1: 2, 3: -7, -1: 1, -2: n.x.to_bytes(32, "big"), -3: n.y.to_bytes(32, "big")}
        if self.alg == -257:
            n = pub.public_numbers()
            return {1: 3, 3: -257, -1: n.n.to_bytes(256, "big"), -2: n.e.to_bytes(3, "big")}
        from cryptography.hazmat.primitives import serialization

        raw = pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return {1: 1, 3: -8, -1: 6, -2: raw}

    def sign(self, data: bytes) -> bytes:
        if self.alg == -7:
            return self.key.sign(data, ec.ECDSA(hashes.SHA256()))
        if self.alg == -257:
            return self.key.sign(data, padding.PKCS1v15(), hashes.SHA256())
        return self.key.sign(data)

    def client_data(self, kind: str, challenge: str) -> bytes:
        return json.dumps({"type": kind, "challenge": challenge, "origin": ORIGIN, "crossOrigin": False}).encode()

    def create(self, options: dict, fmt: str = "none") -> dict:
        cdj = self.client_data("webauthn.create", options["challenge"])
        ad = hashlib.sha256(options["rp"]["id"].encode()).digest() + bytes([self.flags | 0x40])
        ad += self.counter.to_bytes(4, "big") + bytes(16) + len(self.cred_id).to_bytes(2, "big") + self.cred_id
        ad += cbor.encode(self.cose())
        stmt = {}
        if fmt == "packed":
            stmt = {"alg": self.alg, "sig": self.sign(ad + hashlib.sha256(cdj).digest())}
        att = cbor.encode({"fmt": fmt, "attStmt": stmt, "authData": ad})
        return {
            "id": b64u(self.cred_id), "rawId": b64u(self.cred_id), "type": "public-key",
            "response": {"clientDataJSON": b64u(cdj), "attestationObject": b64u(att), "transports": ["usb"]},
            "authenticatorAttachment": "cross-platform", "clientExtensionResults": {},
        }

    def get(self, options: dict) -> str:
        self.counter += 1
        cdj = self.client_data("webauthn.get", options["challenge"])
        ad = hashlib.sha256(options["rpId"].encode()).digest() + bytes([self.flags]) + self.counter.to_bytes(4, "big")
        sig = self.sign(ad + hashlib.sha256(cdj).digest())
        return json.dumps({
            "id": b64u(self.cred_id), "rawId": b64u(self.cred_id), "type": "public-key",
            "response": {"clientDataJSON": b64u(cdj), "authenticatorData": b64u(ad), "signature": b64u(sig)},
            "clientExtensionResults": {},
        })


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    base = tmp_path_factory.mktemp("passkeys-boto3")
    s = ServerProcess(base / "data", ["--password-hash", "fast"], log_dir=base).start()
    yield s
    s.stop()


def setup(idp, uv: str) -> tuple[str, str]:
    pool_id = idp.create_user_pool(
        PoolName=unique_name("pk"), Policies={"SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD", "WEB_AUTHN"]}}
    )["UserPool"]["Id"]
    idp.set_user_pool_mfa_config(
        UserPoolId=pool_id, MfaConfiguration="OFF",
        WebAuthnConfiguration={"RelyingPartyId": "localhost", "UserVerification": uv},
    )
    client_id = idp.create_user_pool_client(
        UserPoolId=pool_id, ClientName="app", ExplicitAuthFlows=["ALLOW_USER_AUTH", "ALLOW_USER_PASSWORD_AUTH"]
    )["UserPoolClient"]["ClientId"]
    return pool_id, client_id


def signed_in_user(idp, pool_id: str, client_id: str, name: str) -> str:
    idp.admin_create_user(UserPoolId=pool_id, Username=name, MessageAction="SUPPRESS")
    idp.admin_set_user_password(UserPoolId=pool_id, Username=name, Password="Pk-Passw0rd!", Permanent=True)
    return idp.initiate_auth(
        ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH", AuthParameters={"USERNAME": name, "PASSWORD": "Pk-Passw0rd!"}
    )["AuthenticationResult"]["AccessToken"]


def passkey_sign_in(idp, client_id: str, name: str, auth: Authenticator) -> dict:
    start = idp.initiate_auth(
        ClientId=client_id, AuthFlow="USER_AUTH", AuthParameters={"USERNAME": name, "PREFERRED_CHALLENGE": "WEB_AUTHN"}
    )
    assert start["ChallengeName"] == "WEB_AUTHN", start
    options = json.loads(start["ChallengeParameters"]["CREDENTIAL_REQUEST_OPTIONS"])
    return idp.respond_to_auth_challenge(
        ClientId=client_id, ChallengeName="WEB_AUTHN", Session=start["Session"],
        ChallengeResponses={"USERNAME": name, "CREDENTIAL": auth.get(options)},
    )


@pytest.mark.parametrize("alg,fmt", [(-7, "none"), (-7, "packed"), (-257, "none"), (-257, "packed")])
def test_es256_and_rs256_register_and_sign_in(srv, alg, fmt):
    idp = make_client(srv)
    pool_id, client_id = setup(idp, "required")
    name = unique_name("u")
    access = signed_in_user(idp, pool_id, client_id, name)
    options = idp.start_web_authn_registration(AccessToken=access)["CredentialCreationOptions"]
    assert options["authenticatorSelection"]["userVerification"] == "required"
    assert [p["alg"] for p in options["pubKeyCredParams"]] == [-7, -257]
    auth = Authenticator(alg)
    idp.complete_web_authn_registration(AccessToken=access, Credential=auth.create(options, fmt))
    creds = idp.list_web_authn_credentials(AccessToken=access)["Credentials"]
    assert [c["CredentialId"] for c in creds] == [b64u(auth.cred_id)]
    assert creds[0]["AuthenticatorAttachment"] == "cross-platform" and creds[0]["AuthenticatorTransports"] == ["usb"]
    done = passkey_sign_in(idp, client_id, name, auth)
    assert done["AuthenticationResult"]["AccessToken"]


def test_eddsa_and_missing_user_verification_are_refused(srv):
    idp = make_client(srv)
    pool_id, client_id = setup(idp, "required")
    access = signed_in_user(idp, pool_id, client_id, unique_name("r"))
    for auth, code in [
        (Authenticator(-8), "WebAuthnCredentialNotSupportedException"),
        (Authenticator(-7, flags=UP), "WebAuthnCredentialNotSupportedException"),
    ]:
        options = idp.start_web_authn_registration(AccessToken=access)["CredentialCreationOptions"]
        with pytest.raises(botocore.exceptions.ClientError) as e:
            idp.complete_web_authn_registration(AccessToken=access, Credential=auth.create(options))
        assert e.value.response["Error"]["Code"] == code


def test_preferred_user_verification_takes_a_passkey_without_it(srv):
    idp = make_client(srv)
    pool_id, client_id = setup(idp, "preferred")
    name = unique_name("p")
    access = signed_in_user(idp, pool_id, client_id, name)
    options = idp.start_web_authn_registration(AccessToken=access)["CredentialCreationOptions"]
    auth = Authenticator(-7, flags=UP)
    idp.complete_web_authn_registration(AccessToken=access, Credential=auth.create(options))
    assert passkey_sign_in(idp, client_id, name, auth)["AuthenticationResult"]["IdToken"]
