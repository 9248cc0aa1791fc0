"""`--auth sigv4 --credentials-file`: IAM operations need a valid SigV4 signature from a known
key; public (`smithy.api#noAuth`) operations never do, and ignore a signature if one is sent
(behaviour reference §1.7)."""

from __future__ import annotations

import json

import pytest
from botocore import UNSIGNED
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from conftest import AMZ_JSON, TARGET_PREFIX, ServerProcess, assert_aws_error, make_client, raw_call, raw_request, write_credentials_file
from helpers import unique_name

KEY1 = ("AKIDSIGV4TEST0000001", "s3cr3t/Key+One0000000000000000000000000")
KEY2 = ("AKIDSIGV4TEST0000002", "anotherSecretKeyValue2222222222222222222")
AUTH_ERRORS = {
    "MissingAuthenticationTokenException",
    "InvalidSignatureException",
    "UnrecognizedClientException",
    "IncompleteSignatureException",
    "AccessDeniedException",
}


@pytest.fixture(scope="module")
def sig_server(tmp_path_factory):
    base = tmp_path_factory.mktemp("sigv4-server")
    creds = write_credentials_file(base / "credentials", {"default": KEY1, "second": KEY2})
    srv = ServerProcess(base / "data", ["--auth", "sigv4", "--credentials-file", str(creds)], log_dir=base).start()
    yield srv
    srv.stop()


def client(srv, key=KEY1, **kw):
    return make_client(srv, access_key=key[0], secret_key=key[1], **kw)


def error_code(callable_) -> tuple[str, int]:
    with pytest.raises(ClientError) as ei:
        callable_()
    r = ei.value.response
    return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"]


def signed_headers(srv, target: str, body: bytes, key=KEY1, region="us-east-1") -> dict[str, str]:
    req = AWSRequest(
        method="POST",
        url=srv.url + "/",
        data=body,
        headers={"Content-Type": AMZ_JSON, "X-Amz-Target": target},
    )
    SigV4Auth(Credentials(key[0], key[1]), "cognito-idp", region).add_auth(req)
    return {k: v for k, v in req.headers.items()}


# ------------------------------------------------------------------------------------


def test_signed_calls_succeed(sig_server):
    c = client(sig_server)
    pool = c.create_user_pool(PoolName=unique_name("signed"))["UserPool"]
    c.set_user_pool_mfa_config(UserPoolId=pool["Id"], MfaConfiguration="ON", SoftwareTokenMfaConfiguration={"Enabled": True})
    assert c.get_user_pool_mfa_config(UserPoolId=pool["Id"])["MfaConfiguration"] == "ON"
    assert c.describe_user_pool(UserPoolId=pool["Id"])["UserPool"]["MfaConfiguration"] == "ON"
    assert pool["Id"] in {p["Id"] for p in c.list_user_pools(MaxResults=60)["UserPools"]}


def test_second_key_from_the_file_works(sig_server):
    c = client(sig_server, key=KEY2)
    pool_id = c.create_user_pool(PoolName=unique_name("key2"))["UserPool"]["Id"]
    c.delete_user_pool(UserPoolId=pool_id)


def test_region_from_signing_scope(sig_server):
    c = client(sig_server, region="eu-west-1")
    pool = c.create_user_pool(PoolName=unique_name("eu"))["UserPool"]
    assert pool["Id"].startswith("eu-west-1_"), pool["Id"]


def test_wrong_secret(sig_server):
    c = client(sig_server, key=(KEY1[0], "not-the-right-secret-0000000000000000000"))
    code, status = error_code(lambda: c.create_user_pool(PoolName=unique_name("bad")))
    assert code == "InvalidSignatureException"
    assert 400 <= status < 500
    code, _ = error_code(lambda: c.list_user_pools(MaxResults=10))
    assert code == "InvalidSignatureException"


def test_unknown_access_key(sig_server):
    c = client(sig_server, key=("AKIDNOBODYKNOWS00000", KEY1[1]))
    code, status = error_code(lambda: c.list_user_pools(MaxResults=10))
    assert code == "UnrecognizedClientException"
    assert 400 <= status < 500


def test_unsigned_iam_call(sig_server):
    c = client(sig_server, signature_version=UNSIGNED)
    for call in (
        lambda: c.create_user_pool(PoolName=unique_name("unsigned")),
        lambda: c.set_user_pool_mfa_config(UserPoolId="us-east-1_abc", MfaConfiguration="OFF"),
        lambda: c.get_user_pool_mfa_config(UserPoolId="us-east-1_abc"),
        lambda: c.list_user_pools(MaxResults=10),
    ):
        code, status = error_code(call)
        assert code == "MissingAuthenticationTokenException"
        assert 400 <= status < 500


def test_unsigned_iam_call_raw_is_aws_shaped(sig_server):
    resp = raw_call(sig_server, "ListUserPools", {"MaxResults": 10})
    assert_aws_error(resp, "MissingAuthenticationTokenException")


