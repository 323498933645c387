#!/usr/bin/env bash
# Prepares a real NetBox for the tests (tox -e netbox runs it first), idempotently:
#   1. a Python 3.12 venv at .venv-tools/netbox holding PyPI's netbox==$NETBOX_VERSION
#      (NetBox needs 3.12; the test venv is 3.11 and only talks to it over HTTP);
#   2. an instance root at .venv-tools/netbox-root: secrets made once and kept (SECRET_KEY,
#      token pepper, admin password, API token), dcsim-netbox.json (where everything is,
#      for conf/configuration.py and tests/netbox_support.py) and conf/configuration.py;
#   3. the PostgreSQL database netbox_template, migrated once, holding a superuser `admin`
#      with a v1 API token. A fresh migrate takes minutes; a copy of the template
#      (CREATE DATABASE x TEMPLATE netbox_template) takes about a second, so each test
#      session runs NetBox on a copy of its own (tests/netbox_support.py).
# Nothing is left running: the Redis that the migrate needs is this script's own, on a free
# port, stopped on exit. PostgreSQL must already run (scripts/services.sh starts it);
# DCSIM_TEST_DATABASE_URL, when set, names the server and the (superuser) role to use.
# Progress, with elapsed seconds, goes to stderr.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD

NETBOX_VERSION=4.7.3
# The psycopg that netbox==$NETBOX_VERSION pins (as psycopg[c,pool]): change them together.
PSYCOPG_VERSION=3.3.6
VENV=$REPO/.venv-tools/netbox
NETBOX_ROOT=$REPO/.venv-tools/netbox-root
SECRETS=$NETBOX_ROOT/secrets
STATE=$NETBOX_ROOT/dcsim-netbox.json
TEMPLATE_DB=netbox_template
ADMIN_USER=admin
TOKEN_DESCRIPTION="dc-sim tests"

# Elapsed time in tenths of a second from bash's own clock (microseconds once the dot is gone).
STARTED=${EPOCHREALTIME/./}
say() {
    local tenths=$(((${EPOCHREALTIME/./} - STARTED) / 100000))
    printf 'netbox.sh [%4d.%ds] %s\n' $((tenths / 10)) $((tenths % 10)) "$*" >&2
}
die() {
    say "ERROR: $*"
    exit 1
}

