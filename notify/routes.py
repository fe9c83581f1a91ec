"""The notify endpoints, served by the API (``api.app.ROUTE_MODULES``): wallet sign-in, the signed-in user's
profile, addresses, tokens, channels, subscriptions, in-app notifications and delivery log.

Routes are public to the API-key layer (``scope=None``) and authenticate the *user* themselves: a session token
or user API key from ``/v1/auth/signin`` / ``/v1/me/keys`` as ``Authorization: Bearer``. Secrets (tokens, webhook
secrets) appear once, in the answer that creates them, and never again.
"""

from __future__ import annotations

import json
import secrets as _random
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from api.auth import presented_key
from api.problems import Problem, not_found
from api.routing import BodyModel, Ctx, PathModel, QueryModel, RouteTable
from bithedge import channels
from notify import accounts, kinds, relay, templates
from notify.secrets import SecretBox, load_key, matches, new_webhook_secret
from notify.targets import TargetError, check_email, check_url, resolve_checked

# Text that reaches PostgreSQL: no control characters (a NUL is not storable in text and would be a 500).
Line = Annotated[str, Field(pattern=r"^[^\x00-\x1f\x7f]*$")]
Hex = Annotated[str, Field(pattern=r"^(0[xX])?[0-9a-fA-F]*$")]

routes = RouteTable("notify", "Wallet sign-in, subscriptions, channels and notifications")
WAKE_CHANNEL = channels.NOTIFY_WAKE


def _cfg(ctx: Ctx) -> accounts.SigninConfig:
    s = ctx.state.settings
    return accounts.SigninConfig(chain_id=s.notify_chain_id, domain_name=s.notify_signin_domain,
                                 domain_version=s.notify_signin_version, challenge_ttl_s=s.notify_challenge_ttl_s,
                                 session_ttl_s=s.notify_session_ttl_s)


def _box(ctx: Ctx) -> SecretBox:
    box = ctx.state.extras.get("notify_box")
    if box is None:
        s = ctx.state.settings
        key = load_key(s.notify_secret_key.get_secret_value() if s.notify_secret_key else None, s.data_dir)
        box = ctx.state.extras["notify_box"] = SecretBox(key)
    return box


def _refused(exc: accounts.AuthError) -> Problem:
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else {}
    return Problem(exc.status, {401: "Unauthorized", 409: "Conflict", 422: "Unprocessable Content"}[exc.status],
                   str(exc), type="urn:bithedge:signin-refused", headers=headers)


async def _user(ctx: Ctx) -> accounts.Principal:
    token = presented_key(ctx.request)
    if not token:
        raise Problem(401, "Unauthorized", "sign in: send `Authorization: Bearer <session token>`",
                      headers={"WWW-Authenticate": "Bearer"})
    async with ctx.db.acquire() as conn:
        try:
            return await accounts.authenticate(conn, token)
        except accounts.AuthError as exc:
            raise _refused(exc) from None


# ---- sign-in ---------------------------------------------------------------------------------------------------
class ChallengeBody(BodyModel):
    address: str = Field(max_length=64, pattern=r"^[A-Za-z0-9]+$",
                         description="The wallet's Stacks address (single-sig, this chain's network).")


class Challenge(BaseModel):
    nonce: str
    address: str
    expires_at: datetime
    domain: dict[str, Any] = Field(description="SIP-018 domain, typed Clarity JSON.")
    message: dict[str, Any] = Field(description="SIP-018 message, typed Clarity JSON.")
    domain_hex: str = Field(description="Consensus bytes of the domain (what stx_signStructuredMessage takes).")
    message_hex: str = Field(description="Consensus bytes of the message.")
    hash: str = Field(description="The SIP-018 hash the wallet signs.")


class SigninBody(BodyModel):
    nonce: str = Field(max_length=64, pattern=r"^[0-9a-f]+$")
    signature: Hex = Field(max_length=200, description="65 bytes hex, RSV as wallets return it (0x optional).")
    public_key: Hex | None = Field(default=None, max_length=140, description="The key the wallet returned.")


class Session(BaseModel):
    token: str = Field(description="Bearer token, shown once.")
    user_id: int
    address: str
    expires_at: datetime


@routes.post("/v1/auth/challenge", scope=None, status=201, errors=(422,))
async def signin_challenge(ctx: Ctx, *, body: ChallengeBody) -> Challenge:
    """Issue a SIP-018 sign-in message for an address (nonce-bearing, expiring, usable once)."""
    async with ctx.db.acquire() as conn:
        try:
            return Challenge(**await accounts.issue_challenge(conn, _cfg(ctx), body.address))
        except accounts.AuthError as exc:
            raise _refused(exc) from None


