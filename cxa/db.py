"""Database access: engines and connections built from one URL, and the migration entry point."""

from pathlib import Path

import psycopg
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from psycopg_pool import AsyncConnectionPool
from sqlalchemy.engine import make_url

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def sqlalchemy_url(url: str) -> str:
    """The URL with the psycopg 3 driver named, whichever form it was given in."""
    parsed = make_url(url)
    return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def libpq_url(url: str) -> str:
    """The URL in the plain ``postgresql://`` form that psycopg and libpq take."""
    parsed = make_url(url)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def connect(url: str, **kwargs: object) -> psycopg.Connection:
    """A plain psycopg connection (for COPY, bulk writes and small admin tasks)."""
    return psycopg.connect(libpq_url(url), **kwargs)  # type: ignore[arg-type]


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", sqlalchemy_url(url).replace("%", "%%"))
    return config


def migrate(url: str, revision: str = "head") -> None:
    """Apply the versioned migrations up to ``revision``."""
    command.upgrade(alembic_config(url), revision)


def current_revision(url: str) -> str | None:
    with connect(url) as conn:
        exists = conn.execute("SELECT to_regclass('public.alembic_version')").fetchone()
        if not exists or exists[0] is None:
            return None
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        return row[0] if row else None


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config("postgresql://")).get_current_head()
    assert head is not None
    return head


def require_migrated(url: str) -> None:
    """Raise, naming the fix, unless the database is at the code's migration head."""
    current, head = current_revision(url), head_revision()
    if current != head:
        raise RuntimeError(
            f"the database is at migration {current or 'none'}, this version needs {head}: run `cxa migrate`"
        )


class LazyAsyncPool:
    """A small checked psycopg pool that opens on first use, so building it does no I/O."""

    def __init__(self, url: str) -> None:
        self._pool = AsyncConnectionPool(
            libpq_url(url), min_size=1, max_size=2, open=False, check=AsyncConnectionPool.check_connection
        )

    async def opened(self) -> AsyncConnectionPool:
        if self._pool.closed:
            await self._pool.open()
        return self._pool

    async def close(self) -> None:
        await self._pool.close()
