"""Durability: state survives a graceful restart (SIGTERM/SIGINT) and `kill -9` right after an
acknowledged write (DESIGN.md: "Acknowledged writes survive kill -9 of the server")."""

from __future__ import annotations

import signal

import pytest

from conftest import make_client
from helpers import (
    EMAIL_MSG,
    EMAIL_SUBJECT,
    SMS_MSG,
    email_pool,
    plain_pool,
    sms_pool,
    unique_name,
)


def snapshot(c) -> dict:
    """Everything observable about all pools: list, describe, MFA config."""
    pools = {}
    token = None
    while True:
        kw = {"MaxResults": 60}
        if token:
            kw["NextToken"] = token
        page = c.list_user_pools(**kw)
        for p in page["UserPools"]:
            pools[p["Id"]] = {"list": p}
        token = page.get("NextToken")
        if not token:
            break
    for pid, entry in pools.items():
        d = c.describe_user_pool(UserPoolId=pid)["UserPool"]
        entry["describe"] = d
        m = c.get_user_pool_mfa_config(UserPoolId=pid)
        m.pop("ResponseMetadata")
        entry["mfa"] = m
    return pools


def populate(c) -> dict[str, str]:
    ids = {}
    ids["totp"] = plain_pool(c, DeletionProtection="ACTIVE")
    c.set_user_pool_mfa_config(UserPoolId=ids["totp"], MfaConfiguration="ON", SoftwareTokenMfaConfiguration={"Enabled": True})
    ids["sms"] = sms_pool(c, UserPoolTier="LITE")
    c.set_user_pool_mfa_config(
        UserPoolId=ids["sms"],
        MfaConfiguration="OPTIONAL",
        SmsMfaConfiguration={"SmsAuthenticationMessage": SMS_MSG},
        SoftwareTokenMfaConfiguration={"Enabled": True},
        WebAuthnConfiguration={"RelyingPartyId": "auth.example.com", "UserVerification": "required"},
    )
    ids["email"] = email_pool(c, UserPoolTier="PLUS")
    c.set_user_pool_mfa_config(
        UserPoolId=ids["email"],
        MfaConfiguration="ON",
        EmailMfaConfiguration={"Message": EMAIL_MSG, "Subject": EMAIL_SUBJECT},
        WebAuthnConfiguration={"FactorConfiguration": "MULTI_FACTOR_WITH_USER_VERIFICATION"},
    )
    ids["off"] = plain_pool(c)
    ids["deleted"] = plain_pool(c)
    c.delete_user_pool(UserPoolId=ids["deleted"])
    return ids


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_graceful_restart_keeps_everything(server_factory, tmp_path, sig):
    data = tmp_path / "restart-data"
    srv = server_factory(data)
    c = make_client(srv)
    ids = populate(c)
    before = snapshot(c)
    assert ids["deleted"] not in before
    assert set(before) == {ids[k] for k in ("totp", "sms", "email", "off")}

    code = srv.stop(sig)
    assert code == 0, f"graceful shutdown on {sig!r} should exit 0, got {code}\n{srv.stderr_text()[-2000:]}"

    srv2 = server_factory(data)
    c2 = make_client(srv2)
    after = snapshot(c2)
    diffs = [f"{p}: {a!r} -> {b!r}" for p, a, b in json_diff(before, after)]
    assert not diffs, "changed across restart:\n" + "\n".join(diffs[:20])
    with pytest.raises(c2.exceptions.ResourceNotFoundException):
        c2.describe_user_pool(UserPoolId=ids["deleted"])
    # Deletion protection survived too.
    with pytest.raises(c2.exceptions.InvalidParameterException):
        c2.delete_user_pool(UserPoolId=ids["totp"])
    # New pools after restart get fresh ids, and still work.
    new_id = plain_pool(c2)
    assert new_id not in before and new_id != ids["deleted"]
    c2.set_user_pool_mfa_config(UserPoolId=new_id, MfaConfiguration="OPTIONAL", SoftwareTokenMfaConfiguration={"Enabled": True})


