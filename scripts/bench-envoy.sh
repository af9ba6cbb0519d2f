#!/usr/bin/env bash
# Benchmarks Envoy ext_authz Check: Verdict vs opa-envoy-plugin, same policy, same request, same
# ghz concurrency and duration, one after the other. Prints req/s, p50, p99 and the ratio.
#   scripts/bench-envoy.sh [concurrency=16] [duration=10s] [rounds=2]
# The two servers are measured in alternating rounds so that load from elsewhere on a shared machine
# falls on both; the ratio compares their mean req/s.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
concurrency=${1:-16}
duration=${2:-10s}
rounds=${3:-2}
ghz_version=$(tr -d '[:space:]' < scripts/ghz-version.txt)
ghz="$root/.tools/ghz/bin/ghz"
if [ ! -x "$ghz" ]; then
  GOBIN="$root/.tools/ghz/bin" go install "github.com/bojand/ghz/cmd/ghz@$ghz_version" >&2
fi
plugin=$(scripts/install-opa-envoy-plugin.sh)
npm run build --silent

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

# A typical policy: allow GETs under /api for callers with a bearer token, add a header.
cat > "$work/policy.rego" <<'REGO'
package envoy.authz

http := input.attributes.request.http

default allow := false

allow := {"allowed": true, "headers": {"x-user": "bench"}} if {
	http.method == "GET"
	input.parsed_path[0] == "api"
	startswith(http.headers.authorization, "Bearer ")
}
REGO
cat > "$work/request.json" <<'JSON'
{"attributes": {
  "source": {"address": {"socketAddress": {"address": "10.0.0.7", "portValue": 51234}}},
  "destination": {"address": {"socketAddress": {"address": "10.0.0.8", "portValue": 8080}}},
  "request": {"http": {"id": "1", "method": "GET", "path": "/api/orders/7?page=2", "host": "api.example.com",
    "scheme": "http", "protocol": "HTTP/1.1",
    "headers": {"authorization": "Bearer abc.def.ghi", "user-agent": "bench", "accept": "application/json", "x-request-id": "r-1"}}}
}}
JSON

free_port() { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }
wait_port() { for _ in $(seq 1 300); do (echo > "/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 never opened" >&2; return 1; }

# Verdict as users run it: `verdict run` with the policy as a bundle and the gRPC plugin configured, so
# every Check goes through the server's shared decide path (the one that feeds the decision log).
ours=$(free_port)
mkdir "$work/bundle" && cp "$work/policy.rego" "$work/bundle/"
printf 'plugins:\n  envoy_ext_authz_grpc:\n    addr: "127.0.0.1:%s"\n' "$ours" > "$work/verdict.yaml"
node dist/src/main.js run --addr 127.0.0.1:0 --log-level error --config-file "$work/verdict.yaml" -b "$work/bundle" > /dev/null &
pids+=($!)
theirs=$(free_port)
"$plugin" run --server --addr 127.0.0.1:0 --log-level error --set decision_logs.console=false \
  --set "plugins.envoy_ext_authz_grpc.addr=127.0.0.1:$theirs" "$work/policy.rego" > /dev/null 2>&1 &
pids+=($!)
wait_port "$ours"
wait_port "$theirs"

run() {
  "$ghz" --insecure --proto src/envoy/proto/envoy/service/auth/v3/external_auth.proto -i src/envoy/proto \
    --call envoy.service.auth.v3.Authorization/Check -D "$work/request.json" \
    -c "$concurrency" -z "$duration" --connections 1 --format json "127.0.0.1:$1" > "$work/$2.json"
}
# A 3 s warm-up at full concurrency for both (V8's JIT, Go's connection pools), then the measured runs.
"$ghz" --insecure --proto src/envoy/proto/envoy/service/auth/v3/external_auth.proto -i src/envoy/proto \
  --call envoy.service.auth.v3.Authorization/Check -D "$work/request.json" -c "$concurrency" -z 3s "127.0.0.1:$ours" > /dev/null
"$ghz" --insecure --proto src/envoy/proto/envoy/service/auth/v3/external_auth.proto -i src/envoy/proto \
  --call envoy.service.auth.v3.Authorization/Check -D "$work/request.json" -c "$concurrency" -z 3s "127.0.0.1:$theirs" > /dev/null
for round in $(seq 1 "$rounds"); do
  run "$ours" "verdict.$round"
  run "$theirs" "opa-envoy-plugin.$round"
done

node - "$work" "$concurrency" "$duration" "$rounds" <<'NODE'
const fs = require('fs');
const [work, concurrency, duration, rounds] = process.argv.slice(2);
const read = (file) => {
  const r = JSON.parse(fs.readFileSync(`${work}/${file}.json`, 'utf8'));
  const pct = (p) => (r.latencyDistribution || []).find((d) => d.percentage === p)?.latency / 1e6;
  const ok = (r.statusCodeDistribution || {}).OK || 0;
  const kinds = Object.entries(r.statusCodeDistribution || {}).filter(([k]) => k !== 'OK').map(([k, n]) => `${n} ${k}`).join(', ');
  return { rps: r.rps, p50: pct(50), p99: pct(99), ok, errors: kinds || 'no errors' };
};
const names = ['verdict', 'opa-envoy-plugin'];
console.log(`ext_authz Check, concurrency ${concurrency}, ${duration} per run, one connection, ${rounds} alternating rounds`);
const mean = {};
for (const name of names) mean[name] = 0;
for (let round = 1; round <= Number(rounds); round++) {
  for (const name of names) {
    const r = read(`${name}.${round}`);
    mean[name] += r.rps / Number(rounds);
    console.log(`round ${round}  ${name.padEnd(18)} ${r.rps.toFixed(0).padStart(7)} req/s   p50 ${r.p50.toFixed(2)} ms   p99 ${r.p99.toFixed(2)} ms   (${r.ok} OK; ${r.errors})`);
  }
}
console.log('(calls still in flight when a run ends are cancelled by ghz, about one per concurrency slot)');
console.log(`mean req/s: verdict ${mean['verdict'].toFixed(0)}, opa-envoy-plugin ${mean['opa-envoy-plugin'].toFixed(0)}; ratio verdict/opa-envoy-plugin ${(mean['verdict'] / mean['opa-envoy-plugin']).toFixed(2)}x`);
NODE
