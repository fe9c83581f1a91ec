"""Email through an aiosmtpd server that requires STARTTLS (a self-signed certificate made here, trusted through
``smtp_ca_file``) and AUTH: a wrong password is a failed attempt with a clear error that never holds the password,
a worker that skips STARTTLS is refused, and the right password delivers over TLS."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from email import message_from_bytes, policy

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.notify.conftest import eventually, sign_in
from tests.notify.test_delivery import ALICE, _free_port

USER = "bithedge-mailer"
PASSWORD = "s3cret-Sm7p-pa55"
WRONG = "wrong-Pa55-guess"


def _self_signed(tmp_path) -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bithedge test smtp")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp_path / "smtp.crt", tmp_path / "smtp.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_file), str(key_file)


class _Sink:
    def __init__(self) -> None:
        self.messages: list[dict] = []
        self.logins: list[tuple[str, bool]] = []

    def authenticate(self, _server, session, _envelope, _mechanism, auth_data) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        ok = auth_data.login.decode() == USER and auth_data.password.decode() == PASSWORD
        self.logins.append((auth_data.login.decode(), ok))
        return AuthResult(success=ok, handled=False)

    async def handle_DATA(self, _server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append({"content": envelope.content, "tls": session.ssl is not None,
                              "login": session.login_data})
        return "250 OK"


async def test_email_requires_starttls_and_auth(api, admin, worker, tmp_path, capfd):
    cert, key = _self_signed(tmp_path)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)
    sink = _Sink()
    port = _free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port, tls_context=tls, require_starttls=True,
                            auth_required=True, auth_require_tls=True, authenticator=sink.authenticate)
    controller.start()
    smtp = {"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_starttls": True, "smtp_user": USER,
            "smtp_ca_file": cert, "max_attempts": 100}
    try:
        client = await api(notify_smtp_host="127.0.0.1", notify_smtp_port=port)
        session = await sign_in(client, ALICE)
        auth = {"Authorization": f"Bearer {session['token']}"}

        async def attempts_with(text):
            rows = await admin.fetch("SELECT error FROM notify.delivery_attempts WHERE status = 'failed'")
            return [r["error"] for r in rows if text in (r["error"] or "")]

        # the wrong password: refused by the server, logged as a failed attempt saying so, never the password
        bad = await worker(**smtp, smtp_password=WRONG)
        resp = await client.post("/v1/me/channels", json={"kind": "email", "target": "alice@example.com"},
                                 headers=auth)
        assert resp.status == 201
        channel = await resp.json()
        errors = await eventually(lambda: attempts_with("SMTP authentication failed"))
        assert errors and f"user '{USER}'" in errors[0] and "535" in errors[0]
        assert (USER, False) in sink.logins and sink.messages == []
        await bad.stop()
        # without STARTTLS the server offers no AUTH: refused as well, before any password is sent
        plain = await worker(**{**smtp, "smtp_starttls": False}, smtp_password=PASSWORD)
        assert await eventually(lambda: attempts_with("AUTH extension not supported"))
        await plain.stop()
        assert sink.messages == []
        log = await (await client.get("/v1/me/deliveries", headers=auth)).json()
        shown = str(log) + "".join(await attempts_with(""))
        out, err = capfd.readouterr()
        for secret in (WRONG, PASSWORD):
            assert secret not in shown and secret not in out + err

        # the right password over STARTTLS: the verification message arrives, encrypted and authenticated
        await worker(**smtp, smtp_password=PASSWORD)
        assert await eventually(lambda: _has(sink.messages))
        got = sink.messages[0]
        assert got["tls"] and (USER, True) in sink.logins
        mail = message_from_bytes(got["content"], policy=policy.default)
        assert mail["To"] == "alice@example.com" and mail.get_body(("plain",)) is not None
        row = await eventually(lambda: admin.fetchrow(  # the receipt comes before the worker's commit of it
            "SELECT status, attempts FROM notify.outbox WHERE channel_id = $1 AND purpose = 'verification'"
            " AND status = 'sent'", channel["channel_id"]))
        assert row and row["attempts"] >= 3
        out, err = capfd.readouterr()
        assert PASSWORD not in out + err
    finally:
        controller.stop()


async def _has(items) -> bool:
    return bool(items)
