"""Code delivery end to end: the real binary sends through a real SMTP server and a webhook.

The SMTP server is aiosmtpd on 127.0.0.1; the webhook is a small http.server. Each test starts
its own cognito-mfa with the delivery flags, then checks what arrived against the outbox
(`GET /_cognito-mfa/outbox`), which keeps every message whether or not it was delivered.
"""

from __future__ import annotations

import email
import email.policy
import json
import queue
import re
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from aiosmtpd.controller import Controller

from conftest import free_port, make_client, unique_name

PASSWORD = "Passw0rd!Passw0rd"



class SmtpCapture:
    """aiosmtpd handler: queues (mail_from, rcpt_tos, raw content) per accepted message."""

    def __init__(self) -> None:
        self.messages: queue.Queue = queue.Queue()

    async def handle_DATA(self, server, session, envelope):
        self.messages.put((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server():
    handler = SmtpCapture()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller, handler
    finally:
        controller.stop()


def outbox(srv, **params) -> list[dict]:
    r = requests.get(f"{srv.url}/_cognito-mfa/outbox", params=params, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["messages"]


def wait_for(predicate, timeout: float = 10.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.1)


def test_sign_up_code_arrives_by_smtp_and_confirms(server_factory, smtp_server):
    controller, capture = smtp_server
    srv = server_factory(
        args=[
            "--password-hash", "fast",
            "--smtp-url", f"smtp://127.0.0.1:{controller.port}",
            "--smtp-from", "no-reply@example.com",
        ]
    )
    c = make_client(srv)
    pool_id = c.create_user_pool(
        PoolName=unique_name(),
        AutoVerifiedAttributes=["email"],
        VerificationMessageTemplate={
            "EmailMessage": "Hello, your code is {####}.",
            "EmailSubject": "Welcome",
            "DefaultEmailOption": "CONFIRM_WITH_CODE",
        },
    )["UserPool"]["Id"]
    client_id = c.create_user_pool_client(UserPoolId=pool_id, ClientName="app")["UserPoolClient"]["ClientId"]
    address = f"user-{uuid.uuid4().hex[:8]}@example.com"
    out = c.sign_up(
        ClientId=client_id,
        Username="alice",
        Password=PASSWORD,
        UserAttributes=[{"Name": "email", "Value": address}],
    )
    assert out["CodeDeliveryDetails"]["DeliveryMedium"] == "EMAIL"

    try:
        mail_from, rcpt_tos, raw = capture.messages.get(timeout=10)
    except queue.Empty:
        pytest.fail(f"no mail within 10 s\n--- server stderr ---\n{srv.stderr_text()[-3000:]}")
    assert mail_from == "no-reply@example.com"
    assert rcpt_tos == [address]
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert msg["To"] == address
    assert msg["From"] == "no-reply@example.com"
    assert msg["Subject"] == "Welcome"
    assert msg["Date"] and msg["Message-ID"]
    body = msg.get_content()
    m = re.search(r"Hello, your code is (\d{6})\.", body)
    assert m, body
    code = m.group(1)

    # The outbox holds the same message, and the worker marks it delivered.
    def delivered():
        msgs = [x for x in outbox(srv, pool_id=pool_id) if x["destination"] == address]
        return msgs if msgs and msgs[0]["deliveredAt"] is not None else None

    entry = wait_for(delivered, 5.0, "deliveredAt in the outbox")[0]
    assert entry["channel"] == "EMAIL" and entry["subject"] == "Welcome"
    assert code in entry["body"]
    assert entry["attempts"] == 1
    assert entry["deliveredAt"] >= entry["createdAt"]

    c.confirm_sign_up(ClientId=client_id, Username="alice", ConfirmationCode=code)
    assert c.admin_get_user(UserPoolId=pool_id, Username="alice")["UserStatus"] == "CONFIRMED"
    # The password is never in the log; the message body (the code) is not either.
    assert code not in srv.stderr_text()


class WebhookCapture(BaseHTTPRequestHandler):
    """Answers the first `fail_first` POSTs with 503, then 200; queues each parsed body."""

    received: queue.Queue
    fail_first: int
    lock = threading.Lock()

    def do_POST(self):  # noqa: N802 (http.server's naming)
        length = int(self.headers.get("Content-Length", "0"))
        body = json.loads(self.rfile.read(length))
        with self.lock:
            fail = type(self).fail_first > 0
            if fail:
                type(self).fail_first -= 1
        self.received.put((self.path, self.headers.get("Content-Type"), body, fail))
        self.send_response(503 if fail else 200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook_server():
    handler = type("Hook", (WebhookCapture,), {"received": queue.Queue(), "fail_first": 1})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    try:
        yield httpd, handler
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_sms_invitation_goes_to_the_webhook_and_is_retried(server_factory, webhook_server):
    httpd, hook = webhook_server
    port = httpd.server_address[1]
    srv = server_factory(
        args=[
            "--password-hash", "fast",
            "--webhook-url", f"http://127.0.0.1:{port}/sms?token=s3cret",
            "--webhook-channels", "sms",
        ]
    )
    c = make_client(srv)
    pool_id = c.create_user_pool(PoolName=unique_name())["UserPool"]["Id"]
    phone = "+15555550123"
    temp = "Temp0rary!Pass"
    c.admin_create_user(
        UserPoolId=pool_id,
        Username="bob",
        TemporaryPassword=temp,
        UserAttributes=[{"Name": "phone_number", "Value": phone}],
        DesiredDeliveryMediums=["SMS"],
    )

    # The first POST is answered 503; the worker retries after its first backoff (5 s).
    first = hook.received.get(timeout=10)
    assert first[3] is True, "the first answer was a failure"
    try:
        path, content_type, body, failed = hook.received.get(timeout=15)
    except queue.Empty:
        pytest.fail(f"no retry within 15 s\n--- server stderr ---\n{srv.stderr_text()[-3000:]}")
    assert not failed
    assert path == "/sms?token=s3cret"
    assert content_type == "application/json"
    assert body == first[2], "a retry sends the same message"
    assert body["channel"] == "SMS"
    assert body["destination"] == phone
    assert body["subject"] is None
    assert body["poolId"] == pool_id
    assert body["username"] == "bob"
    assert body["purpose"] == "INVITATION"
    assert temp in body["body"] and "bob" in body["body"]

    def delivered():
        msgs = outbox(srv, pool_id=pool_id, username="bob")
        return msgs if msgs and msgs[0]["deliveredAt"] is not None else None

    entry = wait_for(delivered, 5.0, "deliveredAt in the outbox")[0]
    assert entry["attempts"] == 2
    assert entry["body"] == body["body"]
    log = srv.stderr_text()
    assert "s3cret" not in log and temp not in log