@routes.post("/v1/auth/signin", scope=None, status=201, errors=(401, 409, 422))
async def signin(ctx: Ctx, *, body: SigninBody) -> Session:
    """Verify the wallet's signature of a challenge; answers a session token (the user is created on first sign-in)."""
    async with ctx.db.acquire() as conn:
        try:
            done = await accounts.complete_signin(conn, _cfg(ctx), body.nonce, body.signature, body.public_key)
        except accounts.AuthError as exc:
            raise _refused(exc) from None
    if done["linked"]:
        raise Problem(409, "Conflict", "this challenge links an address: POST it to /v1/me/addresses")
    return Session(token=done["token"], user_id=done["user_id"], address=done["address"],
                   expires_at=done["expires_at"])


class Done(BaseModel):
    ok: bool = True


@routes.post("/v1/auth/signout", scope=None, errors=(401,))
async def signout(ctx: Ctx) -> Done:
    """Revoke the session (or user API key) this request is authenticated with."""
    who = await _user(ctx)
    async with ctx.db.acquire() as conn:
        await accounts.revoke(conn, who.user_id, who.session_id)
    return Done()


# ---- the user --------------------------------------------------------------------------------------------------
class Profile(BaseModel):
    user_id: int
    addresses: list[str]
    display_name: str | None
    email: str | None
    is_admin: bool
    rate_limit_per_hour: int | None


class ProfileBody(BodyModel):
    display_name: Line | None = Field(default=None, max_length=100)
    email: Line | None = Field(default=None, max_length=254)
    rate_limit_per_hour: int | None = Field(default=None, ge=1, le=10_000)


async def _profile(ctx: Ctx, user_id: int) -> Profile:
    row = await ctx.db.fetchrow(
        "SELECT u.user_id, u.display_name, u.email, u.is_admin, u.rate_limit_per_hour,"
        " array(SELECT address FROM notify.user_addresses a WHERE a.user_id = u.user_id ORDER BY added_at) AS addresses"
        " FROM notify.users u WHERE u.user_id = $1", user_id)
    return Profile(**dict(row))


@routes.get("/v1/me", scope=None, errors=(401,))
async def me(ctx: Ctx) -> Profile:
    """The signed-in user's profile and addresses."""
    return await _profile(ctx, (await _user(ctx)).user_id)


@routes.post("/v1/me/profile", scope=None, errors=(401, 422))
async def update_profile(ctx: Ctx, *, body: ProfileBody) -> Profile:
    """Change display name, contact email or the personal rate limit (fields left out stay as they are)."""
    who = await _user(ctx)
    fields = body.model_dump(exclude_unset=True)
    if fields.get("email"):
        try:
            fields["email"] = check_email(fields["email"])
        except TargetError as exc:
            raise Problem(422, "Unprocessable Content", str(exc)) from None
    await ctx.db.execute(
        "UPDATE notify.users SET display_name = CASE WHEN $2 THEN $3 ELSE display_name END,"
        " email = CASE WHEN $4 THEN $5 ELSE email END,"
        " rate_limit_per_hour = CASE WHEN $6 THEN $7 ELSE rate_limit_per_hour END WHERE user_id = $1",
        who.user_id, "display_name" in fields, fields.get("display_name"), "email" in fields, fields.get("email"),
        "rate_limit_per_hour" in fields, fields.get("rate_limit_per_hour"))
    return await _profile(ctx, who.user_id)


@routes.post("/v1/me/addresses/challenge", scope=None, status=201, errors=(401, 422))
async def address_challenge(ctx: Ctx, *, body: ChallengeBody) -> Challenge:
    """A sign-in message that, once signed by the new address's wallet, adds that address to this user."""
    who = await _user(ctx)
    async with ctx.db.acquire() as conn:
        try:
            return Challenge(**await accounts.issue_challenge(conn, _cfg(ctx), body.address, who.user_id))
        except accounts.AuthError as exc:
            raise _refused(exc) from None


