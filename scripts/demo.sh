#!/usr/bin/env bash
# The main job: a throwaway PostgreSQL with the GoGoTime schema and sample data, described by
# outpost-server, mirrored into a local SQLite store by outpost, edited offline with plain SQL,
# and the captured outbox printed. Installs and builds what it needs first.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$here/scripts/setup.sh"
"$here/scripts/build.sh" >/dev/null
bin="${OUTPOST_BUILD_DIR:-$here/build}"
outpost="$bin/native/outpost"
server="$bin/sync/server/outpost-server"

work="$(mktemp -d /tmp/outpost-demo-XXXXXX)"
chmod 755 "$work"
port=$((30000 + RANDOM % 20000))
cleanup() { "$here/scripts/pg-throwaway.sh" stop "$work/pg"; rm -rf "$work"; }
trap cleanup EXIT
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "Starting a throwaway PostgreSQL on port $port"
url=$("$here/scripts/pg-throwaway.sh" start "$work/pg" "$port")
db="${url%/postgres}/gogotime"
psql -X -q "$url" -c "CREATE DATABASE gogotime"
psql -X -q -v ON_ERROR_STOP=1 "$db" -f "$here/schema/apps/gogotime/schema.sql"
psql -X -q -v ON_ERROR_STOP=1 -v rows="${ROWS:-10000}" "$db" -f "$here/schema/apps/gogotime/sample-data.sql"
psql -X -q "$db" -c "SELECT (SELECT count(*) FROM companies) AS companies, (SELECT count(*) FROM users) AS users, (SELECT count(*) FROM timesheet_entries) AS timesheet_entries"

step "outpost-server describe: the schema descriptor clients receive"
"$server" describe --database "$db" --rules "$here/schema/apps/gogotime/rules.json" > "$work/schema.json"
python3 - "$work/schema.json" <<'PY' 2>/dev/null || head -c 600 "$work/schema.json"
import json, sys
d = json.load(open(sys.argv[1]))
print("version", d["version"])
for t in d["tables"]:
    s = t["sync"]["scope"]
    scope = s if isinstance(s, str) else ", ".join(f"{k}={v}" for k, v in s.items())
    ro = " read-only" if t["sync"].get("write") == [] or s == "global" else ""
    print(f'  {t["name"]:<22} {len(t["columns"]):>2} columns  scope {scope}{ro}')
PY

step "outpost mirror: creating the local SQLite mirror"
"$outpost" mirror --schema "$work/schema.json" --db "$work/field.db" | sed 's/^/  /' | head -30

step "Offline edits with plain SQL (the local store enforces the server's rules)"
company=4e59da50-40fc-5e0d-33c1-688ba4977baa
# Reference rows a real client would have pulled from the server: applied here by hand.
run() { echo "\$ outpost sql \"$1\""; "$outpost" sql --db "$work/field.db" "$1" "${2:-[]}" | sed 's/^/  /' || true; }
run "INSERT INTO action_codes (\"companyId\", code, name) VALUES ('$company', 'DEV', 'Development')"
echo "  (refused: action_codes rows need the company, which arrives with the first sync)"
echo
echo "Mirroring the company's reference rows locally as the sync engine would (issue 3 automates this):"
psql -X -At -v ON_ERROR_STOP=1 "$db" > "$work/seed.sql" <<SQL
SELECT format('INSERT INTO companies (id, name) VALUES (%L, %L);', id, name)
  FROM companies WHERE id = '$company';
SELECT format('INSERT INTO user_statuses (id, code, name, "canLogin", "isTerminal") VALUES (%L, %L, %L, %s, %s);',
              id, code, name, "canLogin"::int, "isTerminal"::int) FROM user_statuses;
SELECT format('INSERT INTO roles (id, "companyId", name) VALUES (%L, %L, %L);', id, "companyId", name)
  FROM roles WHERE "companyId" = '$company';
SELECT format('INSERT INTO users (id, "companyId", email, "firstName", "lastName", "roleId", "statusId") VALUES (%L, %L, %L, %L, %L, %L, %L);',
              id, "companyId", email, "firstName", "lastName", "roleId", "statusId")
  FROM users WHERE "companyId" = '$company';
SELECT format('INSERT INTO action_codes (id, "companyId", code, name, type) VALUES (%L, %L, %L, %L, %L);',
              id, "companyId", code, name, type) FROM action_codes WHERE "companyId" = '$company';
SQL
"$outpost" sql --engine --db "$work/field.db" "$(cat "$work/seed.sql")" >/dev/null
"$outpost" sql --db "$work/field.db" "SELECT (SELECT count(*) FROM users) AS users, (SELECT count(*) FROM action_codes) AS action_codes" | sed 's/^/  /'
echo "  outbox after engine writes: $("$outpost" outbox --db "$work/field.db" --json)"
run "INSERT INTO timesheet_entries (\"companyId\", \"userId\", \"actionCodeId\", country, \"durationMin\", day, note) SELECT \"companyId\", id, (SELECT id FROM action_codes LIMIT 1), 'FR', 90, '2026-11-23', 'Offline: site visit, no network' FROM users LIMIT 1"
run "INSERT INTO timesheet_entries (\"companyId\", \"userId\", \"actionCodeId\", country, \"durationMin\", day) SELECT \"companyId\", id, (SELECT id FROM action_codes LIMIT 1), 'FR', 1441, '2026-11-23' FROM users LIMIT 1"
echo "  (refused locally, as PostgreSQL would: durationMin BETWEEN 0 AND 1440)"
run "BEGIN; UPDATE timesheet_entries SET \"durationMin\" = 120, note = 'Offline: visit ran long' WHERE note LIKE 'Offline%'; UPDATE timesheet_entries SET \"workMode\" = 'remote' WHERE note LIKE 'Offline%'; COMMIT"
run "SELECT \"durationMin\", \"workMode\", note FROM timesheet_entries WHERE note LIKE 'Offline%'"

step "The outbox: what will be pushed to the server"
"$outpost" outbox --db "$work/field.db"
echo
echo "Demo finished. (Syncing the outbox with the server is the next milestone.)"
