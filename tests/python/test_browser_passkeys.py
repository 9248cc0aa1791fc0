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
