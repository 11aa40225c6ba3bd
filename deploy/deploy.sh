#!/usr/bin/env bash
# Build the greeter images, deploy the demo to the current kubectl context and verify client-side load balancing.
#
#   deploy/deploy.sh                          build images, push them if --registry is given, deploy, run the client
#   deploy/deploy.sh --build-only             only build (and push) the images
#   deploy/deploy.sh --deploy-only            only deploy and run the client (images must already be available)
#   deploy/deploy.sh --cleanup                delete everything the demo created
#
# Success means the client Job completed and its log contains LOAD_BALANCING_VERIFIED.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "${SCRIPT_DIR}/.." && pwd)"
NAMESPACE="greeter-demo"
DEPLOYMENT="greeter-server"
JOB="greeter-client"
VERIFIED_MARKER="LOAD_BALANCING_VERIFIED"

registry=""
tag="latest"
mode="all"
variant=""
context=""
cluster_rbac="false"
node_rbac="false"
rollout_timeout="180s"
job_timeout_seconds=300

usage() {
  cat <<USAGE
Usage: $(basename "$0") [options]

Options:
  --build-only         Build (and with --registry, push) the images; do not deploy.
  --deploy-only        Deploy and run the client Job; do not build.
  --cleanup            Delete the demo (namespace ${NAMESPACE} and the optional cluster and node RBAC), then exit.
  --registry REG       Image registry prefix, e.g. ghcr.io/me (images REG/greeter-server, REG/greeter-client).
                       Images are pushed after the build when a registry is given.
  --tag TAG            Image tag (default: latest).
  --chiseled           Build the Ubuntu chiseled images instead of the Alpine ones.
  --cluster-rbac       Also apply deploy/rbac-cluster.yaml (cross-namespace discovery).
  --node-rbac          Also apply deploy/rbac-nodes.yaml (get on nodes, for a client reading its zone from its Node).
  --context CTX        kubectl context to use (default: the current context).
  -h, --help           Show this help.
USAGE
}

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --build-only) mode="build" ;;
    --deploy-only) mode="deploy" ;;
    --cleanup) mode="cleanup" ;;
    --registry) [[ $# -ge 2 ]] || die "--registry needs a value"; registry="${2%/}"; shift ;;
    --tag) [[ $# -ge 2 ]] || die "--tag needs a value"; tag="$2"; shift ;;
    --chiseled) variant=".chiseled" ;;
    --cluster-rbac) cluster_rbac="true" ;;
    --node-rbac) node_rbac="true" ;;
    --context) [[ $# -ge 2 ]] || die "--context needs a value"; context="$2"; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown option: $1" ;;
  esac
  shift
done

image_name() {
  if [[ -n "${registry}" ]]; then
    printf '%s/%s' "${registry}" "$1"
  else
    printf '%s' "$1"
  fi
}

SERVER_IMAGE="$(image_name greeter-server):${tag}"
CLIENT_IMAGE="$(image_name greeter-client):${tag}"

kube() {
  if [[ -n "${context}" ]]; then
    kubectl --context "${context}" "$@"
  else
    kubectl "$@"
  fi
}

require() {
  command -v "$1" >/dev/null 2>&1 || die "$1 is required but not installed"
}

build_images() {
  require docker
  log "Building ${SERVER_IMAGE}"
  docker build -f "${SCRIPT_DIR}/docker/server${variant}.Dockerfile" -t "${SERVER_IMAGE}" "${REPO_ROOT}"
  log "Building ${CLIENT_IMAGE}"
  docker build -f "${SCRIPT_DIR}/docker/client${variant}.Dockerfile" -t "${CLIENT_IMAGE}" "${REPO_ROOT}"
  if [[ -n "${registry}" ]]; then
    log "Pushing images to ${registry}"
    docker push "${SERVER_IMAGE}"
    docker push "${CLIENT_IMAGE}"
  fi
}

# Renders a throw-away kustomize overlay that pins the image names and tag. It lives in the repository root:
# kustomize rejects an overlay nested inside its base directory (cycle).
overlay_dir=""
cleanup_overlay() {
  if [[ -n "${overlay_dir}" && -d "${overlay_dir}" ]]; then
    rm -rf "${overlay_dir}"
  fi
}
trap cleanup_overlay EXIT

make_overlay() {
  overlay_dir="$(mktemp -d "${REPO_ROOT}/.deploy-overlay.XXXXXX")"
  cat >"${overlay_dir}/kustomization.yaml" <<KUSTOMIZATION
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ../$(basename "${SCRIPT_DIR}")
images:
  - name: greeter-server
    newName: $(image_name greeter-server)
    newTag: "${tag}"
  - name: greeter-client
    newName: $(image_name greeter-client)
    newTag: "${tag}"
KUSTOMIZATION
}

wait_for_job() {
  local deadline=$((SECONDS + job_timeout_seconds))
  local succeeded failed
  while ((SECONDS < deadline)); do
    succeeded="$(kube -n "${NAMESPACE}" get job "${JOB}" -o jsonpath='{.status.succeeded}')"
    failed="$(kube -n "${NAMESPACE}" get job "${JOB}" -o jsonpath='{.status.failed}')"
    if [[ "${succeeded:-0}" -ge 1 ]]; then
      return 0
    fi
    if kube -n "${NAMESPACE}" get job "${JOB}" \
      -o jsonpath='{.status.conditions[?(@.type=="Failed")].status}' | grep -q True; then
      log "Job ${JOB} failed (${failed:-0} failed pods)"
      return 1
    fi
    sleep 3
  done
  log "Timed out after ${job_timeout_seconds}s waiting for job ${JOB}"
  return 1
}

deploy() {
  require kubectl
  make_overlay

  log "Applying namespace, RBAC, Service and Deployment (${SERVER_IMAGE})"
  kube apply -k "${overlay_dir}" -l 'app.kubernetes.io/component!=client-job'
  if [[ "${cluster_rbac}" == "true" ]]; then
    log "Applying cluster-wide RBAC"
    kube apply -f "${SCRIPT_DIR}/rbac-cluster.yaml"
  fi
  if [[ "${node_rbac}" == "true" ]]; then
    log "Applying node RBAC"
    kube apply -f "${SCRIPT_DIR}/rbac-nodes.yaml"
  fi

  log "Waiting for deployment/${DEPLOYMENT} to roll out"
  kube -n "${NAMESPACE}" rollout status "deployment/${DEPLOYMENT}" --timeout="${rollout_timeout}"

  log "Starting job/${JOB} (${CLIENT_IMAGE})"
  kube -n "${NAMESPACE}" delete job "${JOB}" --ignore-not-found --wait=true
  kube apply -k "${overlay_dir}" -l 'app.kubernetes.io/component=client-job'

  local job_ok="true"
  wait_for_job || job_ok="false"

  log "Client logs"
  local logs
  logs="$(kube -n "${NAMESPACE}" logs "job/${JOB}" --tail=-1 || true)"
  printf '%s\n' "${logs}"

  if [[ "${job_ok}" != "true" ]]; then
    kube -n "${NAMESPACE}" describe job "${JOB}" >&2 || true
    die "client job did not complete"
  fi
  if ! grep -q "${VERIFIED_MARKER}" <<<"${logs}"; then
    die "client finished but did not report ${VERIFIED_MARKER}"
  fi
  log "${VERIFIED_MARKER}: calls were spread over several pods"
}

cleanup() {
  require kubectl
  log "Deleting the demo"
  kube delete -f "${SCRIPT_DIR}/rbac-cluster.yaml" --ignore-not-found
  kube delete -f "${SCRIPT_DIR}/rbac-nodes.yaml" --ignore-not-found
  kube delete -k "${SCRIPT_DIR}" --ignore-not-found --wait=true
}

case "${mode}" in
  build) build_images ;;
  deploy) deploy ;;
  cleanup) cleanup ;;
  all) build_images; deploy ;;
esac