def test_kill_9_right_after_acknowledged_writes(server_factory, tmp_path):
    data = tmp_path / "kill-data"
    srv = server_factory(data)
    c = make_client(srv)
    ids = populate(c)
    # The very last acknowledged writes, immediately followed by SIGKILL.
    last = plain_pool(c)
    set_resp = c.set_user_pool_mfa_config(
        UserPoolId=last,
        MfaConfiguration="OPTIONAL",
        SoftwareTokenMfaConfiguration={"Enabled": True},
        WebAuthnConfiguration={"RelyingPartyId": "last.example.com"},
    )
    c.update_user_pool(UserPoolId=ids["off"], UserPoolTier="PLUS", DeletionProtection="ACTIVE")
    srv.proc.send_signal(signal.SIGKILL)
    srv.proc.wait(10)

    srv2 = server_factory(data)
    c2 = make_client(srv2)
    got = c2.get_user_pool_mfa_config(UserPoolId=last)
    got.pop("ResponseMetadata")
    set_resp.pop("ResponseMetadata")
    assert got == set_resp
    off = c2.describe_user_pool(UserPoolId=ids["off"])["UserPool"]
    assert off["UserPoolTier"] == "PLUS"
    assert off["DeletionProtection"] == "ACTIVE"
    assert c2.get_user_pool_mfa_config(UserPoolId=ids["totp"])["MfaConfiguration"] == "ON"
    with pytest.raises(c2.exceptions.ResourceNotFoundException):
        c2.describe_user_pool(UserPoolId=ids["deleted"])


def test_kill_9_after_many_quick_writes(server_factory, tmp_path):
    data = tmp_path / "kill-many"
    srv = server_factory(data)
    c = make_client(srv)
    expected = {}
    for i in range(20):
        pid = plain_pool(c, PoolName=unique_name(f"k{i}"))
        mfa = "ON" if i % 2 else "OPTIONAL"
        c.set_user_pool_mfa_config(
            UserPoolId=pid,
            MfaConfiguration=mfa,
            SoftwareTokenMfaConfiguration={"Enabled": True},
            WebAuthnConfiguration={"RelyingPartyId": f"rp{i}.example.com"},
        )
        expected[pid] = (mfa, f"rp{i}.example.com")
    srv.proc.send_signal(signal.SIGKILL)
    srv.proc.wait(10)

    c2 = make_client(server_factory(data))
    for pid, (mfa, rp) in expected.items():
        got = c2.get_user_pool_mfa_config(UserPoolId=pid)
        assert got["MfaConfiguration"] == mfa
        assert got["WebAuthnConfiguration"]["RelyingPartyId"] == rp


def test_restart_twice_and_new_ids_never_collide(server_factory, tmp_path):
    data = tmp_path / "twice"
    seen = set()
    for _ in range(3):
        srv = server_factory(data)
        c = make_client(srv)
        for _ in range(3):
            pid = plain_pool(c)
            assert pid not in seen
            seen.add(pid)
        listed = {p["Id"] for p in c.list_user_pools(MaxResults=60)["UserPools"]}
        assert listed == seen
        assert srv.stop() == 0


def test_raw_bodies_identical_across_restart(server_factory, tmp_path):
    """Byte-level: what DescribeUserPool / GetUserPoolMfaConfig / ListUserPools return must not
    change because the process restarted (e.g. timestamps must not lose precision on disk)."""
    from conftest import raw_call

    data = tmp_path / "raw-restart"
    srv = server_factory(data)
    c = make_client(srv)
    ids = [plain_pool(c) for _ in range(12)]
    c.set_user_pool_mfa_config(UserPoolId=ids[0], MfaConfiguration="ON", SoftwareTokenMfaConfiguration={"Enabled": True})

    def bodies(s):
        out = {}
        for pid in ids:
            out[("describe", pid)] = raw_call(s, "DescribeUserPool", {"UserPoolId": pid}).json()
            out[("mfa", pid)] = raw_call(s, "GetUserPoolMfaConfig", {"UserPoolId": pid}).json()
        out["list"] = raw_call(s, "ListUserPools", {"MaxResults": 60}).json()
        return out

    before = bodies(srv)
    assert srv.stop() == 0
    after = bodies(server_factory(data))
    diffs = []
    for key in before:
        diffs += [f"{key}{p}: {a!r} -> {b!r}" for p, a, b in json_diff(before[key], after[key])]
    assert not diffs, "changed across restart:\n" + "\n".join(diffs[:20])


def json_diff(a, b, path=""):
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            yield from json_diff(a.get(k, "<missing>"), b.get(k, "<missing>"), f"{path}.{k}")
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            yield from json_diff(x, y, f"{path}[{i}]")
    elif a != b or type(a) is not type(b):
        yield path, a, b
