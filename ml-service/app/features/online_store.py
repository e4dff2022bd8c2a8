"""Which online store Feast writes to and reads from: `MLS_FEATURE_ONLINE_STORE`.

`sqlite` (the default): one SQLite file per tenant in its Feast folder. A Redis URL
(`redis://[[user]:password@]host[:port][/db]`, `rediss://` for TLS): one Redis shared by every
tenant, the scale-out topology's (docker/compose.yaml). Tenants stay apart in it because each is
its own Feast project and Feast's Redis store puts the project into every key: a key is the
serialised entity key followed by the project name (feast/infra/online_stores/helpers.py
`_redis_key`, Feast 0.67), and every read and write of feast/infra/online_stores/redis.py goes
through it. The serialised entity key carries its own lengths, so no key of one project is a key
of another.
"""

import json
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

SQLITE = "sqlite"
REDIS_SCHEMES = ("redis", "rediss")

# A Redis that stops answering must become a 503 within the AI Service's 30 s per-call deadline:
# redis-py (7.x) makes 4 attempts with a jittered backoff of at most 2 + 4 + 8 s between them, so
# each attempt may wait 2 s for the connection and 2 s for an answer (Feast's online lookups and
# writes are single pipelined round trips, well inside that on a working Redis).
_TIMEOUTS = "socket_connect_timeout=2,socket_timeout=2"


@dataclass(frozen=True)
class RedisOnlineStore:
    """Feast's `type: redis` online store.

    `connection_string` is Feast's format (`host:port,db=0,ssl=true,password=…`; Feast's
    RedisOnlineStoreConfig) and holds the password: it goes only to the Feast worker's
    environment, never to a log, a file or an answer. `label` (`Redis at host:port/db`) names the
    store in errors."""

    connection_string: str
    label: str


def parse_online_store(value: str) -> RedisOnlineStore | None:
    """None for `sqlite`, the Redis store of a `redis://` or `rediss://` URL. Raises ValueError
    with a reason that never repeats the value (it may hold a password)."""
    if value == SQLITE:
        return None
    try:
        url = urlsplit(value)
        port = url.port or 6379
    except ValueError:
        raise ValueError("is not `sqlite` or a redis:// URL with a numeric port") from None
    if url.scheme not in REDIS_SCHEMES or not url.hostname:
        raise ValueError("must be `sqlite` or a URL redis://[[user]:password@]host[:port][/db]")
    if url.query or url.fragment:
        raise ValueError("takes no query or fragment: redis://[[user]:password@]host[:port][/db]")
    database = url.path.lstrip("/") or "0"
    if not database.isdigit():
        raise ValueError("must end in a database number (redis://host:port/0)")
    username = unquote(url.username) if url.username else None
    password = unquote(url.password) if url.password is not None else None
    if "," in (username or "") + (password or ""):
        # Feast splits its connection string on commas (RedisOnlineStore._parse_connection_string)
        raise ValueError("has a `,` in its user or password, which Feast's Redis store cannot take")
    parts = [f"{url.hostname}:{port}", f"db={database}", _TIMEOUTS]
    if url.scheme == "rediss":
        parts.append("ssl=true")
    # Feast decodes each value as JSON when it can: quoted, a password such as `true` or `123`
    # stays the string it is.
    if username:
        parts.append(f"username={json.dumps(username)}")
    if password:
        parts.append(f"password={json.dumps(password)}")
    return RedisOnlineStore(
        connection_string=",".join(parts),
        label=f"Redis at {url.hostname}:{port}/{database}",
    )
