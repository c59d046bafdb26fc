# Sourced by scripts that need a throwaway PostgreSQL (e2e-cluster.sh, bench-cluster.sh):
# start_postgres DIR installs Debian's postgresql when initdb is missing, initialises a cluster
# under DIR/pg with a random superuser password (SCRAM; no trust authentication), starts it on
# a free loopback port and sets PG_URL; stop_postgres stops it. As root, PostgreSQL runs as
# the postgres user (it refuses to run as root).

pg_as() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

pg_ctl_bin=""
pg_data=""
start_postgres() {
  local dir=$1/pg pass port bin
  if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    echo "installing PostgreSQL (Debian package postgresql)" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  fi
  bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  mkdir -p "$dir"
  pass=$(openssl rand -hex 16)
  printf '%s\n' "$pass" >"$dir/pw"
  if [ "$(id -u)" = 0 ]; then
    chown -R postgres "$dir"
    chmod 711 "$1"
  fi
  pg_as "$bin/initdb" -D "$dir/data" -U postgres --auth=scram-sha-256 --pwfile="$dir/pw" -E UTF8 >/dev/null
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  pg_ctl_bin=$bin/pg_ctl
  pg_data=$dir/data
  pg_as "$pg_ctl_bin" -D "$pg_data" -l "$dir/log" -w \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=300 ${PG_OPTIONS:-}" start >/dev/null
  PG_URL="postgres://postgres:$pass@127.0.0.1:$port/postgres?sslmode=disable"
}
stop_postgres() {
  if [ -n "$pg_ctl_bin" ]; then
    pg_as "$pg_ctl_bin" -D "$pg_data" -m fast stop >/dev/null 2>&1 || true
    pg_ctl_bin=""
  fi
}