@routes.post("/v1/me/addresses", scope=None, errors=(401, 409, 422))
async def add_address(ctx: Ctx, *, body: SigninBody) -> Profile:
    """Verify the signed address challenge and add the address."""
    who = await _user(ctx)
    async with ctx.db.acquire() as conn:
        owner = await conn.fetchval("SELECT link_user_id FROM notify.signin_challenges WHERE nonce = $1", body.nonce)
        if owner != who.user_id:
            raise Problem(401, "Unauthorized", "not an address challenge of this user")
        try:
            await accounts.complete_signin(conn, _cfg(ctx), body.nonce, body.signature, body.public_key)
        except accounts.AuthError as exc:
            raise _refused(exc) from None
    return await _profile(ctx, who.user_id)


class KeyBody(BodyModel):
    label: Line = Field(max_length=100)
    ttl_days: int = Field(default=90, ge=1, le=365)


class UserKey(BaseModel):
    token: str = Field(description="The key, shown once.")
    expires_at: datetime


@routes.post("/v1/me/keys", scope=None, status=201, errors=(401,))
async def create_user_key(ctx: Ctx, *, body: KeyBody) -> UserKey:
    """A long-lived user API key (same powers as a session; revoke with DELETE /v1/me/sessions/{id})."""
    who = await _user(ctx)
    async with ctx.db.acquire() as conn:
        token, expires = await accounts.create_token(conn, who.user_id, "api_key", body.ttl_days * 86_400, body.label)
    return UserKey(token=token, expires_at=expires)


class SessionInfo(BaseModel):
    session_id: int
    kind: str
    label: str | None
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    current: bool


@routes.get("/v1/me/sessions", scope=None, errors=(401,))
async def list_sessions(ctx: Ctx) -> list[SessionInfo]:
    """Live sessions and user API keys (never the tokens)."""
    who = await _user(ctx)
    rows = await ctx.db.fetch(
        "SELECT session_id, kind, label, created_at, expires_at, last_used_at FROM notify.sessions"
        " WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > now() ORDER BY session_id", who.user_id)
    return [SessionInfo(**dict(r), current=r["session_id"] == who.session_id) for r in rows]


BIGINT_MAX = 2**63 - 1


class IdPath(PathModel):
    id: int = Field(ge=1, le=BIGINT_MAX)


@routes.delete("/v1/me/sessions/{id}", scope=None, errors=(401, 404))
async def revoke_session(ctx: Ctx, *, path: IdPath) -> Done:
    """Revoking a session or user API key: refused from its next request on."""
    who = await _user(ctx)
    async with ctx.db.acquire() as conn:
        if not await accounts.revoke(conn, who.user_id, path.id):
            raise not_found("session")
    return Done()


class UserStreamToken(BaseModel):
    token: str = Field(description="Pass as `?token=` to `/v1/stream`: the stream then carries this user's "
                                   "in-app notifications (EventSource cannot send headers).")
    expires_at: datetime


@routes.post("/v1/me/stream/token", scope=None, status=201, errors=(401, 503))
async def user_stream_token(ctx: Ctx) -> UserStreamToken:
    """A short-lived token for `/v1/stream?token=` naming this session (checked again when the stream opens)."""
    who = await _user(ctx)
    hub = ctx.state.extras.get("stream")
    if hub is None or relay.relay_of(ctx.state) is None:
        raise Problem(503, "Service Unavailable", "this API serves no stream")
    token, expires = relay.stream_token(hub, who.session_id, ctx.state.settings.api_stream_token_ttl_s)
    return UserStreamToken(token=token, expires_at=datetime.fromtimestamp(expires, UTC))


routes.lifespan(relay.run_relay)


# ---- channels --------------------------------------------------------------------------------------------------
class Template(BaseModel):
    subject: Line | None = Field(default=None, max_length=templates.MAX_TEMPLATE)
    text: str | None = Field(default=None, max_length=templates.MAX_TEMPLATE, pattern=r"^[^\x00]*$")


class ChannelBody(BodyModel):
    kind: Literal["webhook", "email", "in_app"]
    target: Line = Field(default="", max_length=4096, description="Webhook URL or email address ('' for in_app).")
    template: Template | None = None


class Channel(BaseModel):
    channel_id: int
    kind: str
    target: str
    verified: bool
    disabled: bool
    template: dict[str, Any] | None
    secret: str | None = Field(default=None, description="Webhook signing secret: only in the creating answer.")


class VerifyBody(BodyModel):
    code: str = Field(max_length=16, pattern=r"^\s*[0-9]+\s*$")


def _channel(row: Any, secret: str | None = None) -> Channel:
    return Channel(channel_id=row["channel_id"], kind=row["kind"], target=row["target"],
                   verified=row["verified_at"] is not None, disabled=row["disabled_at"] is not None,
                   template=json.loads(row["template"]) if row["template"] else None, secret=secret)