# --- PostgreSQL: the tests' server and role (a superuser: it creates databases). The URL's
# user and password are taken as they are (no percent-decoding).
DATABASE_URL=${DCSIM_TEST_DATABASE_URL:-postgresql://dcsim:dcsim@127.0.0.1:5432/dcsim_test}
url_re='^postgresql(\+[a-z0-9]+)?://([^:@/]+)(:([^@/]*))?@([^:/]+)(:([0-9]+))?/([^?]+)'
[[ $DATABASE_URL =~ $url_re ]] || die "cannot parse the database URL $DATABASE_URL (want postgresql://user:password@host:port/db)"
PG_USER=${BASH_REMATCH[2]}
PG_PASSWORD=${BASH_REMATCH[4]}
PG_HOST=${BASH_REMATCH[5]}
PG_PORT=${BASH_REMATCH[7]:-5432}
# CREATE and DROP DATABASE run from the tests' own database, which exists, never from the
# template: copying it fails while anyone is connected to it.
PG_ADMIN_DB=${BASH_REMATCH[8]}

# --- 1. The venv.
find_python312() {
    if command -v python3.12 >/dev/null && python3.12 -c '' 2>/dev/null; then
        command -v python3.12
        return
    fi
    # pyenv's shims answer only for the selected version, so look at the installed ones.
    ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.12.*/bin/python3.12 2>/dev/null | sort -V | tail -1
}

installed_version() {
    "$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("netbox"))' 2>/dev/null || true
}

ensure_venv() {
    local version python uv
    version=$(installed_version)
    if [[ $version == "$NETBOX_VERSION" ]]; then
        say "netbox $version already installed in $VENV"
        return
    fi
    python=$(find_python312)
    # No interpreter fails the run (and so tox -e netbox, in CI too): it never skips.
    [[ -n $python ]] || die "NetBox $NETBOX_VERSION needs Python 3.12: no python3.12 on PATH nor under pyenv"
    say "installing netbox==$NETBOX_VERSION into $VENV with $python (found: ${version:-no netbox})"
    rm -rf "$VENV"
    uv=$(command -v uv || true)
    if [[ -z $uv && -x $REPO/.venv-tools/venv/bin/uv ]]; then
        uv=$REPO/.venv-tools/venv/bin/uv # scripts/test installs it there
    fi
    if [[ -n $uv ]]; then
        # NetBox pins psycopg[c], which builds from source (a C compiler and libpq-dev, and
        # about a minute). psycopg[binary] is the same psycopg with libpq bundled, as a
        # wheel: the install takes seconds. pip has no overrides; it builds psycopg[c].
        echo "psycopg[binary,pool]==$PSYCOPG_VERSION" >"$NETBOX_ROOT/overrides.txt"
        # Only package registries are reachable: uv must never try to download a Python.
        # Bytecode compiled now (in parallel) rather than at NetBox's first start, which then
        # takes some 20 seconds longer.
        UV_PYTHON_DOWNLOADS=never "$uv" venv --quiet --python "$python" "$VENV"
        UV_PYTHON_DOWNLOADS=never "$uv" pip install --quiet --compile-bytecode --python "$VENV/bin/python" \
            --override "$NETBOX_ROOT/overrides.txt" "netbox==$NETBOX_VERSION"
    else
        "$python" -m venv "$VENV"
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "netbox==$NETBOX_VERSION"
    fi
    version=$(installed_version)
    [[ $version == "$NETBOX_VERSION" ]] || die "the venv holds netbox '$version', not $NETBOX_VERSION"
    say "installed netbox $version"
}

# One SQL statement on the tests' server, through the venv's psycopg (a NetBox dependency,
# so no psql client is needed); prints the first column of each row.
sql() {
    local database=$1 statement=$2
    PGPASSWORD=$PG_PASSWORD "$VENV/bin/python" - "$PG_HOST" "$PG_PORT" "$PG_USER" "$database" "$statement" <<'PY'
import os
import sys

import psycopg

host, port, user, dbname, statement = sys.argv[1:]
try:
    connection = psycopg.connect(
        host=host, port=port, user=user, dbname=dbname, password=os.environ["PGPASSWORD"],
        autocommit=True, connect_timeout=10,
    )
except psycopg.OperationalError as error:
    sys.exit(f"cannot connect to PostgreSQL at {host}:{port} as {user} (scripts/services.sh starts it): {error}")
with connection:
    cursor = connection.execute(statement)
    if cursor.description:
        for row in cursor:
            print(row[0])
PY
}

# --- 2. Secrets, state and configuration.
secret() {
    local name=$1 length=$2 alphabet=$3
    if [[ ! -s $SECRETS/$name ]]; then
        (umask 077 && "$VENV/bin/python" -c 'import secrets, sys; print("".join(secrets.choice(sys.argv[2]) for _ in range(int(sys.argv[1]))))' \
            "$length" "$alphabet" >"$SECRETS/$name")
        say "generated $SECRETS/$name"
    fi
    cat "$SECRETS/$name"
}

ensure_secrets() {
    local letters=abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789
    mkdir -p "$NETBOX_ROOT"
    (umask 077 && mkdir -p "$SECRETS")
    chmod 700 "$SECRETS"
    # Made once and kept: a new SECRET_KEY or pepper would not match what the template holds.
    secret secret_key 60 "$letters" >/dev/null
    secret token_pepper 60 "$letters" >/dev/null
    ADMIN_PASSWORD=$(secret admin_password 24 "$letters")
    # A v1 token: 40 characters, sent as `Authorization: Token <key>`.
    API_TOKEN=$(secret api_token 40 0123456789abcdef)
}

# Where everything is, for conf/configuration.py and tests/netbox_support.py, so that
# neither repeats a constant of this script. Values go through the environment, never
# through quoted source text.
write_state() {
    STATE=$STATE NETBOX_VERSION=$NETBOX_VERSION VENV=$VENV NETBOX_ROOT=$NETBOX_ROOT TEMPLATE_DB=$TEMPLATE_DB \
        PG_HOST=$PG_HOST PG_PORT=$PG_PORT PG_USER=$PG_USER PG_PASSWORD=$PG_PASSWORD PG_ADMIN_DB=$PG_ADMIN_DB \
        ADMIN_USER=$ADMIN_USER SECRETS=$SECRETS "$VENV/bin/python" - <<'PY'
import json
import os

env = os.environ
state = {
    "netbox_version": env["NETBOX_VERSION"],
    "venv": env["VENV"],
    "netbox_root": env["NETBOX_ROOT"],
    "template_database": env["TEMPLATE_DB"],
    "postgres": {
        "host": env["PG_HOST"],
        "port": int(env["PG_PORT"]),
        "user": env["PG_USER"],
        "password": env["PG_PASSWORD"],
        "admin_database": env["PG_ADMIN_DB"],
    },
    "admin_user": env["ADMIN_USER"],
    "admin_password_file": os.path.join(env["SECRETS"], "admin_password"),
    "api_token_file": os.path.join(env["SECRETS"], "api_token"),
}
path = env["STATE"]
descriptor = os.open(path + ".new", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
with os.fdopen(descriptor, "w") as file:
    json.dump(state, file, indent=2)
    file.write("\n")
os.replace(path + ".new", path)
PY
}

write_configuration() {
    mkdir -p "$NETBOX_ROOT/conf" "$NETBOX_ROOT/media" "$NETBOX_ROOT/reports" "$NETBOX_ROOT/scripts"
    local target=$NETBOX_ROOT/conf/configuration.py
    # Rewritten on every run, so that a change here reaches existing checkouts. Static text:
    # connection details come from the state file, secrets from their files, and the
    # database name and the Redis port from the environment of each NetBox process.
    cat >"$target.new" <<'CONF'
# Written by scripts/netbox.sh on every run: edit the script, not this file.
# The `netbox` console script loads $NETBOX_ROOT/conf/configuration.py.
import json
import os
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent
_POSTGRES = json.loads((_ROOT / "dcsim-netbox.json").read_text())["postgres"]


def _secret(name):
    return (_ROOT / "secrets" / name).read_text().strip()


# Each NetBox process says which database and Redis it uses: the template while
# scripts/netbox.sh migrates it, a copy of it per test session (tests/netbox_support.py).
# No defaults, so that a process started without them fails instead of using the template.
_DATABASE = os.environ["NETBOX_DB_NAME"]
_REDIS_PORT = int(os.environ["NETBOX_REDIS_PORT"])

ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

DATABASES = {
    "default": {
        "NAME": _DATABASE,
        "USER": _POSTGRES["user"],
        "PASSWORD": _POSTGRES["password"],
        "HOST": _POSTGRES["host"],
        "PORT": str(_POSTGRES["port"]),
        # A connection per request, none kept: a stopped NetBox holds none, and its
        # database can be dropped at once.
        "CONN_MAX_AGE": 0,
    }
}

REDIS = {
    "tasks": {"HOST": "127.0.0.1", "PORT": _REDIS_PORT, "DATABASE": 0, "SSL": False},
    "caching": {"HOST": "127.0.0.1", "PORT": _REDIS_PORT, "DATABASE": 1, "SSL": False},
}

SECRET_KEY = _secret("secret_key")

# v2 tokens (nbt_<key>.<secret>, sent as Bearer) need a pepper of at least 50 characters.
# The tests use a v1 token; with a pepper, clients can create v2 ones through the API too.
API_TOKEN_PEPPERS = {1: _secret("token_pepper")}

# Only loopback traffic: no census report, no release check, no plugin catalog.
CENSUS_REPORTING_ENABLED = False
ISOLATED_DEPLOYMENT = True
RELEASE_CHECK_URL = None

# LOGIN_REQUIRED is not set: it defaults to True (every API call needs a token), and
# NetBox 4.7 warns that it is deprecated whenever it is set at all.
DEBUG = False
TIME_ZONE = "UTC"
CONF
    if cmp -s "$target.new" "$target"; then
        rm "$target.new"
    else
        mv "$target.new" "$target"
        say "wrote $target"
    fi
}

# --- 3. The template database.
# Its comment says what it holds. Anything else, from no template to an interrupted
# migrate, an older netbox or a new token, means: migrate (Django skips what is applied)
# and set the superuser and token up again.
template_marker() {
    local token_hash
    token_hash=$(printf '%s' "$API_TOKEN" | sha256sum | cut -c1-12)
    echo "dc-sim: netbox $NETBOX_VERSION migrated, $ADMIN_USER with v1 token sha256:$token_hash"
}

REDIS_PID=
stop_redis() {
    if [[ -n $REDIS_PID ]]; then
        kill "$REDIS_PID" 2>/dev/null || true
        wait "$REDIS_PID" 2>/dev/null || true
        REDIS_PID=
    fi
}
trap stop_redis EXIT

# NetBox's signal handlers may reach Redis (cache, task queue) whenever objects are written,
# as the migrations and the setup below do: a private one on a free loopback port, without
# persistence, for the length of this script.
start_redis() {
    local port waited=0
    port=$("$VENV/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no \
        --logfile "$NETBOX_ROOT/redis-setup.log" </dev/null &
    REDIS_PID=$!
    until "$VENV/bin/python" -c 'import redis, sys; redis.Redis(port=int(sys.argv[1])).ping()' "$port" 2>/dev/null; do
        kill -0 "$REDIS_PID" 2>/dev/null || die "redis-server exited; see $NETBOX_ROOT/redis-setup.log"
        ((waited < 50)) || die "redis-server did not answer on 127.0.0.1:$port within 10 s"
        sleep 0.2
        waited=$((waited + 1))
    done
    REDIS_PORT=$port
}

# Runs on the template: only this script ever points NetBox at it.
on_template() {
    NETBOX_ROOT=$NETBOX_ROOT NETBOX_DB_NAME=$TEMPLATE_DB NETBOX_REDIS_PORT=$REDIS_PORT "$@"
}

ensure_template() {
    local marker current
    marker=$(template_marker)
    current=$(sql "$PG_ADMIN_DB" "SELECT coalesce(shobj_description(oid, 'pg_database'), 'unmarked') FROM pg_database WHERE datname = '$TEMPLATE_DB'")
    if [[ $current == "$marker" ]]; then
        say "template database $TEMPLATE_DB is ready ($marker)"
        return
    fi
    say "template database $TEMPLATE_DB: ${current:-absent}; setting it up"
    if [[ -n $current ]]; then
        # Closed to connections while ready (below); open it for the migrate.
        sql "$PG_ADMIN_DB" "ALTER DATABASE $TEMPLATE_DB WITH ALLOW_CONNECTIONS true"
    else
        sql "$PG_ADMIN_DB" "CREATE DATABASE $TEMPLATE_DB OWNER $PG_USER ENCODING 'UTF8' TEMPLATE template0"
    fi

    start_redis
    say "migrating $TEMPLATE_DB (minutes from scratch; output in $NETBOX_ROOT/migrate.log)"
    if ! on_template "$VENV/bin/netbox" migrate --no-input >"$NETBOX_ROOT/migrate.log" 2>&1; then
        tail -30 "$NETBOX_ROOT/migrate.log" >&2
        die "netbox migrate failed; full output in $NETBOX_ROOT/migrate.log"
    fi
    say "migrated ($(grep -c '\.\.\. OK$' "$NETBOX_ROOT/migrate.log" || true) migrations applied now)"

    say "setting up superuser $ADMIN_USER and its v1 API token"
    on_template env DJANGO_SETTINGS_MODULE=netbox.settings ADMIN_USER="$ADMIN_USER" ADMIN_PASSWORD="$ADMIN_PASSWORD" \
        API_TOKEN="$API_TOKEN" TOKEN_DESCRIPTION="$TOKEN_DESCRIPTION" "$VENV/bin/python" - <<'PY'
import os
import warnings

warnings.simplefilter("ignore")  # NetBox's deprecation notices say nothing about this setup
import django

django.setup()
from users.choices import TokenVersionChoices
from users.models import Token, User

user, _ = User.objects.get_or_create(username=os.environ["ADMIN_USER"])
user.is_superuser = True
user.is_active = True
user.set_password(os.environ["ADMIN_PASSWORD"])
user.save()
# Replaced rather than updated: a token's plaintext cannot change once saved.
Token.objects.filter(user=user, description=os.environ["TOKEN_DESCRIPTION"]).delete()
Token.objects.filter(plaintext=os.environ["API_TOKEN"]).delete()
Token(
    user=user,
    version=TokenVersionChoices.V1,
    token=os.environ["API_TOKEN"],
    description=os.environ["TOKEN_DESCRIPTION"],
    write_enabled=True,
).save()
PY
    stop_redis

    # Closed to connections, so that copies never find anyone in it; IS_TEMPLATE makes
    # DROP DATABASE refuse it. The marker goes last: it means "all of the above is done".
    sql "$PG_ADMIN_DB" "ALTER DATABASE $TEMPLATE_DB WITH ALLOW_CONNECTIONS false IS_TEMPLATE true"
    sql "$PG_ADMIN_DB" "COMMENT ON DATABASE $TEMPLATE_DB IS '$marker'"
    say "template database $TEMPLATE_DB is ready"
}

# Copies left by test sessions that died before dropping them. Their names carry the pid
# of the test process (netbox_test_<pid>_<random>): drop those whose process is gone.
drop_stale_copies() {
    local name pid
    for name in $(sql "$PG_ADMIN_DB" "SELECT datname FROM pg_database WHERE datname ~ '^netbox_test_[0-9]+_[a-z0-9]+$'"); do
        pid=${name#netbox_test_}
        pid=${pid%%_*}
        if ! kill -0 "$pid" 2>/dev/null; then
            say "dropping $name, left by test process $pid (gone)"
            sql "$PG_ADMIN_DB" "DROP DATABASE IF EXISTS $name WITH (FORCE)"
        fi
    done
}

command -v redis-server >/dev/null || die "redis-server is not installed (scripts/services.sh installs it)"
# One run at a time (two tox runs at once would install and migrate at once).
mkdir -p "$NETBOX_ROOT"
exec 9>"$NETBOX_ROOT/.lock"
if ! flock -n 9; then
    say "waiting for another scripts/netbox.sh to finish"
    flock 9
fi
ensure_venv
ensure_secrets
write_state
write_configuration
ensure_template
drop_stale_copies
say "done: NetBox $NETBOX_VERSION, template $TEMPLATE_DB on $PG_HOST:$PG_PORT; state in $STATE"
