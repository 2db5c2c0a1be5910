#!/usr/bin/env bash
# Makes sure a local PostgreSQL answers for the store tests and for trying the PostgreSQL store:
# a cluster exists and runs (Debian's pg_lsclusters / pg_ctlcluster, no systemd needed), the role
# `runner` (password `runner`, LOGIN, CREATEDB) and the database `runner_test` it owns exist.
# Prints the URL on stdout, e.g.
#     postgresql://runner:runner@127.0.0.1:5432/runner_test
# and everything else on stderr, so that `url=$(scripts/start-postgres.sh)` works. Idempotent;
# run as root on Debian 12 (scripts/install-deps.sh installs the `postgresql` package).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "start-postgres: $*" >&2; }

if [ "$(id -u)" -ne 0 ]; then
  say "run as root (it starts the cluster and creates the role as the postgres user)"
  exit 1
fi
if ! command -v pg_lsclusters >/dev/null 2>&1; then
  say "PostgreSQL is not installed; running scripts/install-deps.sh"
  scripts/install-deps.sh >&2
fi

# The cluster: `main` of the newest version if there is one, else the first listed, else a new
# `main` of the newest installed server.
pick_cluster() {
  pg_lsclusters -h 2>/dev/null | sort -k1,1V | awk '
    $2 == "main" { main = $0 } NR == 1 { first = $0 }
    END { if (main != "") print main; else if (first != "") print first }'
}
cluster=$(pick_cluster)
if [ -z "$cluster" ]; then
  version=$(ls /usr/lib/postgresql | sort -V | tail -1)
  if [ -z "$version" ]; then
    say "no PostgreSQL server under /usr/lib/postgresql; install the postgresql package"
    exit 1
  fi
  say "creating cluster $version/main"
  pg_createcluster --locale=C.UTF-8 "$version" main >&2
  cluster=$(pick_cluster)
fi
read -r version name port status _owner datadir _log <<<"$cluster"

if [ "$status" != online ]; then
  # A container restarted without a clean shutdown leaves postmaster.pid behind; PostgreSQL
  # refuses to start when the pid in it now belongs to another live process.
  pidfile="$datadir/postmaster.pid"
  if [ -f "$pidfile" ]; then
    pid=$(head -1 "$pidfile" 2>/dev/null || true)
    if [ -z "$pid" ] || ! [ -e "/proc/$pid" ] || [ "$(cat "/proc/$pid/comm" 2>/dev/null)" != postgres ]; then
      say "removing stale $pidfile"
      rm -f "$pidfile"
    fi
  fi
  install -d -o postgres -g postgres -m 2775 /var/run/postgresql
  say "starting cluster $version/$name on port $port"
  pg_ctlcluster "$version" "$name" start >&2
fi

for _ in $(seq 1 60); do
  if pg_isready -q -h 127.0.0.1 -p "$port"; then break; fi
  sleep 0.5
done
if ! pg_isready -q -h 127.0.0.1 -p "$port"; then
  say "PostgreSQL $version/$name does not answer on 127.0.0.1:$port; see /var/log/postgresql/:"
  tail -20 "/var/log/postgresql/postgresql-$version-$name.log" >&2 || true
  exit 1
fi

as_postgres() { (cd / && runuser -u postgres -- "$@"); }
psql_admin() { as_postgres psql -p "$port" -X -q -A -t -v ON_ERROR_STOP=1 "$@"; }

if [ -z "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = 'runner'")" ]; then
  say "creating role runner"
  psql_admin -c "CREATE ROLE runner LOGIN CREATEDB PASSWORD 'runner'"
else
  # Same end state every time: the URL printed below must work.
  psql_admin -c "ALTER ROLE runner WITH LOGIN CREATEDB PASSWORD 'runner'"
fi
if [ -z "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = 'runner_test'")" ]; then
  say "creating database runner_test"
  # UTF8 whatever locale the cluster was created with: event text is UTF-8 and the events view
  # decodes JSON \u escapes.
  as_postgres createdb -p "$port" -O runner -E UTF8 --locale=C.UTF-8 -T template0 runner_test
fi

url="postgresql://runner:runner@127.0.0.1:$port/runner_test"
if ! psql "$url" -X -q -A -t -c 'SELECT 1' >/dev/null; then
  say "cannot connect as runner to 127.0.0.1:$port/runner_test (check pg_hba.conf allows password logins on 127.0.0.1)"
  exit 1
fi
say "PostgreSQL $version/$name is up"
echo "$url"
