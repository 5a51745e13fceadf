"""The one typed settings object, built at start-up from ``KEFU_*`` environment variables.

SQLite (WAL) in ``./var/kefu.db`` is the embedded default; PostgreSQL (psycopg 3) is the
production database. Default secrets are refused outside development (DESIGN.md convention 9).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEV_SECRET = "kefu-development-secret-do-not-use-in-production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KEFU_", env_file=".env", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    database_url: str = f"sqlite:///{PROJECT_ROOT / 'var' / 'kefu.db'}"
    policy_dir: Path = PROJECT_ROOT / "policies"
    storage_dir: Path = PROJECT_ROOT / "var" / "uploads"
    outbox_file: Path = PROJECT_ROOT / "var" / "outbox.log"
    secret_key: str = DEV_SECRET
    #: largest evidence upload accepted, in bytes (10 MiB)
    max_upload_bytes: int = 10 * 1024 * 1024
    default_locale: Literal["zh", "en"] = "zh"
    timezone: str = "Asia/Shanghai"
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_sender: str = "kefu@localhost"
    session_max_age_s: int = 14 * 24 * 3600
    #: the app relays the outbox and runs the sweeps itself (embedded default); turn off when a
    #: separate worker does it
    background_jobs: bool = True
    #: load the smart assistant's classifier in the background when the app starts (else on the
    #: first message)
    warm_assistant: bool = True
    #: after start-up, hide the long-lived objects it built (a few hundred MB: models, the
    #: dictionary, the policy book) from the garbage collector (``gc.freeze``), so its full
    #: collections stop pausing requests (bot p99 under load 125 ms -> 43 ms, bench/README.md).
    #: For server processes: a process that starts apps again and again (the test suite) sets
    #: it off, or what each start froze would never be collected
    gc_freeze: bool = True
    #: threads per app process for blocking request work (database calls). Few is faster: more
    #: threads than cores only add GIL hand-offs, and SQLite takes one writer at a time anyway
    #: (measured with bench/http/run.sh on 2 cores: 2 threads ~340 submissions/s, 8 threads ~254)
    thread_pool_size: int = 2
    background_interval_s: float = 2.0
    #: Redis for scale-out: live events reach every app process through its pub/sub, and the
    #: outbox relay and the sweeps run as Dramatiq tasks on it (``kefu worker``). Unset: live
    #: events stay in the process and the app runs the periodic work itself.
    redis_url: str | None = None
    #: the desk's own e-mail address (replies to e-mail tickets come from it)
    desk_email: str = "kefu@localhost"
    #: WeChat Official Account server token (公众号 服务器配置 Token); unset: the callback is off
    wechat_token: str | None = None
    #: Weibo fans-service app secret for the webhook signature; unset: the webhook is off
    weibo_app_secret: str | None = None
    #: shared secret the PBX sends as ``X-PBX-Secret`` on the IVR interface; unset: it is off
    pbx_secret: str | None = None
    #: an e-mail that opens a new ticket gets the smart assistant's answer by return when it
    #: answers confidently (instead of the desk's acknowledgement); off: only the acknowledgement
    email_auto_reply: bool = True

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> Settings:
        if self.env == "production" and self.secret_key == DEV_SECRET:
            raise ValueError("KEFU_SECRET_KEY must be set to a real secret in production")
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings for this process (tests build their own ``Settings`` and pass it down)."""
    return Settings()