async def _queue_verification(conn: Any, user_id: int, channel_id: int) -> None:
    dedupe = f"verify:{channel_id}:{_random.token_hex(8)}"
    await conn.execute(
        "INSERT INTO notify.outbox (delivery_id, dedupe_key, purpose, user_id, channel_id, payload)"
        " VALUES (md5($1)::uuid, $1, 'verification', $2, $3, '{}'::jsonb)", dedupe, user_id, channel_id)
    await conn.execute("SELECT pg_notify($1, '')", WAKE_CHANNEL)


_CHANNEL_COLUMNS = "channel_id, kind, target, verified_at, disabled_at, template"


@routes.post("/v1/me/channels", scope=None, status=201, errors=(401, 409, 413, 422))
async def create_channel(ctx: Ctx, *, body: ChannelBody) -> Channel:
    """Add a channel. Webhook and email channels get a test message with a code to confirm before first use;
    a webhook's signing secret is in this answer only."""
    who = await _user(ctx)
    settings = ctx.state.settings
    target = body.target.strip()
    template = body.template.model_dump(exclude_none=True) if body.template else None
    try:
        templates.check_template(template)
        if body.kind == "webhook":
            check_url(target, settings.notify_allow_loopback)
            await resolve_checked(target, settings.notify_allow_loopback)
        elif body.kind == "email":
            if not settings.notify_smtp_host:
                raise TargetError("email is not configured on this server")
            target = check_email(target)
        elif target:
            raise TargetError("an in_app channel has no target")
    except templates.TemplateError as exc:
        raise Problem(413 if "longer" in str(exc) else 422, "Unprocessable Content", str(exc)) from None
    except TargetError as exc:
        raise Problem(422, "Unprocessable Content", str(exc), type="urn:bithedge:bad-target") from None
    secret = new_webhook_secret() if body.kind == "webhook" else None
    async with ctx.db.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(
            "INSERT INTO notify.channels (user_id, kind, target, template, verified_at) VALUES ($1, $2, $3, $4::jsonb,"
            " CASE WHEN $2 = 'in_app' THEN now() END) ON CONFLICT (user_id, kind, target) DO NOTHING"
            f" RETURNING {_CHANNEL_COLUMNS}", who.user_id, body.kind, target,
            json.dumps(template) if template else None)
        if row is None:
            raise Problem(409, "Conflict", "this channel exists already")
        if secret:
            await conn.execute("UPDATE notify.channels SET secret_enc = $2 WHERE channel_id = $1", row["channel_id"],
                               _box(ctx).seal(secret, row["channel_id"]))
        if body.kind != "in_app":
            await _queue_verification(conn, who.user_id, row["channel_id"])
    return _channel(row, secret)


@routes.get("/v1/me/channels", scope=None, errors=(401,))
async def list_channels(ctx: Ctx) -> list[Channel]:
    """The user's channels (secrets are never shown again)."""
    who = await _user(ctx)
    rows = await ctx.db.fetch(f"SELECT {_CHANNEL_COLUMNS} FROM notify.channels WHERE user_id = $1 ORDER BY channel_id",
                              who.user_id)
    return [_channel(r) for r in rows]


@routes.post("/v1/me/channels/{id}/verify", scope=None, errors=(401, 404, 422))
async def verify_channel(ctx: Ctx, *, path: IdPath, body: VerifyBody) -> Channel:
    """Confirm a channel with the code its test message carried."""
    who = await _user(ctx)
    async with ctx.db.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(
            "SELECT verify_digest, verify_expires_at > now() AS live FROM notify.channels"
            " WHERE channel_id = $1 AND user_id = $2 FOR UPDATE", path.id, who.user_id)
        if row is None:
            raise not_found("channel")
        if row["verify_digest"] is None or not row["live"] or not matches(body.code.strip(), row["verify_digest"]):
            raise Problem(422, "Unprocessable Content", "wrong or expired code", type="urn:bithedge:bad-code")
        updated = await conn.fetchrow(
            "UPDATE notify.channels SET verified_at = now(), verify_digest = NULL WHERE channel_id = $1"
            f" RETURNING {_CHANNEL_COLUMNS}", path.id)
    return _channel(updated)


