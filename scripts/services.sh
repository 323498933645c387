#!/usr/bin/env bash
# Installs and starts what the test suite needs, idempotently:
#   - the redis-server binary (the tests start their own servers on free ports);
#   - a PostgreSQL cluster on 127.0.0.1 with role and database for the store tests;
#   - a Docker engine (Debian's docker.io), debootstrap and the ssh client for the docker
#     node backend (`tox -e docker` builds the node images, then tests against the engine).
# Progress goes to stderr; stdout gets `export` lines for the caller to eval:
#   eval "$(scripts/services.sh)"
# A DCSIM_TEST_DATABASE_URL already set means "use that database": PostgreSQL is left alone.
set -euo pipefail

PG_ROLE=dcsim
PG_PASSWORD=dcsim
PG_DATABASE=dcsim_test

say() { echo "services: $*" >&2; }

as_root() {
    if [[ $EUID -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

as_postgres() {
    if [[ $EUID -eq 0 ]]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi
}

apt_updated=false
apt_install() {
    if ! $apt_updated; then
        say "apt-get update"
        as_root apt-get update -qq >&2
        apt_updated=true
    fi
    say "apt-get install $*"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
}

ensure_redis() {
    if command -v redis-server >/dev/null; then
        say "redis-server present: $(redis-server --version | cut -d' ' -f3)"
    else
        apt_install redis-server
        say "installed redis-server: $(redis-server --version | cut -d' ' -f3)"
    fi
}

# The newest PostgreSQL server installed, installing Debian's default when there is none.
pg_version() {
    local version
    version=$(find /usr/lib/postgresql -mindepth 3 -maxdepth 3 -path '*/bin/postgres' 2>/dev/null |
        awk -F/ '{print $5}' | sort -n | tail -1)
    if [[ -z $version ]]; then
        apt_install postgresql postgresql-contrib
        version=$(find /usr/lib/postgresql -mindepth 3 -maxdepth 3 -path '*/bin/postgres' |
            awk -F/ '{print $5}' | sort -n | tail -1)
    fi
    echo "$version"
}

sql() { as_postgres psql --port "$1" -XtAq -v ON_ERROR_STOP=1 -c "$2"; }

ensure_postgres() {
    local version port status
    version=$(pg_version)
    if ! pg_lsclusters --no-header | awk '{print $1, $2}' | grep -qx "$version main"; then
        say "creating PostgreSQL $version cluster main (listening on 127.0.0.1 only)"
        as_root pg_createcluster "$version" main >&2
        # Debian's postgresql.conf includes conf.d/ (pg_conftool would write the value unquoted).
        echo "listen_addresses = '127.0.0.1'" | as_root tee "/etc/postgresql/$version/main/conf.d/dcsim.conf" >/dev/null
    fi
    port=$(pg_lsclusters --no-header | awk -v v="$version" '$1 == v && $2 == "main" {print $3}')
    status=$(pg_lsclusters --no-header | awk -v v="$version" '$1 == v && $2 == "main" {print $4}')
    if [[ $status == online* ]]; then
        say "PostgreSQL $version main already running on port $port"
    else
        say "starting PostgreSQL $version main on port $port"
        as_root pg_ctlcluster "$version" main start >&2
    fi
    local waited=0
    until pg_isready -q -h 127.0.0.1 -p "$port"; do
        if ((waited >= 60)); then
            say "PostgreSQL did not accept connections on 127.0.0.1:$port within 30 s"
            exit 1
        fi
        sleep 0.5
        waited=$((waited + 1))
    done
    if [[ $(sql "$port" "SELECT 1 FROM pg_roles WHERE rolname = '$PG_ROLE'") != 1 ]]; then
        say "creating role $PG_ROLE"
        sql "$port" "CREATE ROLE $PG_ROLE LOGIN SUPERUSER PASSWORD '$PG_PASSWORD'"
    fi
    if [[ $(sql "$port" "SELECT 1 FROM pg_database WHERE datname = '$PG_DATABASE'") != 1 ]]; then
        say "creating database $PG_DATABASE"
        as_postgres createdb --port "$port" -O "$PG_ROLE" "$PG_DATABASE"
    fi
    say "PostgreSQL ready: database $PG_DATABASE on 127.0.0.1:$port"
    echo "export DCSIM_TEST_DATABASE_URL=postgresql+psycopg://$PG_ROLE:$PG_PASSWORD@127.0.0.1:$port/$PG_DATABASE"
}

DOCKERD_LOG=/tmp/dcsim-dockerd.log

ensure_command() {
    local command=$1 package=$2
    if command -v "$command" >/dev/null; then
        say "$command present"
    else
        apt_install "$package"
    fi
}

ensure_docker() {
    ensure_command dockerd docker.io
    ensure_command debootstrap debootstrap
    ensure_command ssh openssh-client
    # tests/deploy validates deploy/compose.yaml with it (no daemon round trip).
    ensure_command docker-compose docker-compose
    if docker info >/dev/null 2>&1; then
        say "Docker engine already running: $(docker info --format '{{.ServerVersion}}')"
        return
    fi
    say "starting dockerd (log: $DOCKERD_LOG)"
    # --ip: a port published without an address binds to loopback, never to every interface.
    # setsid: the daemon outlives this script and is not in the caller's process group.
    as_root setsid dockerd --ip=127.0.0.1 >"$DOCKERD_LOG" 2>&1 </dev/null &
    local waited=0
    until docker info >/dev/null 2>&1; do
        if ((waited >= 120)); then
            say "dockerd did not answer within 60 s; last lines of $DOCKERD_LOG:"
            tail -20 "$DOCKERD_LOG" >&2
            exit 1
        fi
        sleep 0.5
        waited=$((waited + 1))
    done
    say "Docker engine ready: $(docker info --format '{{.ServerVersion}}')"
}

ensure_redis
ensure_docker
if [[ -n ${DCSIM_TEST_DATABASE_URL:-} ]]; then
    say "DCSIM_TEST_DATABASE_URL is set: using that database, leaving PostgreSQL alone"
else
    ensure_postgres
fi
