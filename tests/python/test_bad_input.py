"""Malformed requests sent raw. Each must get an AWS-shaped 4xx (JSON {__type, message},
x-amzn-ErrorType, x-amzn-RequestId): never a 500, never a dropped connection. Afterwards the
server still answers normal calls and has logged no panic.

This module runs its own server so that a crash is attributed here.
"""

from __future__ import annotations

import json

import pytest

from conftest import AMZ_JSON, TARGET_PREFIX, ServerProcess, assert_aws_error, make_client, raw_request
from helpers import (
    PAT_USER_POOL_ID,
    one_error,
    unique_name,
    v_enum,
    v_max_len,
    v_max_value,
    v_min_value,
    v_null,
    v_pattern,
)

CREATE = f"{TARGET_PREFIX}.CreateUserPool"
SET_MFA = f"{TARGET_PREFIX}.SetUserPoolMfaConfig"
GET_MFA = f"{TARGET_PREFIX}.GetUserPoolMfaConfig"
LIST = f"{TARGET_PREFIX}.ListUserPools"
DESCRIBE = f"{TARGET_PREFIX}.DescribeUserPool"


@pytest.fixture(scope="module")
def bad_server(tmp_path_factory):
    base = tmp_path_factory.mktemp("bad-input-server")
    srv = ServerProcess(base / "data", log_dir=base).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def pool_id(bad_server) -> str:
    return make_client(bad_server).create_user_pool(PoolName=unique_name("bad"))["UserPool"]["Id"]


def deep(n: int) -> str:
    return "[" * n + "]" * n