@routes.post("/v1/me/channels/{id}/resend", scope=None, errors=(401, 404))
async def resend_verification(ctx: Ctx, *, path: IdPath) -> Done:
    """Send a new test message (a new code)."""
    who = await _user(ctx)
    async with ctx.db.acquire() as conn, conn.transaction():
        kind = await conn.fetchval("SELECT kind FROM notify.channels WHERE channel_id = $1 AND user_id = $2",
                                   path.id, who.user_id)
        if kind is None or kind == "in_app":
            raise not_found("channel")
        await _queue_verification(conn, who.user_id, path.id)
    return Done()


@routes.delete("/v1/me/channels/{id}", scope=None, errors=(401, 404))
async def disable_channel(ctx: Ctx, *, path: IdPath) -> Done:
    """Disable a channel: nothing more is sent to it (its log stays)."""
    who = await _user(ctx)
    status = await ctx.db.execute(
        "UPDATE notify.channels SET disabled_at = now() WHERE channel_id = $1 AND user_id = $2"
        " AND disabled_at IS NULL", path.id, who.user_id)
    if not status.endswith(" 1"):
        raise not_found("channel")
    return Done()


# ---- subscriptions ---------------------------------------------------------------------------------------------
class SubscriptionBody(BodyModel):
    kind: Line = Field(max_length=64, description=f"One of: {', '.join(kinds.KINDS)}.")
    params: dict[str, Any] = Field(default_factory=dict, description="Kind parameters; defaults fill the rest.")
    channel_id: int | None = Field(default=None, ge=1, le=BIGINT_MAX, description="Default: the user's in-app channel.")
    digest: bool = Field(default=False, description="Collect into the daily digest instead of sending at once.")


class Subscription(BaseModel):
    subscription_id: int
    kind: str
    params: dict[str, Any]
    channel_id: int
    digest: bool
    enabled: bool


def _subscription(row: Any) -> Subscription:
    return Subscription(**{**dict(row), "params": json.loads(row["params"])})


@routes.get("/v1/me/subscriptions", scope=None, errors=(401,))
async def list_subscriptions(ctx: Ctx) -> list[Subscription]:
    """The user's subscriptions (new users start with the defaults on their in-app channel)."""
    who = await _user(ctx)
    rows = await ctx.db.fetch(
        "SELECT subscription_id, kind, params, channel_id, digest, enabled FROM notify.subscriptions"
        " WHERE user_id = $1 ORDER BY subscription_id", who.user_id)
    return [_subscription(r) for r in rows]


@routes.post("/v1/me/subscriptions", scope=None, status=201, errors=(401, 404, 409, 422))
async def create_subscription(ctx: Ctx, *, body: SubscriptionBody) -> Subscription:
    """Subscribe a channel (verified) to a kind of fact."""
    who = await _user(ctx)
    try:
        params, key = kinds.normalize(body.kind, body.params)
    except kinds.ParamError as exc:
        raise Problem(422, "Unprocessable Content", str(exc), type="urn:bithedge:bad-params") from None
    if body.kind == "operator_alert" and not who.is_admin:
        raise Problem(422, "Unprocessable Content", "operator alerts are for admin users")
    async with ctx.db.acquire() as conn, conn.transaction():
        channel = await conn.fetchrow(
            "SELECT channel_id, verified_at FROM notify.channels WHERE user_id = $1 AND disabled_at IS NULL"
            " AND (channel_id = $2 OR ($2 IS NULL AND kind = 'in_app')) ORDER BY channel_id LIMIT 1",
            who.user_id, body.channel_id)
        if channel is None:
            raise not_found("channel")
        if channel["verified_at"] is None:
            raise Problem(409, "Conflict", "confirm the channel first (POST /v1/me/channels/{id}/verify)")
        row = await conn.fetchrow(
            "INSERT INTO notify.subscriptions (user_id, channel_id, kind, params, param_key, digest)"
            " VALUES ($1, $2, $3, $4::jsonb, $5, $6) ON CONFLICT (user_id, channel_id, kind, param_key) DO NOTHING"
            " RETURNING subscription_id, kind, params, channel_id, digest, enabled",
            who.user_id, channel["channel_id"], body.kind, json.dumps(params), key, body.digest)
        if row is None:
            raise Problem(409, "Conflict", "this subscription exists already")
    return _subscription(row)


@routes.delete("/v1/me/subscriptions/{id}", scope=None, errors=(401, 404))
async def delete_subscription(ctx: Ctx, *, path: IdPath) -> Done:
    """Stop a subscription (deliveries already decided still go out)."""
    who = await _user(ctx)
    status = await ctx.db.execute(
        "UPDATE notify.subscriptions SET enabled = false WHERE subscription_id = $1 AND user_id = $2 AND enabled",
        path.id, who.user_id)
    if not status.endswith(" 1"):
        raise not_found("subscription")
    return Done()


