# The Debian packages Skiff and its test suite use; sourced by scripts/setup.sh (and so by .ci/run).
#   build-essential, python3: better-sqlite3 builds from source
#   runc, iptables, nftables, iproute2, attr, zstd, perl: the runtime (containers, network and its
#   anti-spoofing bridge filter, overlay xattrs, zstd
#   layers, the per-instance supervisor)
#   e2fsprogs, mount, tar: volumes (mkfs.ext4, loop mounts, export) — docs/volumes.md
#   docker.io, podman, skopeo, containernetworking-plugins, uidmap: real registry clients in tests
#   busybox-static: test images; umoci: unpack cross-check in tests; docker-registry: benchmark peer
#   nginx-light, wrk: the gateway benchmark's peer proxy/backend and load generator (bench/gateway.ts)
#   nghttp2-client: h2load, the HTTP/2 load generator of the gateway TLS benchmark (bench/tls.ts)
#   postgresql: the PostgreSQL store's contract tests start a real server (test/helpers/postgres.ts)
#   pebble, openssl: custom-domain tests run Let's Encrypt's ACME test server and make certificates (test/helpers/pebble.ts)
#   nats-server, rabbitmq-server, redis-server, mosquitto: event-trigger tests start private brokers (test/helpers/brokers.ts)
#   prometheus: promtool lints the /metrics scrape, and a real Prometheus scrapes a test daemon (test/metrics/metrics.test.ts)
#   chromium: the dashboard's end-to-end tests drive it headless through playwright-core (test/helpers/browser.ts)
SKIFF_APT_PACKAGES=(
  ca-certificates build-essential python3 git
  runc iptables nftables iproute2 attr zstd uidmap perl e2fsprogs mount tar
  docker.io podman skopeo containernetworking-plugins
  busybox-static umoci docker-registry nginx-light wrk nghttp2-client
  postgresql pebble openssl
  nats-server rabbitmq-server redis-server mosquitto
  prometheus
  chromium
)
