#!/usr/bin/env bash
# The web demo: GoGoTime offline timesheets in the browser (web-demo/), on a local PostgreSQL.
#  - a throwaway PostgreSQL with the GoGoTime schema and sample data;
#  - outpost-server serving the sync protocol, the web app, the browser package (WebAssembly)
#    and a list of demo users with their tokens, all on one origin;
#  - open the printed URL, pick a user, and work offline and online (web-demo/README.md).
# Installs and builds what it needs first; stops everything on Ctrl-C.
#
#   scripts/web-demo.sh [--port N] [--rows N]
# For the browser tests: --no-build (built already) and --info FILE (writes the URL, the
# database URL and the token secret there as JSON once serving).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
http_port=8080
rows=3000
build=1
info=""
while [ $# -gt 0 ]; do
  case "$1" in
    --port) http_port="$2"; shift 2 ;;
    --rows) rows="$2"; shift 2 ;;
    --no-build) build=0; shift ;;
    --info) info="$2"; shift 2 ;;
    *) echo "usage: $0 [--port N] [--rows N] [--no-build] [--info FILE]" >&2; exit 2 ;;
  esac
done
if [ "$build" = 1 ]; then
  "$here/scripts/setup.sh" --wasm
  echo "[web-demo] building (native server, WebAssembly package)"
  "$here/scripts/build.sh" >/dev/null
  "$here/scripts/build-wasm.sh" >/dev/null
fi
bin="${OUTPOST_BUILD_DIR:-$here/build}"
package="${OUTPOST_WASM_BUILD_DIR:-$here/build-wasm}/package"
server="$bin/sync/server/outpost-server"
[ -f "$package/outpost_web.wasm" ] || { echo "web-demo: no browser package in $package" >&2; exit 1; }

work="$(mktemp -d /tmp/outpost-web-demo-XXXXXX)"
chmod 755 "$work"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill -TERM "$server_pid" 2>/dev/null && wait "$server_pid" || true; fi
  "$here/scripts/pg-throwaway.sh" stop "$work/pg"
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 0' INT TERM

url=$("$here/scripts/pg-throwaway.sh" start "$work/pg")
pg_port="${url##*:}"; pg_port="${pg_port%%/*}"
echo "[web-demo] PostgreSQL on port $pg_port with GoGoTime sample data ($rows entries)"
db="${url%/postgres}/gogotime"
psql -X -q "$url" -c "CREATE DATABASE gogotime"
psql -X -q -v ON_ERROR_STOP=1 "$db" -f "$here/schema/apps/gogotime/schema.sql"
psql -X -q -v ON_ERROR_STOP=1 -v rows="$rows" "$db" -f "$here/schema/apps/gogotime/sample-data.sql" >/dev/null

# Demo users of Acme Corp (company 1 of the sample data): two employees and a manager.
secret="demo-secret-$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"
acme=4e59da50-40fc-5e0d-33c1-688ba4977baa
mkdir -p "$work/config"
{
  echo '{"users": ['
  sep=""
  for spec in "alex:5:employee" "user6:6:employee" "manager:2:manager"; do
    IFS=: read -r key n role <<<"$spec"
    uid=$(psql -X -At "$db" -c "SELECT md5('gogotime:user:1:$n')::uuid")
    label=$(psql -X -At "$db" -c "SELECT \"firstName\" || ' ' || \"lastName\" FROM users WHERE id = '$uid'")
    token=$("$server" token --secret "$secret" --tenant "$acme" --sub "$uid" --role "$role" --ttl 86400)
    printf '%s{"key": "%s", "label": "%s", "role": "%s", "userId": "%s", "companyId": "%s", "token": "%s"}\n' \
      "$sep" "$key" "$label" "$role" "$uid" "$acme" "$token"
    sep=","
  done
  echo ']}'
} >"$work/config/config.json"

"$server" serve --database "$db" --rules "$here/schema/apps/gogotime/rules.json" \
  --listen "127.0.0.1:$http_port" --hs256-secret "$secret" \
  --static "/=$here/web-demo,/outpost=$package,/demo-config=$work/config" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do grep -q "listening on" "$work/server.log" 2>/dev/null && break; sleep 0.1; done
grep -q "listening on" "$work/server.log" || { cat "$work/server.log" >&2; exit 1; }
app="http://127.0.0.1:$http_port/"
if [ -n "$info" ]; then
  printf '{"url": "%s", "database": "%s", "secret": "%s", "companyId": "%s", "serverLog": "%s"}\n' \
    "$app" "$db" "$secret" "$acme" "$work/server.log" >"$info.tmp"
  mv "$info.tmp" "$info"
fi
alex=$(psql -X -At "$db" -c "SELECT md5('gogotime:user:1:5')::uuid")
latest_entry=$(psql -X -At "$db" -c "SELECT id FROM timesheet_entries WHERE \"userId\" = '$alex' AND \"deletedAt\" IS NULL ORDER BY day DESC, \"createdAt\", id LIMIT 1")
cat <<EOF

  GoGoTime offline timesheets: open $app
  (served by outpost-server, which also syncs; PostgreSQL: $db)

  1. Pick a user (Alex Martin, an employee): the week view of their latest entries appears.
  2. Add, edit (minutes, mode, note) or delete entries; "Submit timesheet" submits the week.
  3. Go offline (browser dev tools, Network: Offline), keep editing: the badge counts the changes
     not yet on the server. Reload: they are still there. Go online: they are pushed.
  4. Change one of Alex's rows in PostgreSQL and watch the page update without a reload:
     psql "$db" -c "UPDATE timesheet_entries SET note = 'changed in PostgreSQL' WHERE id = '$latest_entry'"
  5. Open a second tab: it shares the first tab's database, and sees its writes at once.

  Ctrl-C stops the server and removes the database.
EOF
wait "$server_pid"
