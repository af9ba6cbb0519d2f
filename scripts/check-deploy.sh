#!/usr/bin/env bash
# Checks what deploy/ ships: the Helm chart lints cleanly and renders valid Kubernetes objects in every mode
# (strict kubeconform against Kubernetes' own schemas), the manifests under deploy/kubernetes/ are exactly what
# the chart renders, a bad mode is refused, and the systemd unit passes `systemd-analyze verify` without a warning.
#   scripts/check-deploy.sh            check
#   scripts/check-deploy.sh --render   rewrite deploy/kubernetes/ from the chart
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
helm=$(scripts/install-helm.sh)
kubeconform=$(scripts/install-kubeconform.sh)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chart=deploy/helm/verdict

render() { # name, extra helm args...
  local name=$1; shift
  "$helm" template verdict "$chart" --namespace verdict "$@" > "$work/$name.yaml"
}
render central
render sidecar --set mode=sidecar
render central-tls --set tls.secretName=verdict-tls --set tls.clientAuth=true --set service.grpc=true \
  --set persistence.existingClaim=verdict-decisions --set authentication=token --set authorization=basic
render central-fixed --set autoscaling.enabled=false --set podDisruptionBudget.enabled=false --set workers=2

if [ "${1:-}" = "--render" ]; then
  mkdir -p deploy/kubernetes
  cp "$work/central.yaml" "$work/sidecar.yaml" deploy/kubernetes/
  echo "rendered deploy/kubernetes/central.yaml and sidecar.yaml"
  exit 0
fi

"$helm" lint --strict "$chart"
for mode in central sidecar; do
  diff -u "deploy/kubernetes/$mode.yaml" "$work/$mode.yaml" || {
    echo "deploy/kubernetes/$mode.yaml is not what the chart renders; run scripts/check-deploy.sh --render" >&2
    exit 1
  }
done

kubernetes=v1.37.2
schemas="${VERDICT_TOOLS_DIR:-$root/.tools}/k8s-schemas-$kubernetes"
[ -f "$schemas/deployment-apps-v1.json" ] || node scripts/k8s-schemas.mjs "$schemas" "$kubernetes"
"$kubeconform" -strict -summary -schema-location "$schemas/{{ .ResourceKind }}{{ .KindSuffix }}.json" "$work"/*.yaml

if "$helm" template verdict "$chart" --set mode=gateway > /dev/null 2> "$work/bad-mode.txt"; then
  echo "the chart rendered mode=gateway instead of refusing it" >&2; exit 1
fi
grep -q 'mode: "gateway" is not one of central, sidecar' "$work/bad-mode.txt" || { cat "$work/bad-mode.txt" >&2; exit 1; }

verify=$(systemd-analyze verify deploy/systemd/verdict.service 2>&1)
[ -z "$verify" ] || { echo "systemd-analyze verify deploy/systemd/verdict.service:" >&2; echo "$verify" >&2; exit 1; }
echo "deploy: chart, manifests and systemd unit checked"
