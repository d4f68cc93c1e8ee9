#!/usr/bin/env bash
# The command lines end to end: describe a real PostgreSQL database, mirror it, write offline
# with plain SQL, read the outbox; and the errors users see.
set -euo pipefail
outpost="$1"; server="$2"
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d)"
chmod 755 "$work"  # the cluster runs as the postgres user when we are root
spid=""
cleanup() {
  if [ -n "$spid" ]; then kill "$spid" 2> /dev/null || true; fi
  "$root/scripts/pg-throwaway.sh" stop "$work/pg" || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

url=$("$root/scripts/pg-throwaway.sh" start "$work/pg")
port="${url##*:}"; port="${port%%/*}"
db="${url%/postgres}/cli"
psql -X -q "$url" -c "CREATE DATABASE cli"
psql -X -q -v ON_ERROR_STOP=1 "$db" -f "$root/schema/apps/gogotime/schema.sql"
psql -X -q -v ON_ERROR_STOP=1 -v rows=50 "$db" -f "$root/schema/apps/gogotime/sample-data.sql"

"$server" describe --database "$db" --rules "$root/schema/apps/gogotime/rules.json" > "$work/schema.json"
grep -q '"version":"sha256:' "$work/schema.json" || fail "descriptor has no version"
if grep -q passwordHash "$work/schema.json"; then fail "secret column in descriptor"; fi

# Every seed app's rules pass describe --strict against its schema: no table is global while
# its rows reference a tenant's.
for app in erp gemini_crm gogotime ncy8 selly; do
  psql -X -q "$url" -c "CREATE DATABASE strict_$app"
  psql -X -q -v ON_ERROR_STOP=1 "${url%/postgres}/strict_$app" -f "$root/schema/apps/$app/schema.sql" > /dev/null
  "$server" describe --database "${url%/postgres}/strict_$app" --rules "$root/schema/apps/$app/rules.json" \
    --strict > /dev/null 2> "$work/err" || fail "$app rules fail describe --strict: $(cat "$work/err")"
  if grep -q "^warning:" "$work/err"; then fail "$app rules warn: $(cat "$work/err")"; fi
done
# Rules that make a table global while its rows reference a tenant's: a warning naming the
# table, column and referenced table; --strict refuses them and prints no descriptor.
sed 's/"timesheet_history":   { "scope": { "tenant_column": "companyId" },/"timesheet_history":   { "scope": "global",/' \
  "$root/schema/apps/gogotime/rules.json" > "$work/leaky-rules.json"
grep -q '"timesheet_history":   { "scope": "global"' "$work/leaky-rules.json" || fail "leaky rules not made"
"$server" describe --database "$db" --rules "$work/leaky-rules.json" > "$work/leaky.json" 2> "$work/err" ||
  fail "describe without --strict refused warned rules: $(cat "$work/err")"
grep -q '^warning: global table "timesheet_history" references tenant-scoped table "companies" (column "companyId"' "$work/err" ||
  fail "no warning for a global table referencing a tenant: $(cat "$work/err")"
grep -q '"version":"sha256:' "$work/leaky.json" || fail "describe with warnings printed no descriptor"
set +e
"$server" describe --database "$db" --rules "$work/leaky-rules.json" --strict > "$work/leaky.json" 2> "$work/err"; strictrc=$?
set -e
[ "$strictrc" = 1 ] && grep -q "describe --strict: [0-9]* rule warning(s)" "$work/err" ||
  fail "describe --strict accepted leaky rules ($strictrc): $(cat "$work/err")"
[ ! -s "$work/leaky.json" ] || fail "describe --strict printed a descriptor for leaky rules"

# PostgreSQL rules the mirror translates are enforced by the CLI's store too: an enum label, a
# regular expression, a timestamp.
psql -X -q -v ON_ERROR_STOP=1 "$db" > /dev/null <<'SQL'
CREATE TYPE cli_mood AS ENUM ('calm', 'busy');
CREATE TABLE cli_rules (id int PRIMARY KEY, mood cli_mood, code text, at timestamptz,
  CHECK (mood <> 'busy'::cli_mood), CHECK (code ~ '^[A-Z]{3}-\d+$'),
  CHECK (at >= '2020-01-01T00:00:00Z'));
SQL
"$server" describe --database "$db" > "$work/all.json"
"$outpost" mirror --schema "$work/all.json" --db "$work/rules.db" > "$work/mirror.out"
if grep -q "^  cli_rules\." "$work/mirror.out"; then fail "cli_rules not fully mirrored: $(cat "$work/mirror.out")"; fi
"$outpost" sql --db "$work/rules.db" --engine \
  "INSERT INTO cli_rules VALUES (1, 'calm', 'ABC-12', '2020-01-01T00:00:00.5Z')" > /dev/null ||
  fail "a row PostgreSQL accepts was refused"
for bad in "(2, 'busy', NULL, NULL)" "(3, NULL, 'abc-12', NULL)" "(4, NULL, NULL, '2020-01-01 01:00:00+02')"; do
  set +e
  "$outpost" sql --db "$work/rules.db" --engine "INSERT INTO cli_rules VALUES $bad" 2> "$work/err"; rc=$?
  set -e
  [ "$rc" = 1 ] && grep -q "constraint_violation" "$work/err" || fail "$bad was not refused: $(cat "$work/err")"
done

"$outpost" mirror --schema "$work/schema.json" --db "$work/local.db" > "$work/mirror.out"
grep -q "created  timesheet_entries" "$work/mirror.out" || fail "mirror did not create tables"
"$outpost" mirror --schema "$work/schema.json" --db "$work/local.db" | grep -q "up to date" ||
  fail "second mirror is not a no-op"

"$outpost" sql --db "$work/local.db" \
  "INSERT INTO companies (id, name) VALUES ('4e59da50-40fc-5e0d-33c1-688ba4977baa', 'Acme')" \
  && fail "companies is read-only for clients"
"$outpost" outbox --db "$work/local.db" | grep -q "outbox empty" || fail "outbox not empty"

# Errors: stable codes on stderr, exit 1; usage errors exit 2.
set +e
"$outpost" sql --db "$work/local.db" "SELEKT" 2> "$work/err"; rc=$?
set -e
[ "$rc" = 1 ] || fail "bad SQL exit code $rc"
grep -q "outpost: sql_error:" "$work/err" || fail "bad SQL message: $(cat "$work/err")"
echo '{"format":1,"tables":[{"name":"t","columns":[{"name":"a","type":"frob","pg_type":"x","nullable":true}],"primary_key":["a"]}]}' > "$work/bad.json"
set +e
"$outpost" mirror --schema "$work/bad.json" --db "$work/bad.db" 2> "$work/err"; rc=$?
"$outpost" frobnicate 2>/dev/null; usage=$?
"$server" describe --database "postgresql://postgres@127.0.0.1:$port/nope" 2> "$work/err2"; pgrc=$?
set -e
[ "$rc" = 1 ] && grep -q "unknown_type" "$work/err" || fail "unknown type: $(cat "$work/err")"
[ "$usage" = 2 ] || fail "usage exit code $usage"
[ "$pgrc" = 1 ] && grep -q "postgres_error" "$work/err2" || fail "missing database: $(cat "$work/err2")"
# Sync commands, offline: status and rejections of a plain mirror, errors without a server.
"$outpost" status --db "$work/local.db" | grep -q "bootstrapped:  no" || fail "status output"
"$outpost" status --db "$work/local.db" --json | grep -q '"pending_mutations":0' || fail "status json"
"$outpost" rejections --db "$work/local.db" | grep -q "no rejections" || fail "rejections output"
set +e
"$outpost" sync --db "$work/local.db" 2> "$work/err"; syncrc=$?
OUTPOST_TOKEN=t "$outpost" init --server "http://127.0.0.1:1" --db "$work/init.db" 2> "$work/err2"; initrc=$?
"$outpost" init --server "ftp://x" --token t --db "$work/init2.db" 2> "$work/err3"; ftprc=$?
set -e
[ "$syncrc" = 1 ] && grep -q "invalid_argument: .*outpost init" "$work/err" ||
  fail "sync without server: $(cat "$work/err")"
[ "$initrc" = 1 ] && grep -q "outpost: unavailable:" "$work/err2" ||
  fail "init against a closed port: $(cat "$work/err2")"
[ "$ftprc" = 1 ] && grep -q "outpost: unsupported:" "$work/err3" || fail "ftp URL: $(cat "$work/err3")"

# The production server has no test fault hooks: OUTPOST_FAULT changes nothing (the tests that
# need one run outpost-server-faults). A push goes through, answered, and the server lives on.
secret="cli-test-secret-0123456789abcdef"
sport=$((port + 1))
# Bad web options are refused at start-up with a clear message.
set +e
"$server" serve --database "$db" --rules "$root/schema/apps/gogotime/rules.json" \
  --hs256-secret "$secret" --allow-origin "https://app.example.com/" 2> "$work/err"; originrc=$?
"$server" serve --database "$db" --rules "$root/schema/apps/gogotime/rules.json" \
  --hs256-secret "$secret" --static "nope=$work" 2> "$work/err2"; staticrc=$?
"$server" serve --database "$db" --rules "$root/schema/apps/gogotime/rules.json" \
  --hs256-secret "$secret" --listen "127.0.0.1:$sport" --static "/=$work/missing" 2> "$work/err3"; dirrc=$?
set -e
[ "$originrc" = 1 ] && grep -q "allow-origin takes origins" "$work/err" || fail "bad origin: $(cat "$work/err")"
[ "$staticrc" = 1 ] && grep -q "static takes" "$work/err2" || fail "bad mount: $(cat "$work/err2")"
[ "$dirrc" = 1 ] && grep -q "not a readable directory" "$work/err3" || fail "missing dir: $(cat "$work/err3")"

# A web app served next to the sync endpoint, and another origin allowed to call it.
mkdir -p "$work/www/pkg"
echo '<!doctype html><title>app</title>' > "$work/www/index.html"
printf '\0asm\1\0\0\0' > "$work/www/pkg/engine.wasm"
echo 'export {};' > "$work/www/pkg/engine.mjs"
echo 'not for the web' > "$work/secret.txt"
OUTPOST_FAULT=crash_after_push_commit "$server" serve --database "$db" \
  --rules "$root/schema/apps/gogotime/rules.json" --listen "127.0.0.1:$sport" \
  --hs256-secret "$secret" --static "/=$work/www,/assets=$work/www/pkg" \
  --allow-origin "https://app.example.com" > "$work/server.log" 2>&1 &
spid=$!
for _ in $(seq 1 100); do grep -q "listening on" "$work/server.log" && break; sleep 0.1; done
grep -q "listening on" "$work/server.log" || fail "server did not start: $(cat "$work/server.log")"
company=$(psql -X -At "$db" -c 'SELECT id FROM companies ORDER BY id LIMIT 1')
user=$(psql -X -At "$db" -c "SELECT id FROM users WHERE \"companyId\" = '$company' ORDER BY id LIMIT 1")
token=$("$server" token --secret "$secret" --tenant "$company" --sub "$user" --role admin)
"$outpost" init --server "http://127.0.0.1:$sport" --token "$token" --db "$work/field.db" --sync \
  > /dev/null 2> "$work/err" || fail "init --sync: $(cat "$work/err")"
entry=$("$outpost" sql --db "$work/field.db" --json 'SELECT id FROM timesheet_entries LIMIT 1' |
        sed -n 's/.*"rows":\[\["\([^"]*\)".*/\1/p')
[ -n "$entry" ] || fail "no timesheet entry was pulled"
"$outpost" sql --db "$work/field.db" "UPDATE timesheet_entries SET note = 'from the field' WHERE id = ?" \
  "[\"$entry\"]" > /dev/null
"$outpost" sync --db "$work/field.db" > "$work/sync.out" 2> "$work/err" ||
  fail "sync against a server started with OUTPOST_FAULT: $(cat "$work/err")"
grep -q "pushed 1 transaction" "$work/sync.out" || fail "push not applied: $(cat "$work/sync.out")"
kill -0 "$spid" 2> /dev/null || fail "the production server obeyed OUTPOST_FAULT"
[ "$(psql -X -At "$db" -c "SELECT note FROM timesheet_entries WHERE id = '$entry'")" = "from the field" ] ||
  fail "the pushed note is not in PostgreSQL"
# A write the server could not apply as written is reported: the entry is deleted by another
# backend while the field edits it offline; status counts the notice, rejections lists it.
psql -X -q "$db" -c "DELETE FROM timesheet_entries WHERE id = '$entry'" > /dev/null
"$outpost" sql --db "$work/field.db" "UPDATE timesheet_entries SET note = 'too late' WHERE id = ?" \
  "[\"$entry\"]" > /dev/null
"$outpost" sync --db "$work/field.db" > /dev/null 2> "$work/err" || fail "sync: $(cat "$work/err")"
"$outpost" status --db "$work/field.db" | grep -q "^notices: *1$" ||
  fail "status does not count the notice: $("$outpost" status --db "$work/field.db")"
"$outpost" rejections --db "$work/field.db" | grep -q "row_deleted timesheet_entries" ||
  fail "rejections does not show the notice: $("$outpost" rejections --db "$work/field.db")"
"$outpost" rejections --db "$work/field.db" --json | grep -q '"notices":\[{"at"' ||
  fail "rejections --json has no notices"
"$outpost" rejections --db "$work/field.db" --dismiss-notice 1 > /dev/null || fail "dismiss-notice"
"$outpost" status --db "$work/field.db" | grep -q "^notices: *0$" || fail "notice not dismissed"
# Static files: content types a browser needs, no escape from the directory, no shadowing of
# the API.
web="http://127.0.0.1:$sport"
header() { curl -s -o /dev/null -D - "$@" | tr -d '\r' | sed -n "s/^$1: //Ip" | head -1; }
ctype() { curl -s -o /dev/null -w '%{content_type}' "$@"; }
[ "$(curl -s "$web/")" = '<!doctype html><title>app</title>' ] || fail "GET / does not serve index.html"
[ "$(ctype "$web/pkg/engine.wasm")" = "application/wasm" ] || fail "wasm type: $(ctype "$web/pkg/engine.wasm")"
[ "$(ctype "$web/assets/engine.mjs")" = "text/javascript; charset=utf-8" ] ||
  fail "module type: $(ctype "$web/assets/engine.mjs")"
for path in /../secret.txt /%2e%2e/secret.txt /assets/../../secret.txt; do
  if curl -s --path-as-is "$web$path" | grep -q "not for the web"; then fail "$path escapes the static directory"; fi
done
[ "$(curl -s -o /dev/null -w '%{http_code}' "$web/v1/pull")" = 401 ] || fail "the API is shadowed by static files"
# CORS: the allowed origin gets its preflight and its headers; another origin gets neither.
code=$(curl -s -o /dev/null -w '%{http_code}' -X OPTIONS -H "Origin: https://app.example.com" \
  -H "Access-Control-Request-Method: GET" -H "Access-Control-Request-Headers: authorization" "$web/v1/pull")
[ "$code" = 204 ] || fail "preflight answered $code"
[ "$(header Access-Control-Allow-Origin -X OPTIONS -H "Origin: https://app.example.com" "$web/v1/pull")" = "https://app.example.com" ] ||
  fail "preflight without Access-Control-Allow-Origin"
[ "$(header Access-Control-Allow-Headers -X OPTIONS -H "Origin: https://app.example.com" "$web/v1/pull")" = "Authorization, Content-Type" ] ||
  fail "preflight does not allow the Authorization header"
[ "$(header Access-Control-Allow-Origin -H "Origin: https://app.example.com" -H "Authorization: Bearer $token" "$web/v1/schema")" = "https://app.example.com" ] ||
  fail "answer without Access-Control-Allow-Origin"
code=$(curl -s -o "$work/cors.out" -w '%{http_code}' -X OPTIONS -H "Origin: https://evil.example" "$web/v1/pull")
[ "$code" = 403 ] && grep -q '"code":"permission_denied"' "$work/cors.out" || fail "foreign preflight answered $code"
[ -z "$(header Access-Control-Allow-Origin -H "Origin: https://evil.example" "$web/healthz")" ] ||
  fail "a foreign origin may read answers"

# Encrypted stores: the key from OUTPOST_KEY (a passphrase) or --key-file (raw:<64 hex>). The
# server token init stores, and the pulled rows, are in the file only encrypted.
enc="$work/enc.db"
OUTPOST_KEY="field passphrase" "$outpost" init --server "http://127.0.0.1:$sport" --token "$token" \
  --db "$enc" --sync > /dev/null 2> "$work/err" || fail "encrypted init --sync: $(cat "$work/err")"
company_name=$(psql -X -At "$db" -c "SELECT name FROM companies WHERE id = '$company'")
[ -n "$company_name" ] || fail "no company name to look for"
"$outpost" sql --db "$work/field.db" "SELECT name FROM companies" | grep -qF "$company_name" ||
  fail "the plain control store lacks the company name"
grep -qF "$token" "$work/field.db" || fail "the plain control store lacks the token"
for f in "$enc" "$enc-wal" "$enc-journal"; do
  [ -e "$f" ] || continue
  if grep -qF "$token" "$f"; then fail "the token is readable in $f"; fi
  if grep -qF "$company_name" "$f"; then fail "pulled rows are readable in $f"; fi
done
[ "$(OUTPOST_KEY="field passphrase" "$outpost" sql --db "$enc" --json "SELECT count(*) FROM companies" |
     sed -n 's/.*"rows":\[\[\([0-9]*\)\]\].*/\1/p')" = 1 ] || fail "encrypted store does not read back"
cp "$enc" "$work/enc.before"
set +e
"$outpost" status --db "$enc" 2> "$work/err"; nokeyrc=$?
OUTPOST_KEY="not the passphrase" "$outpost" status --db "$enc" 2> "$work/err2"; wrongrc=$?
set -e
[ "$nokeyrc" = 1 ] && grep -q "outpost: unauthorized: .*is encrypted.*OUTPOST_KEY" "$work/err" ||
  fail "no key: $(cat "$work/err")"
[ "$wrongrc" = 1 ] && grep -q "outpost: unauthorized: wrong encryption key" "$work/err2" ||
  fail "wrong key: $(cat "$work/err2")"
cmp -s "$enc" "$work/enc.before" || fail "a failed open changed the encrypted file"
# Rekey to a raw key in a file; the passphrase then fails; sync still works; then decrypt.
printf 'raw:%s\n' "$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" > "$work/new.key"
OUTPOST_KEY="field passphrase" "$outpost" rekey --db "$enc" --new-key-file "$work/new.key" |
  grep -q "encrypted .* with the new key" || fail "rekey"
set +e
OUTPOST_KEY="field passphrase" "$outpost" status --db "$enc" 2> "$work/err"; oldrc=$?
set -e
[ "$oldrc" = 1 ] && grep -q "unauthorized" "$work/err" || fail "the old key still opens: $(cat "$work/err")"
"$outpost" sql --db "$enc" --key-file "$work/new.key" \
  "UPDATE timesheet_entries SET note = 'encrypted edit' WHERE id = (SELECT min(id) FROM timesheet_entries)" > /dev/null ||
  fail "write with the new key"
"$outpost" sync --db "$enc" --key-file "$work/new.key" > "$work/sync.out" 2> "$work/err" ||
  fail "sync of the rekeyed store: $(cat "$work/err")"
grep -q "pushed 1 transaction" "$work/sync.out" || fail "encrypted push: $(cat "$work/sync.out")"
"$outpost" rekey --db "$enc" --key-file "$work/new.key" --decrypt | grep -q "decrypted" || fail "decrypt"
grep -qF "$token" "$enc" || fail "the decrypted store does not hold the token in plain"
"$outpost" status --db "$enc" > /dev/null || fail "the decrypted store does not open without a key"
set +e
"$outpost" rekey --db "$enc" 2> /dev/null; rekeyusage=$?
set -e
[ "$rekeyusage" = 2 ] || fail "rekey without --new-key-file or --decrypt exited $rekeyusage"

kill "$spid"
wait "$spid" || fail "the server did not stop cleanly"
spid=""
echo "cli tests passed"