# (id, target, body, content_type, expected __type or None, expected message or None)
# "{pool}" in a str body is replaced with a real pool id.
CASES = [
    # ---- JSON syntax ----
    ("malformed-json", CREATE, b'{"PoolName": ', AMZ_JSON, "SerializationException", None),
    ("truncated-json", CREATE, b'{"PoolName":"abc"', AMZ_JSON, "SerializationException", None),
    ("garbage", CREATE, b"this is not json", AMZ_JSON, "SerializationException", None),
    ("trailing-garbage", CREATE, b'{"PoolName":"abc"} xyz', AMZ_JSON, "SerializationException", None),
    ("single-quotes", CREATE, b"{'PoolName':'abc'}", AMZ_JSON, "SerializationException", None),
    ("bad-escape", CREATE, b'{"PoolName":"\\uZZZZ"}', AMZ_JSON, "SerializationException", None),
    ("lone-surrogate", CREATE, b'{"PoolName":"\\ud800"}', AMZ_JSON, None, None),
    ("non-utf8-bytes", CREATE, b'{"PoolName":"\xff\xfe\xfa"}', AMZ_JSON, None, None),
    ("deeply-nested", CREATE, ('{"PoolName":' + deep(100000) + "}").encode(), AMZ_JSON, "SerializationException", None),
    ("deeply-nested-objects", CREATE, ('{"a":' * 50000 + "1" + "}" * 50000).encode(), AMZ_JSON, None, None),
    # ---- top-level not an object ----
    ("top-level-array", CREATE, b"[]", AMZ_JSON, "SerializationException", None),
    ("top-level-string", CREATE, b'"abc"', AMZ_JSON, "SerializationException", None),
    ("top-level-number", CREATE, b"42", AMZ_JSON, "SerializationException", None),
    ("top-level-true", CREATE, b"true", AMZ_JSON, "SerializationException", None),
    ("top-level-null", CREATE, b"null", AMZ_JSON, None, None),
    ("empty-body", CREATE, b"", AMZ_JSON, None, None),
    # ---- wrong member types ----
    ("number-for-string", CREATE, b'{"PoolName":123}', AMZ_JSON, "SerializationException", None),
    ("object-for-string", CREATE, b'{"PoolName":{"a":1}}', AMZ_JSON, "SerializationException", None),
    ("bool-for-enum", SET_MFA, '{"UserPoolId":"{pool}","MfaConfiguration":true}', AMZ_JSON, "SerializationException", None),
    ("object-for-list", CREATE, b'{"PoolName":"x","AutoVerifiedAttributes":{}}', AMZ_JSON, "SerializationException", None),
    ("string-for-list", CREATE, b'{"PoolName":"x","AutoVerifiedAttributes":"email"}', AMZ_JSON, "SerializationException", None),
    ("list-for-object", SET_MFA, '{"UserPoolId":"{pool}","MfaConfiguration":"ON","SmsMfaConfiguration":[]}', AMZ_JSON, "SerializationException", None),
    ("string-for-object", SET_MFA, '{"UserPoolId":"{pool}","MfaConfiguration":"ON","WebAuthnConfiguration":"x"}', AMZ_JSON, "SerializationException", None),
    ("string-for-int", LIST, b'{"MaxResults":"10"}', AMZ_JSON, "SerializationException", None),
    ("float-for-int", LIST, b'{"MaxResults":1.5}', AMZ_JSON, None, None),
    ("string-for-bool-nested", SET_MFA, '{"UserPoolId":"{pool}","MfaConfiguration":"ON","SoftwareTokenMfaConfiguration":{"Enabled":"yes"}}', AMZ_JSON, "SerializationException", None),
    ("number-for-string-deep", SET_MFA, '{"UserPoolId":"{pool}","MfaConfiguration":"ON","SmsMfaConfiguration":{"SmsConfiguration":{"SnsCallerArn":5}}}', AMZ_JSON, "SerializationException", None),
    ("list-member-wrong-type", CREATE, b'{"PoolName":"x","AutoVerifiedAttributes":[1,2]}', AMZ_JSON, "SerializationException", None),
    ("map-value-wrong-type", CREATE, b'{"PoolName":"x","UserPoolTags":{"k":5}}', AMZ_JSON, "SerializationException", None),
    ("recovery-priority-string", CREATE, b'{"PoolName":"x","AccountRecoverySetting":{"RecoveryMechanisms":[{"Priority":"1","Name":"admin_only"}]}}', AMZ_JSON, "SerializationException", None),
    # ---- model constraints ----
    ("oversize-pool-name", CREATE, json.dumps({"PoolName": "p" * 129}).encode(), AMZ_JSON, "InvalidParameterException", one_error(v_max_len("p" * 129, "poolName", 128))),
    ("huge-string-member", CREATE, json.dumps({"PoolName": "p" * 200000}).encode(), AMZ_JSON, "InvalidParameterException", None),
    ("empty-pool-name", CREATE, b'{"PoolName":""}', AMZ_JSON, "InvalidParameterException", None),
    ("unknown-enum", SET_MFA, '{"UserPoolId":"{pool}","MfaConfiguration":"SOMETIMES"}', AMZ_JSON, "InvalidParameterException", one_error(v_enum("SOMETIMES", "mfaConfiguration", ["OFF", "ON", "OPTIONAL"]))),
    ("unknown-tier", CREATE, b'{"PoolName":"x","UserPoolTier":"GOLD"}', AMZ_JSON, "InvalidParameterException", one_error(v_enum("GOLD", "userPoolTier", ["LITE", "ESSENTIALS", "PLUS"]))),
    ("missing-required-set", SET_MFA, b'{"MfaConfiguration":"OFF"}', AMZ_JSON, "InvalidParameterException", one_error(v_null("userPoolId"))),
    ("missing-required-create", CREATE, b"{}", AMZ_JSON, "InvalidParameterException", one_error(v_null("poolName"))),
    ("missing-required-list", LIST, b"{}", AMZ_JSON, "InvalidParameterException", one_error(v_null("maxResults"))),
    ("null-required", DESCRIBE, b'{"UserPoolId":null}', AMZ_JSON, "InvalidParameterException", one_error(v_null("userPoolId"))),
    ("bad-pool-id-pattern", DESCRIBE, b'{"UserPoolId":"no underscore"}', AMZ_JSON, "InvalidParameterException", one_error(v_pattern("no underscore", "userPoolId", PAT_USER_POOL_ID))),
    ("negative-max-results", LIST, b'{"MaxResults":-5}', AMZ_JSON, "InvalidParameterException", one_error(v_min_value(-5, "maxResults", 1))),
    ("zero-max-results", LIST, b'{"MaxResults":0}', AMZ_JSON, "InvalidParameterException", one_error(v_min_value(0, "maxResults", 1))),
    ("too-big-max-results", LIST, b'{"MaxResults":61}', AMZ_JSON, "InvalidParameterException", one_error(v_max_value(61, "maxResults", 60))),
    ("huge-max-results", LIST, b'{"MaxResults":99999999999999999999999}', AMZ_JSON, None, None),
    ("i32-overflow-max-results", LIST, b'{"MaxResults":2147483648}', AMZ_JSON, None, None),
    ("empty-next-token", LIST, b'{"MaxResults":5,"NextToken":""}', AMZ_JSON, "InvalidParameterException", None),
    ("recovery-too-many", CREATE, b'{"PoolName":"x","AccountRecoverySetting":{"RecoveryMechanisms":[{"Priority":1,"Name":"admin_only"},{"Priority":2,"Name":"verified_email"},{"Priority":3,"Name":"verified_phone_number"}]}}', AMZ_JSON, "InvalidParameterException", None),
    # ---- routing ----
    ("unknown-target", f"{TARGET_PREFIX}.FooBar", b"{}", AMZ_JSON, "UnknownOperationException", None),
    ("missing-target", None, b"{}", AMZ_JSON, None, None),
    ("empty-target", "", b"{}", AMZ_JSON, None, None),
    ("other-service-prefix", "DynamoDB_20120810.ListTables", b"{}", AMZ_JSON, None, None),
    ("cognito-identity-prefix", "AWSCognitoIdentityService.ListIdentityPools", b'{"MaxResults":5}', AMZ_JSON, None, None),
    ("target-without-dot", "SetUserPoolMfaConfig", b"{}", AMZ_JSON, None, None),
    ("target-lowercase-op", f"{TARGET_PREFIX}.createUserPool", b'{"PoolName":"x"}', AMZ_JSON, None, None),
    # ---- content type ----
    ("content-type-text", CREATE, b'{"PoolName":"x"}', "text/plain", None, None),
    ("content-type-xml", CREATE, b'{"PoolName":"x"}', "application/xml", None, None),
    ("content-type-form", CREATE, b"PoolName=x", "application/x-www-form-urlencoded", None, None),
    ("content-type-json-1.0", CREATE, b'{"PoolName":"x"}', "application/x-amz-json-1.0", None, None),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_malformed_request(bad_server, pool_id, case):
    _id, target, body, content_type, want_type, want_message = case
    if isinstance(body, str):
        body = body.replace("{pool}", pool_id).encode()
    resp = raw_request(bad_server, body, target=target, content_type=content_type)
    assert_aws_error(resp, want_type, want_message)
    assert bad_server.alive, "server died"


def test_missing_content_type(bad_server):
    resp = raw_request(bad_server, b'{"PoolName":"x"}', target=CREATE, content_type=None)
    # Either accepted as JSON or refused with an AWS-shaped 4xx, never a 5xx or a drop.
    if resp.status != 200:
        assert_aws_error(resp)


def test_body_just_over_one_mib(bad_server):
    body = json.dumps({"PoolName": "x", "UserPoolTags": {"k": "v" * (1024 * 1024)}}).encode()
    assert len(body) > 1024 * 1024
    resp = raw_request(bad_server, body, target=CREATE)
    assert_aws_error(resp)


def test_ten_megabyte_body(bad_server):
    body = b'{"PoolName":"' + b"a" * (10 * 1024 * 1024) + b'"}'
    resp = raw_request(bad_server, body, target=CREATE)
    assert_aws_error(resp)


def test_ten_megabyte_chunked_body(bad_server):
    """No Content-Length: the limit must hold while streaming, too."""
    body = b'{"PoolName":"' + b"c" * (10 * 1024 * 1024) + b'"}'
    resp = raw_request(bad_server, body, target=CREATE, chunked=True)
    assert_aws_error(resp)


def test_small_chunked_body_is_accepted(bad_server):
    resp = raw_request(bad_server, json.dumps({"MaxResults": 5}), target=LIST, chunked=True)
    assert resp.status == 200, resp.describe()


def test_lying_content_length_is_not_a_crash(bad_server):
    """Content-Length larger than the body sent: the server must time out or answer 4xx, not hang forever or 5xx."""
    import socket as _s

    host, port = "127.0.0.1", bad_server.port
    sock = _s.create_connection((host, port), timeout=30)
    try:
        sock.sendall(
            (
                f"POST / HTTP/1.1\r\nHost: {host}:{port}\r\nX-Amz-Target: {LIST}\r\n"
                f"Content-Type: {AMZ_JSON}\r\nContent-Length: 100\r\n\r\n"
            ).encode()
            + b'{"MaxResults": 5}'
        )
        sock.shutdown(_s.SHUT_WR)
        data = b""
        while True:
            got = sock.recv(65536)
            if not got:
                break
            data += got
    finally:
        sock.close()
    if data:
        status = int(data.split(b" ", 2)[1])
        assert 400 <= status < 500, data[:500]
    assert bad_server.alive


def test_ten_megabyte_garbage_body(bad_server):
    body = b"\x00\xff" * (5 * 1024 * 1024)
    resp = raw_request(bad_server, body, target=CREATE, content_type="application/octet-stream")
    assert_aws_error(resp)


def test_get_method(bad_server):
    resp = raw_request(bad_server, None, method="GET", target=None, content_type=None)
    assert_aws_error(resp)


def test_post_to_other_path(bad_server):
    resp = raw_request(bad_server, b'{"PoolName":"x"}', target=CREATE, path="/not-the-api")
    assert_aws_error(resp)


def test_known_but_unimplemented_operation_is_aws_shaped(bad_server, pool_id):
    resp = raw_request(
        bad_server, json.dumps({"UserPoolId": pool_id, "Username": "alice"}), target=f"{TARGET_PREFIX}.AdminGetUser"
    )
    # No such user either way, so this is always an error; it must be AWS-shaped.
    assert_aws_error(resp, status_range=(400, 599))


def test_unknown_members_are_ignored(bad_server):
    """Forward compatibility: newer SDKs may send members this server does not know."""
    resp = raw_request(bad_server, json.dumps({"PoolName": unique_name("fwd"), "SomeFutureMember": {"x": [1, 2]}}), target=CREATE)
    assert resp.status == 200, resp.describe()


def test_json_content_type_is_accepted(bad_server):
    resp = raw_request(bad_server, json.dumps({"MaxResults": 5}), target=LIST, content_type="application/json")
    assert resp.status == 200, resp.describe()
    assert "UserPools" in resp.json()


def test_request_id_is_unique_per_response(bad_server):
    ids = {raw_request(bad_server, b"{}", target=f"{TARGET_PREFIX}.Nope").header("x-amzn-RequestId") for _ in range(5)}
    assert len(ids) == 5 and None not in ids


def test_error_message_header(bad_server):
    """AWS sends x-amzn-ErrorMessage alongside x-amzn-ErrorType (reference §1.3/§1.5)."""
    resp = raw_request(bad_server, b"{}", target=LIST)
    body = assert_aws_error(resp, "InvalidParameterException")
    assert resp.header("x-amzn-ErrorMessage") == body["message"]
    assert resp.header("content-type").startswith("application/x-amz-json-1.1")


def test_crlf_in_a_value_cannot_inject_headers(bad_server):
    value = "a\r\nX-Injected: yes"
    resp = raw_request(bad_server, json.dumps({"PoolName": value}), target=CREATE)
    body = assert_aws_error(resp, "InvalidParameterException")
    assert "x-injected" not in resp.headers, resp.describe()
    assert value in body["message"]
    for k, v in resp.headers.items():
        assert "\r" not in v and "\n" not in v, (k, v)


def test_non_ascii_value_in_error_message(bad_server):
    value = "Código/ñ✓"
    c = make_client(bad_server)
    with pytest.raises(c.exceptions.InvalidParameterException) as ei:
        c.create_user_pool(PoolName=value)
    assert ei.value.response["Error"]["Message"] == one_error(
        v_pattern(value, "poolName", r"[\w\s+=,.@-]+")
    )


def test_cors_preflight(bad_server):
    """Browser clients (amazon-cognito-identity-js, Amplify) need CORS (reference §1.1)."""
    resp = raw_request(
        bad_server,
        None,
        method="OPTIONS",
        target=None,
        content_type=None,
        headers={
            "Origin": "http://localhost:3000",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-amz-target,x-amz-user-agent,cache-control",
        },
    )
    assert 200 <= resp.status < 300, resp.describe()
    assert resp.header("access-control-allow-origin") in ("*", "http://localhost:3000"), resp.describe()
    allowed = {h.strip().lower() for h in (resp.header("access-control-allow-headers") or "").split(",")}
    for h in ("content-type", "x-amz-target", "x-amz-user-agent", "cache-control", "authorization", "x-amz-date", "x-amz-security-token"):
        assert h in allowed or "*" in allowed, (h, resp.describe())
    resp = raw_request(bad_server, b'{"MaxResults": 5}', target=LIST, headers={"Origin": "http://localhost:3000"})
    assert resp.status == 200
    exposed = {h.strip().lower() for h in (resp.header("access-control-expose-headers") or "").split(",")}
    for h in ("x-amzn-requestid", "x-amzn-errortype", "x-amzn-errormessage"):
        assert h in exposed, (h, resp.describe())


def test_server_survives_everything(bad_server, pool_id):
    """Runs last in this module: the server still answers normally and logged no panic."""
    assert bad_server.alive, "server process died"
    c = make_client(bad_server)
    assert pool_id in {p["Id"] for p in c.list_user_pools(MaxResults=60)["UserPools"]}
    new_id = c.create_user_pool(PoolName=unique_name("after"))["UserPool"]["Id"]
    c.set_user_pool_mfa_config(UserPoolId=new_id, MfaConfiguration="ON", SoftwareTokenMfaConfiguration={"Enabled": True})
    assert c.get_user_pool_mfa_config(UserPoolId=new_id)["MfaConfiguration"] == "ON"
    assert "panicked" not in bad_server.stderr_text(), bad_server.stderr_text()[-3000:]
