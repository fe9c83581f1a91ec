"""The optional login: the API's keys (``api.keys``) and admins' notify sessions, no user store of its own.

The presented key never leaves this process: its lookup prefix and SHA-256 go to
``public.bithedge_credential(prefix, digest)`` (migration 0015), a SECURITY DEFINER function that answers with
the scopes, expiry and state of a matching credential, so ``bithedge_reader`` never reads a digest. (Asking the
API over loopback would make the dashboards depend on the API daemon being up; the function needs only the
database the dashboards already read.)

A login starts a session in the database (``dashboards.sessions``, migration 0014, through its SECURITY DEFINER
functions): the browser's HttpOnly, SameSite=Lax cookie carries a random token, the row holds its SHA-256 (never
the token), the key's prefix and digest and the expiry. Every request looks the session up and checks its key
in the same query, so a key revoked or expired in the database is refused on the next request (and its session
deleted); logout deletes the row, so a copied cookie is dead too. Sessions outlive a restart of the dashboards
and are shared by all their processes.
"""

from __future__ import annotations

import hashlib
import html
import ipaddress
import logging
import re
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import Flask, Response, redirect, request, session

from dashboards.db import Database, Unavailable

log = logging.getLogger("bithedge.dashboards.auth")
#: what a key must carry to open the dashboards
ALLOWED_SCOPES = frozenset({"read", "admin"})
#: API keys (``bhk_``) and notify tokens (``bhs_`` sessions, ``bhk_`` user keys): 12 hex of lookup prefix
_KEY = re.compile(r"^(?:bhk|bhs)_([0-9a-f]{12})_[A-Za-z0-9_-]{16,200}$")
#: reachable without a login: the login itself, the operations endpoints, and the app's static code
_OPEN = ("/login", "/logout", "/health", "/ready", "/metrics", "/_dash-component-suites/", "/assets/",
         "/_favicon.ico")
_CHECK = "SELECT source, scopes, expires_at, state FROM public.bithedge_credential(:prefix, :digest)"
#: the session of a token digest and the verdict on its key, in one round trip (no row: no live session)
_SESSION_CHECK = ("SELECT c.source, c.scopes, c.expires_at, c.state FROM public.bithedge_dashboards_session(:digest) s "
                  "CROSS JOIN LATERAL public.bithedge_credential(s.key_prefix, s.key_digest) c")
#: the cookie holding the session token (Flask's own signed session only carries the login page's note)
COOKIE = "bithedge_dashboards"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def login_required(mode: str, host: str) -> bool:
    """``auto``: on exactly when the app listens beyond loopback; ``off`` there is a configuration error."""
    if mode == "on":
        return True
    if mode == "off":
        if not is_loopback(host):
            raise ValueError(f"BITHEDGE_DASHBOARDS_LOGIN=off on the non-loopback interface {host!r} would open the "
                             "analytics to the network: use auto or on (or listen on loopback)")
        return False
    return not is_loopback(host)


@dataclass(frozen=True)
class Presented:
    prefix: str
    digest: bytes


def presented(key: str) -> Presented | None:
    """The lookup prefix and digest of a well-formed key (else ``None``: refused without a database call)."""
    key = (key or "").strip()
    if not (m := _KEY.match(key)):
        return None
    return Presented(m.group(1), hashlib.sha256(key.encode()).digest())


def verdict(db: Database, cred: Presented) -> str | None:
    """``None`` when ``cred`` may open the dashboards now, else why not (one sentence for the login page)."""
    return _judge(db.rows(_CHECK, prefix=cred.prefix, digest=cred.digest)) or None


def _judge(rows) -> str:
    """'' when one of the credential's rows may open the dashboards, else why not."""
    if not rows:
        return "Unknown key."
    refusals = []
    for source, scopes, _expires, state in rows:
        if state != "active":
            refusals.append(f"This key is {state}.")
        elif not ALLOWED_SCOPES & set(scopes or ()):
            refusals.append("This key has neither the read nor the admin scope."
                            if source == "api" else "Only an admin's session opens the dashboards.")
        else:
            return ""
    return refusals[0]


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


