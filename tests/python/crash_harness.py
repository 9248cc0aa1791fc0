"""kill -9 under write load: no acknowledged write is lost (issue 12, DESIGN.md "acknowledged
writes survive kill -9").

Each cycle starts the real server (SQLite data dir, or a PostgreSQL schema), runs writer threads
against it (CreateUserPool, SetUserPoolMfaConfig, AdminCreateUser + AdminSetUserPassword, TOTP
enrolment, sign-ins that use a TOTP step), kills the server with SIGKILL at a random moment, and
restarts it on the same data. Every write the server acknowledged (HTTP 200) before the kill must
read back intact after it: the pool with its MFA configuration, the user who can sign in, the
authenticator that still answers (and refuses a time step it already accepted).

Full run: `python3 tests/python/crash_harness.py --cycles 20 --store sqlite` (and `--store
postgres` with TEST_DATABASE_URL); test_crash.py runs a short version of each.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import botocore.config
import botocore.exceptions
import pyotp

sys.path.insert(0, str(Path(__file__).parent))
from conftest import DUMMY_KEY, DUMMY_SECRET, ServerProcess  # noqa: E402

PASSWORD = "Crash-Passw0rd!"


def client(url: str):
    return boto3.session.Session().client(
        "cognito-idp", endpoint_url=url, region_name="us-east-1",
        aws_access_key_id=DUMMY_KEY, aws_secret_access_key=DUMMY_SECRET,
        config=botocore.config.Config(retries={"mode": "standard", "total_max_attempts": 1},
                                      connect_timeout=2, read_timeout=10),
    )


@dataclass
class Acked:
    """What the server acknowledged, across cycles."""
    pools: dict = field(default_factory=dict)  # pool id -> (client id, MFA configuration)
    users: dict = field(default_factory=dict)  # (pool, username) -> TOTP secret or None
    used_steps: dict = field(default_factory=dict)  # (pool, username) -> a TOTP step that signed in
    lock: threading.Lock = field(default_factory=threading.Lock)


def writer(url: str, acked: Acked, stop: threading.Event, seed: int, errors: list | None = None) -> None:
    """Writes until `stop`; each refused or failed call is appended to `errors` (when given) as
    the exception."""
    rnd = random.Random(seed)
    c = client(url)
    while not stop.is_set():
        try:
            pool = c.create_user_pool(PoolName=f"crash-{uuid.uuid4().hex[:8]}")["UserPool"]["Id"]
            mode = rnd.choice(["OPTIONAL", "ON"])
            c.set_user_pool_mfa_config(UserPoolId=pool, MfaConfiguration=mode,
                                       SoftwareTokenMfaConfiguration={"Enabled": True})
            cid = c.create_user_pool_client(UserPoolId=pool, ClientName="app",
                                            ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
                                            )["UserPoolClient"]["ClientId"]
            with acked.lock:
                acked.pools[pool] = (cid, mode)
            for i in range(3):
                if stop.is_set():
                    return
                name = f"u{i}"
                c.admin_create_user(UserPoolId=pool, Username=name, MessageAction="SUPPRESS")
                c.admin_set_user_password(UserPoolId=pool, Username=name, Password=PASSWORD, Permanent=True)
                with acked.lock:
                    acked.users[(pool, name)] = None
                # Enrol TOTP through MFA_SETUP (ON) or after a plain sign-in (OPTIONAL).
                first = c.initiate_auth(ClientId=cid, AuthFlow="USER_PASSWORD_AUTH",
                                        AuthParameters={"USERNAME": name, "PASSWORD": PASSWORD})
                if first.get("ChallengeName") == "MFA_SETUP":
                    a = c.associate_software_token(Session=first["Session"])
                    secret = a["SecretCode"]
                    step = int(time.time()) // 30
                    v = c.verify_software_token(Session=a["Session"], UserCode=pyotp.TOTP(secret).at(step * 30))
                    c.respond_to_auth_challenge(ClientId=cid, ChallengeName="MFA_SETUP", Session=v["Session"],
                                                ChallengeResponses={"USERNAME": name})
                else:
                    access = first["AuthenticationResult"]["AccessToken"]
                    secret = c.associate_software_token(AccessToken=access)["SecretCode"]
                    step = int(time.time()) // 30
                    c.verify_software_token(AccessToken=access, UserCode=pyotp.TOTP(secret).at(step * 30))
                with acked.lock:
                    acked.users[(pool, name)] = secret
                    acked.used_steps[(pool, name)] = step
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError, KeyError) as e:
            # The server went away (the kill) or refused: that write was not acknowledged.
            if errors is not None:
                errors.append(e)
            if stop.wait(0.05):
                return


def verify(url: str, acked: Acked) -> list[str]:
    """Everything acknowledged, read back; the problems found."""
    c = client(url)
    problems = []
    for pool, (cid, mode) in list(acked.pools.items()):
        try:
            got = c.get_user_pool_mfa_config(UserPoolId=pool)
        except botocore.exceptions.ClientError as e:
            problems.append(f"pool {pool}: {e}")
            continue
        if got["MfaConfiguration"] != mode or not got.get("SoftwareTokenMfaConfiguration", {}).get("Enabled"):
            problems.append(f"pool {pool}: MFA configuration {got}")
    for (pool, name), secret in list(acked.users.items()):
        cid = acked.pools[pool][0]
        try:
            r = c.initiate_auth(ClientId=cid, AuthFlow="USER_PASSWORD_AUTH",
                                AuthParameters={"USERNAME": name, "PASSWORD": PASSWORD})
        except botocore.exceptions.ClientError as e:
            problems.append(f"user {pool}/{name}: sign-in {e.response['Error']}")
            continue
        if secret is None:
            continue  # acknowledged before enrolment: any answer but an error is fine
        if r.get("ChallengeName") != "SOFTWARE_TOKEN_MFA":
            problems.append(f"user {pool}/{name}: enrolled but answered {r.get('ChallengeName')}")
            continue
        # The step used at enrolment stays used (it was acknowledged), so while it is still in the
        # window it must be refused as reused (answering outside the window would only count
        # failures toward the lockout, so it is not tried).
        used = acked.used_steps[(pool, name)]
        if used < int(time.time()) // 30 - 1:
            continue
        try:
            c.respond_to_auth_challenge(ClientId=cid, ChallengeName="SOFTWARE_TOKEN_MFA", Session=r["Session"],
                                        ChallengeResponses={"USERNAME": name,
                                                            "SOFTWARE_TOKEN_MFA_CODE": pyotp.TOTP(secret).at(used * 30)})
            problems.append(f"user {pool}/{name}: a used TOTP step was accepted again")
        except botocore.exceptions.ClientError as e:
            if e.response["Error"]["Code"] != "ExpiredCodeException":
                problems.append(f"user {pool}/{name}: reused TOTP step answered {e.response['Error']}")
    return problems


def run(cycles: int, store: str, base: Path, writers: int = 3, load_secs: tuple = (0.5, 2.0)) -> dict:
    """Runs the cycles; returns counts and the problems found."""
    args = ["--password-hash", "fast"]
    if store == "postgres":
        url = os.environ.get("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
        schema = f"crash_{uuid.uuid4().hex[:10]}"
        subprocess.run(["psql", url, "-qc", f"CREATE SCHEMA {schema}"], check=True)
        userinfo, rest = url.split("://", 1)[1].split("@", 1)
        if ":" not in userinfo:
            userinfo += ":x"
        sep = "&" if "?" in rest else "?"
        args += ["--database-url", f"postgres://{userinfo}@{rest}{sep}options=-csearch_path%3D{schema}"]
    acked = Acked()
    data = base / "data"
    problems: list[str] = []
    try:
        _cycles(cycles, args, acked, data, base, writers, load_secs, problems)
    finally:
        if store == "postgres":
            subprocess.run(["psql", url, "-qc", f"DROP SCHEMA IF EXISTS {schema} CASCADE"], check=False)
    return {"cycles": cycles, "pools": len(acked.pools), "users": len(acked.users),
            "enrolled": sum(1 for s in acked.users.values() if s), "problems": problems}


def _cycles(cycles, args, acked, data, base, writers, load_secs, problems) -> None:
    for cycle in range(cycles):
        srv = ServerProcess(data, args, log_dir=base).start()
        stop = threading.Event()
        threads = [threading.Thread(target=writer, args=(srv.url, acked, stop, cycle * 100 + i), daemon=True)
                   for i in range(writers)]
        for t in threads:
            t.start()
        time.sleep(random.uniform(*load_secs))
        # On a slow or busy machine a short load may not reach an enrolment; keep the load on
        # until one has been acknowledged, so every run checks an authenticator too.
        deadline = time.monotonic() + 15
        while not any(acked.users.values()) and time.monotonic() < deadline:
            time.sleep(0.05)
        srv.kill()  # SIGKILL, mid-write
        stop.set()
        for t in threads:
            t.join(timeout=15)
        srv = ServerProcess(data, args, log_dir=base).start()
        found = verify(srv.url, acked)
        problems += [f"cycle {cycle}: {p}" for p in found]
        srv.stop()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cycles", type=int, default=20)
    p.add_argument("--store", choices=["sqlite", "postgres"], default="sqlite")
    a = p.parse_args()
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        out = run(a.cycles, a.store, Path(d))
    print(f"{a.store}: {out['cycles']} kill -9 cycles, {out['pools']} pools, {out['users']} users "
          f"({out['enrolled']} with TOTP) acknowledged; lost or wrong: {len(out['problems'])}")
    return report_problems(out["problems"])


def report_problems(problems: list[str]) -> int:
    """Prints each problem; the exit status (1 when there are any)."""
    for line in problems:
        print("  " + line)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
