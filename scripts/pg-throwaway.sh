#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for demos and tests.
#   scripts/pg-throwaway.sh start DIR [PORT]  -> prints the connection URL
#   scripts/pg-throwaway.sh stop DIR
# Without PORT it picks a random free port below the kernel's ephemeral range (outgoing
# connections and port-0 binds take ports from that range at any moment, so a port checked free
# there can be gone by the time PostgreSQL binds it) and tries another one if the bind still fails.
# As root, initdb refuses to run: the cluster then belongs to the `postgres` user.
set -euo pipefail
bin=/usr/lib/postgresql/15/bin
cmd="${1:-}"; dir="${2:-}"
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start DIR PORT | stop DIR" >&2; exit 2; }
as_owner=()
if [ "$(id -u)" = 0 ]; then as_owner=(runuser -u postgres --); fi
case "$cmd" in
  start)
    port="${3:-}"
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      "${as_owner[@]}" "$bin/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
        { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    pg_start() {
      "${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-p $1 -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off" start >/dev/null
    }
    if [ -n "$port" ]; then
      pg_start "$port" || { cat "$dir/server.log" >&2; exit 1; }
    else
      low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
      [ "$low" -gt 12000 ] 2>/dev/null || low=32768
      started=""
      for _ in 1 2 3 4 5 6 7 8; do
        port=$((10000 + (RANDOM * 32768 + RANDOM) % (low - 10000)))
        if pg_start "$port"; then started=1; break; fi
        grep -q "Address already in use" "$dir/server.log" 2>/dev/null || break
      done
      [ -n "$started" ] || { cat "$dir/server.log" >&2; exit 1; }
    fi
    echo "postgresql://postgres@127.0.0.1:$port/postgres"
    ;;
  stop)
    [ -f "$dir/data/postmaster.pid" ] && "${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
    ;;
  *) echo "usage: $0 start DIR PORT | stop DIR" >&2; exit 2 ;;
esac
