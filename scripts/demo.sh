#!/usr/bin/env bash
# The main job: the whole sync loop on one machine.
#  - a throwaway PostgreSQL with the GoGoTime schema and sample data;
#  - outpost-server serving it (capture installed, JWT auth);
#  - two field clients of one company bootstrap, go "offline" and edit with plain SQL: different
#    columns of one entry, and the same column of another; both sync and converge;
#  - a client of another company syncs and sees none of it.
# Installs and builds what it needs first.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$here/scripts/setup.sh"
"$here/scripts/build.sh" >/dev/null
bin="${OUTPOST_BUILD_DIR:-$here/build}"
outpost="$bin/native/outpost"
server="$bin/sync/server/outpost-server"

work="$(mktemp -d /tmp/outpost-demo-XXXXXX)"
chmod 755 "$work"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill -TERM "$server_pid" 2>/dev/null && wait "$server_pid" || true; fi
  "$here/scripts/pg-throwaway.sh" stop "$work/pg"
  rm -rf "$work"
}
trap cleanup EXIT
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
say() { printf '%s\n' "$*"; }

step "Starting a throwaway PostgreSQL with GoGoTime sample data"
url=$("$here/scripts/pg-throwaway.sh" start "$work/pg")
port="${url##*:}"; port="${port%%/*}"; http_port=$((port + 1))
say "PostgreSQL on port $port"
db="${url%/postgres}/gogotime"
psql -X -q "$url" -c "CREATE DATABASE gogotime"
psql -X -q -v ON_ERROR_STOP=1 "$db" -f "$here/schema/apps/gogotime/schema.sql"
psql -X -q -v ON_ERROR_STOP=1 -v rows="${ROWS:-30000}" "$db" -f "$here/schema/apps/gogotime/sample-data.sql"
psql -X -q "$db" -c "SELECT name AS company, (SELECT count(*) FROM timesheet_entries e WHERE e.\"companyId\" = c.id) AS entries FROM companies c ORDER BY name"

step "Starting outpost-server on 127.0.0.1:$http_port"
secret="demo-secret-$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"
"$server" serve --database "$db" --rules "$here/schema/apps/gogotime/rules.json" \
  --listen "127.0.0.1:$http_port" --hs256-secret "$secret" > "$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do grep -q "listening on" "$work/server.log" 2>/dev/null && break; sleep 0.1; done
grep "listening on" "$work/server.log" || { cat "$work/server.log"; exit 1; }
api="http://127.0.0.1:$http_port"

acme=4e59da50-40fc-5e0d-33c1-688ba4977baa   # company 1 of the sample data
zoe=4586023b-b360-9b62-50c1-870e43c70adb    # company 2
first_user() { psql -X -At "$db" -c "SELECT id FROM users WHERE \"companyId\" = '$1' ORDER BY id LIMIT 1"; }
token() { "$server" token --secret "$secret" --tenant "$1" --sub "$2" --role "$3" --ttl 3600; }
t_acme=$(token "$acme" "$(first_user "$acme")" manager)
t_zoe=$(token "$zoe" "$(first_user "$zoe")" manager)

step "Two field clients of Acme Corp and one of Zoë's Café: outpost init + first sync (bootstrap)"
for c in field1 field2; do
  "$outpost" init --server "$api" --token "$t_acme" --db "$work/$c.db" >/dev/null
  printf '%s: ' "$c"; "$outpost" sync --db "$work/$c.db"
done
"$outpost" init --server "$api" --token "$t_zoe" --db "$work/zoe.db" >/dev/null
printf 'zoe: '; "$outpost" sync --db "$work/zoe.db"

sql() { local c=$1; shift; "$outpost" sql --db "$work/$c.db" "$@"; }
e1=$(sql field1 --json "SELECT id FROM timesheet_entries WHERE \"companyId\" = '$acme' ORDER BY id LIMIT 1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["rows"][0][0])')
e2=$(sql field1 --json "SELECT id FROM timesheet_entries WHERE \"companyId\" = '$acme' ORDER BY id LIMIT 1 OFFSET 1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["rows"][0][0])')
show() {
  printf '  %-9s %-10s %-12s %-8s %s\n' where entry durationMin country workMode
  for c in field1 field2; do
    sql "$c" --json "SELECT substr(id, 1, 8), \"durationMin\", country, \"workMode\" FROM timesheet_entries WHERE id IN ('$e1', '$e2') ORDER BY id" |
      python3 -c 'import json,sys; [print("  %-9s %-10s %-12s %-8s %s" % (sys.argv[1], *r)) for r in json.load(sys.stdin)["rows"]]' "$c"
  done
  psql -X -At -F ' ' "$db" -c "SELECT substr(id::text, 1, 8), \"durationMin\", country, \"workMode\" FROM timesheet_entries WHERE id IN ('$e1', '$e2') ORDER BY id" |
    while read -r id d c w; do printf '  %-9s %-10s %-12s %-8s %s\n' postgres "$id" "$d" "$c" "$w"; done
}
say "Entries under edit: $e1 and $e2"
show

step "Offline: both clients edit (nothing is sent yet)"
say "field1: entry 1 durationMin = 95 (a column field2 does not touch); entry 2 workMode = 'office' and country = 'DE'"
sql field1 "UPDATE timesheet_entries SET \"durationMin\" = 95 WHERE id = '$e1'" >/dev/null
sql field1 "UPDATE timesheet_entries SET \"workMode\" = 'office', country = 'DE' WHERE id = '$e2'" >/dev/null
sleep 0.05
say "field2: entry 1 country = 'FR' (another column);       entry 2 workMode = 'hybrid' (same column, later)"
sql field2 "UPDATE timesheet_entries SET country = 'FR' WHERE id = '$e1'" >/dev/null
sql field2 "UPDATE timesheet_entries SET \"workMode\" = 'hybrid' WHERE id = '$e2'" >/dev/null
show
say "field2's outbox:"; "$outpost" outbox --db "$work/field2.db" | sed 's/^/  /'

step "Back online: field2 syncs first, then field1, then field2 again"
for c in field2 field1 field2; do printf '%s: ' "$c"; "$outpost" sync --db "$work/$c.db"; done
say "Converged: entry 1 keeps both column edits; entry 2 takes the later write (hybrid logical clock)"
show

step "Zoë's Café client syncs: it sees none of Acme's rows"
printf 'zoe: '; "$outpost" sync --db "$work/zoe.db"
sql zoe "SELECT (SELECT count(*) FROM timesheet_entries WHERE \"companyId\" = '$acme') AS acme_entries_visible, (SELECT count(*) FROM timesheet_entries) AS own_entries, (SELECT count(*) FROM companies) AS companies_visible"

step "Status of field1"
"$outpost" status --db "$work/field1.db"
echo
echo "Demo finished."