def test_auth_checked_before_validation(sig_server):
    """A request that would also fail validation is refused for its missing signature first."""
    resp = raw_call(sig_server, "ListUserPools", {})
    assert_aws_error(resp, "MissingAuthenticationTokenException")


def test_unsigned_public_call_is_not_refused_for_auth(sig_server):
    c = client(sig_server, signature_version=UNSIGNED)
    code, status = error_code(
        lambda: c.initiate_auth(
            ClientId="bogusclientid0000000000000",
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": "alice", "PASSWORD": "Passw0rd!"},
        )
    )
    assert code not in AUTH_ERRORS, f"public operation refused for auth: {code}"
    assert status < 500, code


def test_unsigned_public_call_raw(sig_server):
    resp = raw_call(
        sig_server,
        "InitiateAuth",
        {"ClientId": "bogusclientid0000000000000", "AuthFlow": "USER_PASSWORD_AUTH", "AuthParameters": {"USERNAME": "a", "PASSWORD": "b"}},
    )
    body = assert_aws_error(resp)
    assert body["__type"].split("#")[-1] not in AUTH_ERRORS, resp.describe()


def test_public_call_with_bad_signature_is_not_refused_for_auth(sig_server):
    """Old SDKs sign public operations; the server must ignore such a signature (§1.7)."""
    c = client(sig_server, key=("AKIDNOBODYKNOWS00000", "wrong"))
    code, _ = error_code(
        lambda: c.initiate_auth(
            ClientId="bogusclientid0000000000000",
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": "alice", "PASSWORD": "Passw0rd!"},
        )
    )
    assert code not in AUTH_ERRORS, code
    target = f"{TARGET_PREFIX}.SignUp"
    body = json.dumps({"ClientId": "bogusclientid0000000000000", "Username": "bob", "Password": "Passw0rd!"}).encode()
    hdrs = signed_headers(sig_server, target, body, key=(KEY1[0], "wrong-secret"))
    resp = raw_request(sig_server, body, target=target, headers=hdrs)
    rbody = assert_aws_error(resp)
    assert rbody["__type"].split("#")[-1] not in AUTH_ERRORS, resp.describe()


def test_raw_signed_request_succeeds(sig_server):
    target = f"{TARGET_PREFIX}.ListUserPools"
    body = b'{"MaxResults": 5}'
    resp = raw_request(sig_server, body, target=target, headers=signed_headers(sig_server, target, body))
    assert resp.status == 200, resp.describe()


def test_tampered_body(sig_server):
    target = f"{TARGET_PREFIX}.ListUserPools"
    hdrs = signed_headers(sig_server, target, b'{"MaxResults": 5}')
    resp = raw_request(sig_server, b'{"MaxResults": 6}', target=target, headers=hdrs)
    assert_aws_error(resp, "InvalidSignatureException")


def test_tampered_target(sig_server):
    hdrs = signed_headers(sig_server, f"{TARGET_PREFIX}.ListUserPools", b'{"MaxResults": 5}')
    hdrs["X-Amz-Target"] = f"{TARGET_PREFIX}.DescribeUserPool"
    resp = raw_request(sig_server, b'{"MaxResults": 5}', headers=hdrs)
    assert_aws_error(resp, "InvalidSignatureException")


def test_signature_for_another_service(sig_server):
    target = f"{TARGET_PREFIX}.ListUserPools"
    body = b'{"MaxResults": 5}'
    req = AWSRequest(method="POST", url=sig_server.url + "/", data=body, headers={"Content-Type": AMZ_JSON, "X-Amz-Target": target})
    SigV4Auth(Credentials(*KEY1), "dynamodb", "us-east-1").add_auth(req)
    resp = raw_request(sig_server, body, target=target, headers=dict(req.headers.items()))
    assert_aws_error(resp)
    assert resp.status != 200


@pytest.mark.parametrize(
    "auth",
    [
        "AWS4-HMAC-SHA256 garbage",
        "AWS4-HMAC-SHA256 Credential=AKIDSIGV4TEST0000001/20260101/us-east-1/cognito-idp/aws4_request",
        "Basic dXNlcjpwYXNz",
        "AWS4-HMAC-SHA256 Credential=, SignedHeaders=, Signature=",
    ],
)
def test_malformed_authorization_header(sig_server, auth):
    resp = raw_request(
        sig_server,
        b'{"MaxResults": 5}',
        target=f"{TARGET_PREFIX}.ListUserPools",
        headers={"Authorization": auth, "X-Amz-Date": "20260101T000000Z"},
    )
    body = assert_aws_error(resp)
    assert body["__type"].split("#")[-1] in AUTH_ERRORS, resp.describe()


def test_default_server_accepts_any_credentials(server):
    c = make_client(server, access_key="AKIDANYTHING", secret_key="whatever")
    c.list_user_pools(MaxResults=5)
    c2 = make_client(server, signature_version=UNSIGNED)
    c2.list_user_pools(MaxResults=5)
