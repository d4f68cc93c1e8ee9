#!/usr/bin/env bash
# How many parked long-polls one outpost-server holds, and what they cost: starts a throwaway
# PostgreSQL with GoGoTime sample data and the server, parks N long-polls (distinct tokens, raw
# sockets), then prints the server's memory per parked long-poll, /healthz latency while they
# wait, and how long one change takes to wake and answer all of them.
#   bench/connections_bench.sh [N] [BUILD_DIR]     (default 10000, build/)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
n="${1:-10000}"
build="${2:-$here/build}"
bin="$build/sync/server/outpost-server"
work="$(mktemp -d)"
chmod 755 "$work"  # the cluster runs as postgres when we are root
port=$((40000 + RANDOM % 20000))
cleanup() {
  [ -n "${spid:-}" ] && kill "$spid" 2> /dev/null && wait "$spid" 2> /dev/null || true
  "$here/scripts/pg-throwaway.sh" stop "$work/pg"
  rm -rf "$work"
}
trap cleanup EXIT
[ -n "${KEEP:-}" ] && trap - EXIT
ulimit -n "$(ulimit -Hn)"
url=$("$here/scripts/pg-throwaway.sh" start "$work/pg")
db="${url%/postgres}/bench"
psql -X -q "$url" -c "CREATE DATABASE bench"
psql -X -q -v ON_ERROR_STOP=1 "$db" -f "$here/schema/apps/gogotime/schema.sql"
psql -X -q -v ON_ERROR_STOP=1 -v rows=20 "$db" -f "$here/schema/apps/gogotime/sample-data.sql"
secret=bench-secret-0123456789abcdef
"$bin" serve --database "$db" --rules "$here/schema/apps/gogotime/rules.json" \
  --listen "127.0.0.1:$port" --hs256-secret "$secret" --max-connections $((n + 100)) \
  --long-polls-per-token 4 > "$work/server.log" 2>&1 &
spid=$!
for _ in $(seq 1 100); do grep -q "listening on" "$work/server.log" && break; sleep 0.1; done
tenant=$(psql -X -At "$db" -c 'SELECT id FROM companies ORDER BY id LIMIT 1')
python3 - "$port" "$n" "$spid" "$db" "$tenant" "$secret" <<'PY'
import base64, hashlib, hmac, json, resource, socket, subprocess, sys, time
import urllib.error, urllib.parse, urllib.request
port, n, pid, db, tenant, secret = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

def b64(b): return base64.urlsafe_b64encode(b).rstrip(b"=").decode()
def token(i):
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64(json.dumps({"sub": "00000000-0000-4000-8000-%012d" % i, "tenant": tenant,
                           "role": "admin", "exp": int(time.time()) + 3600}).encode())
    sig = b64(hmac.new(secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest())
    return f"{head}.{body}.{sig}"
def rss_kib():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"): return int(line.split()[1])

t0 = token(0)
h = {"Authorization": "Bearer " + t0}
try:
    urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/v1/pull?schema=x", headers=h))
except urllib.error.HTTPError as e:
    ver = json.loads(e.read())["error"]["message"].split("server's ")[1].rsplit(": fetch", 1)[0]
cursor = None
while True:
    q = {"schema": ver, "limit": "50000", **({"cursor": cursor} if cursor else {})}
    body = urllib.request.urlopen(urllib.request.Request(
        f"http://127.0.0.1:{port}/v1/pull?" + urllib.parse.urlencode(q), headers=h)).read().decode()
    cur = [json.loads(l) for l in body.splitlines() if '"cursor"' in l][-1]
    cursor = cur["cursor"]
    if not cur.get("more"): break
target = "/v1/pull?" + urllib.parse.urlencode({"schema": ver, "cursor": cursor, "wait": "60"})
before = rss_kib()
socks = []
start = time.time()
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(f"GET {target}&client=c{i} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token(i)}\r\n\r\n".encode())
    socks.append(s)
opened = time.time() - start
time.sleep(2)
after = rss_kib()
t = time.time()
urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=30).read()
health_ms = (time.time() - t) * 1000
metrics = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics").read().decode()
waiting = [l for l in metrics.splitlines() if l.startswith("outpost_long_polls_waiting")][0].split()[1]
t = time.time()
subprocess.run(["psql", "-X", "-q", db, "-c",
                f"UPDATE action_codes SET name = name || '.' WHERE id = (SELECT id FROM action_codes "
                f"WHERE \"companyId\" = '{tenant}' ORDER BY id LIMIT 1)"], check=True)
answered = 0
for s in socks:
    s.settimeout(60)
    data = b""
    while b'"type":"cursor"' not in data:
        chunk = s.recv(65536)
        if not chunk: break
        data += chunk
    if b"HTTP/1.1 200" in data: answered += 1
wake_s = time.time() - t
print(f"parked long-polls: {n} (server says {waiting} waiting), opened in {opened:.1f} s")
print(f"server RSS: {before/1024:.1f} MiB before, {after/1024:.1f} MiB parked: "
      f"{(after-before)/n:.1f} KiB per parked long-poll")
print(f"/healthz while they wait: {health_ms:.1f} ms")
print(f"one change woke and answered {answered}/{n} in {wake_s:.2f} s")
PY
