#!/usr/bin/env sh
# Renders every kustomization into deploy/k8s/rendered/ (plain YAML for `kubectl apply -f`, and what
# test/integration/k8s.test.ts validates offline). Run after editing anything under deploy/k8s:
#   npm run k8s:render
set -eu
cd "$(dirname "$0")"
mkdir -p rendered
for target in overlays/cpu overlays/gpu prometheus-adapter; do
  out="rendered/$(basename "$target").yaml"
  { echo "# Rendered by deploy/k8s/render.sh from deploy/k8s/$target: do not edit."; kubectl kustomize "$target"; } > "$out"
  echo "$out"
done