# ---- in-app notifications and the delivery log -----------------------------------------------------------------
class NotificationQuery(QueryModel):
    unread: bool = False
    archived: bool = False
    limit: int = Field(default=50, ge=1, le=500)
    before: int | None = Field(default=None, ge=1, le=BIGINT_MAX, description="Only ids below this (the next page).")


class Notification(BaseModel):
    notification_id: int
    delivery_id: str
    title: str
    body: str
    payload: dict[str, Any]
    created_at: datetime
    read_at: datetime | None
    archived_at: datetime | None


@routes.get("/v1/me/notifications", scope=None, errors=(401,))
async def list_notifications(ctx: Ctx, *, query: NotificationQuery) -> list[Notification]:
    """In-app notifications, newest first (new ones are also announced on NOTIFY bithedge_notify_in_app)."""
    who = await _user(ctx)
    rows = await ctx.db.fetch(
        "SELECT notification_id, delivery_id::text, title, body, payload, created_at, read_at, archived_at"
        " FROM notify.in_app WHERE user_id = $1 AND (archived_at IS NOT NULL) = $2 AND (NOT $3 OR read_at IS NULL)"
        " AND ($4::bigint IS NULL OR notification_id < $4) ORDER BY notification_id DESC LIMIT $5",
        who.user_id, query.archived, query.unread, query.before, query.limit)
    return [Notification(**{**dict(r), "payload": json.loads(r["payload"])}) for r in rows]


async def _mark(ctx: Ctx, notification_id: int, column: str) -> Done:
    who = await _user(ctx)
    sql = {"read_at": "UPDATE notify.in_app SET read_at = coalesce(read_at, now())"
                      " WHERE notification_id = $1 AND user_id = $2",
           "archived_at": "UPDATE notify.in_app SET archived_at = coalesce(archived_at, now()),"
                          " read_at = coalesce(read_at, now()) WHERE notification_id = $1 AND user_id = $2"}[column]
    status = await ctx.db.execute(sql, notification_id, who.user_id)
    if not status.endswith(" 1"):
        raise not_found("notification")
    return Done()


@routes.post("/v1/me/notifications/{id}/read", scope=None, errors=(401, 404))
async def mark_read(ctx: Ctx, *, path: IdPath) -> Done:
    """Mark an in-app notification read."""
    return await _mark(ctx, path.id, "read_at")


@routes.post("/v1/me/notifications/{id}/archive", scope=None, errors=(401, 404))
async def archive(ctx: Ctx, *, path: IdPath) -> Done:
    """Archive an in-app notification (and mark it read)."""
    return await _mark(ctx, path.id, "archived_at")


class Attempt(BaseModel):
    attempt: int
    status: str
    http_status: int | None
    latency_ms: float | None
    error: str | None
    started_at: datetime


class Delivery(BaseModel):
    delivery_id: str
    purpose: str
    channel_id: int
    status: str
    fact_key: str | None
    attempts: list[Attempt]
    created_at: datetime
    sent_at: datetime | None


class DeliveryQuery(QueryModel):
    limit: int = Field(default=50, ge=1, le=500)


@routes.get("/v1/me/deliveries", scope=None, errors=(401,))
async def list_deliveries(ctx: Ctx, *, query: DeliveryQuery) -> list[Delivery]:
    """The delivery log: each delivery with every attempt (status, HTTP code, latency, error)."""
    who = await _user(ctx)
    rows = await ctx.db.fetch(
        "SELECT o.delivery_id::text, o.purpose, o.channel_id, o.status, o.fact_key, o.created_at, o.sent_at,"
        " coalesce((SELECT jsonb_agg(jsonb_build_object('attempt', a.attempt, 'status', a.status,"
        "   'http_status', a.http_status, 'latency_ms', a.latency_ms, 'error', a.error, 'started_at', a.started_at)"
        "   ORDER BY a.attempt) FROM notify.delivery_attempts a WHERE a.delivery_id = o.delivery_id), '[]') AS attempts"
        " FROM notify.outbox o WHERE o.user_id = $1 ORDER BY o.created_at DESC LIMIT $2", who.user_id, query.limit)
    return [Delivery(**{**dict(r), "attempts": json.loads(r["attempts"])}) for r in rows]
