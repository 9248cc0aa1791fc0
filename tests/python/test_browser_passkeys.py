"""Passkeys in a real browser: Debian's Chromium, headless, driven by Selenium through Debian's
chromedriver, with a WebDriver virtual authenticator (CTAP2, resident keys, user verification).
The page is the server's own demo (`/_cognito-mfa/passkeys`), loaded as http://localhost:PORT (an
IP address is not a valid WebAuthn origin): sign up, confirm with the outbox code (and sign in
with ConfirmSignUp's Session), register a passkey with navigator.credentials.create(), sign out,
and sign in with navigator.credentials.get() through USER_AUTH / WEB_AUTHN.

scripts/test-all.sh installs chromium and chromium-driver; without them this test fails (it
does not skip), as a browser feature must be shown in a browser.
"""

from __future__ import annotations

import json
import os

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.virtual_authenticator import Protocol, Transport, VirtualAuthenticatorOptions
from selenium.webdriver.support.ui import WebDriverWait

from conftest import ServerProcess, make_client, unique_name

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    base = tmp_path_factory.mktemp("browser-passkeys")
    s = ServerProcess(base / "data", ["--password-hash", "fast"], log_dir=base).start()
    yield s
    s.stop()


@pytest.fixture
def driver():
    os.environ.setdefault("SE_AVOID_STATS", "true")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        opts.add_argument(a)
    d = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=opts)
    d.set_script_timeout(30)
    yield d
    d.quit()


def pool_for_passkeys(idp) -> tuple[str, str]:
    pool_id = idp.create_user_pool(
        PoolName=unique_name("browser"),
        AutoVerifiedAttributes=["email"],
        Policies={"SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD", "WEB_AUTHN"]}},
    )["UserPool"]["Id"]
    idp.set_user_pool_mfa_config(
        UserPoolId=pool_id,
        MfaConfiguration="OFF",
        WebAuthnConfiguration={"RelyingPartyId": "localhost", "UserVerification": "preferred"},
    )
    client_id = idp.create_user_pool_client(
        UserPoolId=pool_id, ClientName="web", ExplicitAuthFlows=["ALLOW_USER_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
    )["UserPoolClient"]["ClientId"]
    return pool_id, client_id


def step(d, button: str, want: str) -> str:
    d.find_element(By.ID, button).click()
    WebDriverWait(d, 30).until(lambda d: d.find_element(By.ID, "status").text in (want, "error"))
    status = d.find_element(By.ID, "status").text
    out = d.find_element(By.ID, "out").text
    assert status == want, f"{button}: {status}: {out}"
    return out


def test_register_a_passkey_and_sign_in_with_it_in_chromium(srv, driver):
    idp = make_client(srv)
    pool_id, client_id = pool_for_passkeys(idp)
    opts = VirtualAuthenticatorOptions(
        protocol=Protocol.CTAP2,
        transport=Transport.INTERNAL,
        has_resident_key=True,
        has_user_verification=True,
        is_user_verified=True,
    )
    driver.add_virtual_authenticator(opts)
    driver.get(f"http://localhost:{srv.port}/_cognito-mfa/passkeys?pool={pool_id}&client={client_id}")
    assert driver.execute_script("return window.isSecureContext"), "http://localhost is a secure context"

    step(driver, "signup", "signed up")
    signed_up = json.loads(step(driver, "confirm", "signed in"))
    username = signed_up["idToken"]["cognito:username"]
    assert username == "demo"

    listed = json.loads(step(driver, "register", "passkey registered"))
    assert len(listed["Credentials"]) == 1
    cred = listed["Credentials"][0]
    assert cred["RelyingPartyId"] == "localhost"
    assert cred["AuthenticatorAttachment"] == "platform"
    assert isinstance(cred["AuthenticatorTransports"], list)
    on_authenticator = driver.get_credentials()
    assert len(on_authenticator) == 1 and on_authenticator[0].rp_id == "localhost"

    step(driver, "signout", "signed out")
    tokens = json.loads(step(driver, "passkey", "signed in"))
    assert tokens["idToken"]["cognito:username"] == "demo"
    assert tokens["accessToken"]["token_use"] == "access"
    # The authenticator's counter moved on, and the server accepted it.
    assert driver.get_credentials()[0].sign_count >= 1

    # Without the passkey on the authenticator, get() finds nothing and the sign-in fails.
    driver.remove_all_credentials()
    driver.find_element(By.ID, "passkey").click()
    WebDriverWait(driver, 30).until(lambda d: d.find_element(By.ID, "status").text == "error")


AMPLIFY_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "browser", "amplify")


@pytest.fixture(scope="module")
def amplify_page():
    """tests/browser/amplify, bundled (build.sh: npm install aws-amplify 6 + esbuild), served at
    http://localhost:PORT by a static file server: another origin than the API's, as an app's."""
    import functools
    import http.server
    import subprocess
    import threading

    subprocess.run([os.path.join(AMPLIFY_DIR, "build.sh")], check=True)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=AMPLIFY_DIR)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://localhost:{httpd.server_address[1]}/index.html"
    httpd.shutdown()


def run(d, call: str, *args):
    """Awaits `window.amplifyPasskeys.<call>` in the page: its result, or the error it threw."""
    script = (
        "const done = arguments[arguments.length - 1];"
        f"Promise.resolve().then(() => window.amplifyPasskeys.{call}(...Array.from(arguments).slice(0, -1)))"
        ".then(r => done({ ok: r }), e => done({ err: (e && e.name) + ': ' + (e && e.message) }));"
    )
    out = d.execute_async_script(script, *args)
    assert "err" not in out, f"{call}: {out['err']}"
    return out["ok"]


def test_amplify_v6_registers_lists_and_signs_in_with_a_passkey(srv, driver, amplify_page):
    idp = make_client(srv)
    pool_id, _ = pool_for_passkeys(idp)
    # Amplify signs in with a password by SRP (USER_SRP_AUTH), then uses the tokens.
    client_id = idp.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="amplify",
        ExplicitAuthFlows=["ALLOW_USER_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    idp.admin_create_user(UserPoolId=pool_id, Username="ampli", MessageAction="SUPPRESS")
    idp.admin_set_user_password(UserPoolId=pool_id, Username="ampli", Password="Ampli-Passw0rd!", Permanent=True)
    driver.add_virtual_authenticator(
        VirtualAuthenticatorOptions(
            protocol=Protocol.CTAP2,
            transport=Transport.INTERNAL,
            has_resident_key=True,
            has_user_verification=True,
            is_user_verified=True,
        )
    )
    driver.get(amplify_page)
    WebDriverWait(driver, 10).until(lambda d: d.execute_script("return !!window.amplifyPasskeys"))
    run(driver, "configure", pool_id, client_id, f"http://localhost:{srv.port}")

    signed_in = run(driver, "signInWithPassword", "ampli", "Ampli-Passw0rd!")
    assert signed_in == {"isSignedIn": True, "step": "DONE"}, signed_in
    assert run(driver, "register") is True
    listed = run(driver, "list")
    assert len(listed) == 1 and listed[0]["rp"] == "localhost", listed
    assert run(driver, "signOut") is True

    passkey = run(driver, "signInWithPasskey", "ampli")
    assert passkey == {"isSignedIn": True, "step": "DONE", "username": "ampli"}, passkey
    assert driver.get_credentials()[0].sign_count >= 1
