"""Which PostgreSQL to use: ``DATABASE_URL`` when set, otherwise the embedded server under the data dir."""

from __future__ import annotations

from bithedge.embedded_pg import EmbeddedPostgres
from bithedge.settings import Settings


def embedded(settings: Settings) -> EmbeddedPostgres:
    return EmbeddedPostgres(settings.data_dir / "pg", run_as=settings.pg_user, port=settings.pg_port,
                            host=settings.host)


def uses_embedded(settings: Settings) -> bool:
    return settings.database_url is None


def database_url(settings: Settings) -> str:
    """The URL every component connects with; the embedded server must be started to know its port."""
    if settings.database_url:
        return settings.database_url
    return embedded(settings).url()


def role_url(url: str, role: str) -> str:
    """The same server and database as ``url``, connecting as ``role``. For the embedded server (trust
    authentication on loopback, no passwords); an external server needs its own per-role credentials."""
    scheme, rest = url.split("://", 1)
    host = rest.split("@", 1)[1] if "@" in rest else rest
    return f"{scheme}://{role}@{host}"


def start(settings: Settings) -> str:
    """Ensure a database is up and return its URL (a no-op for an external server)."""
    if settings.database_url:
        return settings.database_url
    return embedded(settings).start()


def stop(settings: Settings) -> None:
    if not settings.database_url:
        embedded(settings).stop()