class Login:
    """The guard in front of every route but ``_OPEN``. ``enabled`` may change at run time (tests)."""

    def __init__(self, db_of, *, enabled: bool, ttl_s: int, cookie_secure: bool) -> None:
        self._db_of = db_of
        self.enabled = enabled
        self.ttl_s = ttl_s
        self.cookie_secure = cookie_secure

    # sessions (dashboards.sessions, by the SHA-256 of the cookie's token) ----------------------------------
    def _start(self, cred: Presented, resp: Response) -> Response:
        token = secrets.token_urlsafe(32)
        self._db_of().call("SELECT public.bithedge_dashboards_session_start(:digest, :prefix, :key_digest, :ttl)",
                           digest=_digest(token), prefix=cred.prefix, key_digest=cred.digest, ttl=self.ttl_s)
        resp.set_cookie(COOKIE, token, max_age=self.ttl_s, httponly=True, samesite="Lax", secure=self.cookie_secure)
        return resp

    def _token(self) -> str | None:
        token = request.cookies.get(COOKIE, "")
        return token if _TOKEN.match(token) else None

    def _end(self, token: str) -> None:
        self._db_of().call("SELECT public.bithedge_dashboards_session_end(:digest)", digest=_digest(token))

    # the guard --------------------------------------------------------------------------------------------
    def before_request(self):
        if not self.enabled or request.path.startswith(_OPEN):
            return None
        bearer = request.headers.get("Authorization", "")
        bearer = bearer[7:] if bearer[:7].lower() == "bearer " else None
        token = None if bearer is not None else self._token()
        try:  # fail closed: no database, no login check
            if bearer is not None:
                cred = presented(bearer)
                why = verdict(self._db_of(), cred) if cred else "Not an API key (bhk_… or bhs_…)."
            elif token:
                rows = self._db_of().rows(_SESSION_CHECK, digest=_digest(token))
                why = (_judge(rows) or None) if rows else "Log in with an API key."
                if rows and why:  # the session's key was refused: the session ends here, the login page says why
                    self._end(token)
                    session["refused"] = why
            else:
                why = "Log in with an API key."
        except Unavailable as u:
            return Response(f"{u} (the login cannot be checked)", 503, mimetype="text/plain")
        if why is None:
            return None
        if request.path.startswith("/_dash-") or bearer is not None:
            # Dash's own requests: the page's script (assets/login.js) sends the browser to the login page
            resp = Response(why, 401, mimetype="text/plain", headers={"WWW-Authenticate": "Bearer"})
        else:
            resp = redirect("/login?next=" + _safe_next(request.full_path))
        if token:
            resp.delete_cookie(COOKIE)
        return resp

    def login_page(self):
        if request.method == "GET":
            note = session.pop("refused", None)
            return self._form(request.args.get("next", "/"), note, 200)
        target = _safe_next(request.form.get("next", "/"))
        cred = presented(request.form.get("key", ""))
        try:
            why = verdict(self._db_of(), cred) if cred else "Not an API key (bhk_… or bhs_…)."
        except Unavailable as u:
            return self._form(target, f"{u} The login cannot be checked now.", 503)
        if why is not None:
            log.info("dashboards login refused: %s", why)  # never the key
            return self._form(target, why, 401)
        session.clear()
        try:
            return self._start(cred, redirect(target))
        except Unavailable as u:
            return self._form(target, f"{u} The login cannot be checked now.", 503)

    def logout(self):
        if token := self._token():
            try:
                self._end(token)
            except Unavailable as u:  # the session would outlive the logout: say so rather than pretend
                return Response(f"{u} (the session cannot be ended now; try again)", 503, mimetype="text/plain")
        resp = redirect("/login?out=1")
        resp.delete_cookie(COOKIE)
        return resp

    def _form(self, target: str, note: str | None, status: int) -> Response:
        out = request.args.get("out") and request.method == "GET"
        msg = note or ("You are logged out." if out else "")
        body = f"""<!doctype html><html><head><meta charset="utf-8"><title>BitHedge analytics · log in</title>
<link rel="stylesheet" href="/assets/style.css"></head><body class="login"><main class="login-box">
<h1>BitHedge analytics</h1><p>These dashboards are exposed beyond this machine: log in with an API key that has
the <code>read</code> scope (<code>bithedge api keys create --scope read</code>) or an admin's session token.</p>
<form method="post" action="/login"><input type="hidden" name="next" value="{html.escape(target)}">
<label for="key">API key</label><input id="key" name="key" type="password" autocomplete="off" autofocus
 class="input" placeholder="bhk_…"><button id="login" type="submit">Log in</button></form>
<p id="login-note" class="notice {'notice-error' if note else 'notice-info'}" role="status">{html.escape(msg)}</p>
</main></body></html>"""
        return Response(body, status, mimetype="text/html")


def _safe_next(target: str) -> str:
    """Only a path of this app (never another site) after the login."""
    parts = urlsplit(target or "/")
    if parts.scheme or parts.netloc or not parts.path.startswith("/") or parts.path.startswith("//"):
        return "/"
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return "/" if path.startswith(("/login", "/logout")) else path


def register(server: Flask, db_of, *, enabled: bool, secret_key: str | None, ttl_s: int,
             cookie_secure: bool) -> Login:
    from datetime import timedelta

    # Flask's signed session carries only the login page's note (why a session ended): a new random key at a
    # restart loses a note, never a login
    server.secret_key = secret_key or secrets.token_bytes(32)
    server.config.update(SESSION_COOKIE_NAME=COOKIE + "_note", SESSION_COOKIE_HTTPONLY=True,
                         SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_SECURE=cookie_secure,
                         PERMANENT_SESSION_LIFETIME=timedelta(seconds=ttl_s))
    login = Login(db_of, enabled=enabled, ttl_s=ttl_s, cookie_secure=cookie_secure)
    server.before_request(login.before_request)
    server.add_url_rule("/login", "login", login.login_page, methods=["GET", "POST"])
    server.add_url_rule("/logout", "logout", login.logout, methods=["POST"])
    return login
