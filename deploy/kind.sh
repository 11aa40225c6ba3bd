#!/usr/bin/env bash
# Run the greeter demo on a local kind cluster named k8slb.
#
#   deploy/kind.sh               create the cluster if needed, build the images, load them into kind,
#                                deploy and verify with deploy.sh --deploy-only
#   deploy/kind.sh --delete      delete the kind cluster
#
# Extra options (--tag TAG, --chiseled) are passed on to deploy.sh.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CLUSTER="${KIND_CLUSTER_NAME:-k8slb}"
CONTEXT="kind-${CLUSTER}"

tag="latest"
delete="false"
build_args=()

usage() {
  cat <<USAGE
Usage: $(basename "$0") [--tag TAG] [--chiseled] [--delete] [--help]

  --tag TAG     Image tag to build and load (default: latest).
  --chiseled    Use the Ubuntu chiseled images instead of the Alpine ones.
  --delete      Delete the kind cluster "${CLUSTER}" and exit.
  -h, --help    Show this help.

The cluster name can be changed with KIND_CLUSTER_NAME (default: k8slb).
USAGE
}

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --tag) [[ $# -ge 2 ]] || die "--tag needs a value"; tag="$2"; shift ;;
    --chiseled) build_args+=(--chiseled) ;;
    --delete) delete="true" ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown option: $1" ;;
  esac
  shift
done

for tool in kind kubectl docker; do
  command -v "${tool}" >/dev/null 2>&1 || die "${tool} is required but not installed"
done

if [[ "${delete}" == "true" ]]; then
  log "Deleting kind cluster ${CLUSTER}"
  kind delete cluster --name "${CLUSTER}"
  exit 0
fi

if kind get clusters | grep -qx "${CLUSTER}"; then
  log "Using existing kind cluster ${CLUSTER}"
else
  log "Creating kind cluster ${CLUSTER}"
  kind create cluster --name "${CLUSTER}" --wait 120s
fi

"${SCRIPT_DIR}/deploy.sh" --build-only --tag "${tag}" ${build_args[@]+"${build_args[@]}"}

log "Loading images into ${CLUSTER}"
kind load docker-image --name "${CLUSTER}" "greeter-server:${tag}" "greeter-client:${tag}"

"${SCRIPT_DIR}/deploy.sh" --deploy-only --tag "${tag}" --context "${CONTEXT}"
