// test/helpers/images: a busybox-httpd image written in-process (no podman needed) and pushed to a test
// registry: /bin/busybox from Debian's busybox-static, /www/index.html, CGI scripts under /www/cgi-bin,
// and /bin/app, a start script for tests that care about start time and the stop signal:
//
//   slow?S      sleeps S seconds, then prints the hostname      host        prints the hostname
//   age         seconds since /bin/app started                  ready?N     503 until N s after start
//   alive       503 once `sicken` ran in this instance          sicken      makes `alive` fail
//   burn?S      busy-loops S seconds (CPU scaling)              alloc?MB    holds MB of tmpfs memory
//   spin?S      busy-loops until it has used S s of CPU itself (its own /proc utime+stime), whatever
//               the machine's load: a known amount of CPU (metering accuracy)
//   metrics     Prometheus text: queue_depth <value>            setq?V      sets queue_depth to V
//   say?WORD    writes "said WORD" to the app's stderr (logs)  env         the CGI environment
//   files?DIR   each file in DIR: path, mode, uid, content; then whether DIR is writable
//   limits      the instance's memory limit and CPU quota, as its cgroup says
//   put?F=TEXT  writes TEXT to file F ("ok" or the error)       get?F       prints file F
//   fill?F=MB   writes MB MiB of zeros to F: "wrote MB MiB" or "failed: <error>" (volume quotas)
//   call?URL    the response to an HTTP/1.0 GET of URL      tcp?HOST:PORT  a GET / over plain nc
//
//   /bin/app    writes /tmp/started, runs httpd; on SIGTERM touches /state/got-term, then with
//               ON_TERM=ignore keeps running (appending to /state/after-term), else cleans up for a
//               second, stops httpd, touches /state/exiting and exits 0 half a second later (so a
//               test polling the overlay upper dir sees the file before the instance is removed).
//               /state is on the instance's overlay upper dir, so the host sees these files.
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { tarOf } from '../images/fixtures.ts';
import { CONFIG_TYPE, LAYER_TYPE, imageManifest, pushBlob, putManifest, type RegistryTarget } from './oci.ts';
import { digestOf } from '../../src/core/digest.ts';

export interface HttpdImage {
  reference: string;
  digest: string;
}

const APPLETS = ['sh', 'sleep', 'hostname', 'cat', 'date', 'touch', 'rm', 'head', 'timeout', 'kill', 'httpd', 'env', 'echo', 'true', 'tail', 'grep', 'sort', 'tr', 'stat', 'dd', 'nc'];
const TEXT = 'printf "Content-Type: text/plain\\r\\n\\r\\n"';
const AGE = 'age=$(( $(date +%s) - $(cat /tmp/started) ))';
const CGI: Record<string, string> = {
  slow: `sleep "\${QUERY_STRING:-0.2}"\n${TEXT}\nhostname`,
  host: `${TEXT}\nhostname`,
  age: `${AGE}\n${TEXT}\necho "$age"`,
  ready: `${AGE}\nif [ "$age" -lt "\${QUERY_STRING:-3}" ]; then printf "Status: 503 Not Ready\\r\\n"; fi\n${TEXT}\necho "$age"`,
  alive: `if [ -e /tmp/sick ]; then printf "Status: 503 Sick\\r\\n"; fi\n${TEXT}\necho ok`,
  sicken: `touch /tmp/sick\n${TEXT}\necho sick`,
  burn: `timeout "\${QUERY_STRING:-2}" sh -c 'while :; do :; done'\n${TEXT}\nhostname`,
  // `read` is a builtin: /proc/self is this shell; fields 14 and 15 of stat (utime, stime) are $12, $13 after "pid (comm) "
  spin: `want=$(( \${QUERY_STRING:-2} * 100 ))\nwhile :; do read -r l < /proc/self/stat; set -- \${l#*) }; [ $(( \${12} + \${13} )) -ge "$want" ] && break; done\n${TEXT}\nhostname`,
  alloc: `head -c $(( \${QUERY_STRING:-16} * 1048576 )) /dev/zero > /tmp/blob\n${TEXT}\nhostname`,
  metrics: `${TEXT}\necho "# TYPE queue_depth gauge"\necho "queue_depth $(cat /tmp/queue_depth 2>/dev/null || echo 0)"`,
  setq: `echo "$QUERY_STRING" > /tmp/queue_depth\n${TEXT}\nhostname`,
  say: `echo "said $QUERY_STRING" >&2\n${TEXT}\necho "$QUERY_STRING"`,
  env: `${TEXT}\nenv`,
  // each file of the directory QUERY_STRING: "<name> <mode> <uid> <value>", then whether a write there failed
  files: `${TEXT}\nfor f in "$QUERY_STRING"/*; do echo "$(stat -c '%n %a %u' "$f") $(cat "$f")"; done\nif touch "$QUERY_STRING/new" 2>/dev/null; then echo writable; else echo read-only; fi`,
  // fails (500) the first QUERY_STRING (default 2) requests an instance gets, then answers "attempt N"
  flaky: `n=$(cat /tmp/flaky 2>/dev/null || echo 0); n=$((n+1)); echo "$n" > /tmp/flaky\nif [ "$n" -le "\${QUERY_STRING:-2}" ]; then printf "Status: 500 Flaky\\r\\n"; fi\n${TEXT}\necho "attempt $n"`,
  // 500 for the body "poison", else 200; logs "judged BODY" to stderr either way
  judge: `body=$(head -c "\${CONTENT_LENGTH:-0}")\necho "judged $body" >&2\nif [ "$body" = poison ]; then printf "Status: 500 Poison\\r\\n"; fi\n${TEXT}\necho "$body"`,
  // logs the request (method, CloudEvent headers, body) to stderr, one line, and echoes the body
  record: `body=$(head -c "\${CONTENT_LENGTH:-0}")\necho "record $REQUEST_METHOD $(env | grep '^HTTP_CE_' | sort | tr '\\n' ' ')type=$CONTENT_TYPE body=$body" >&2\n${TEXT}\necho "$body"`,
  // volumes: put?PATH=TEXT writes TEXT to PATH ("ok" or the error); get?PATH prints it; fill?PATH=MB
  // writes MB MiB of zeros there ("wrote MB MiB" or "failed: <the error>")
  put: `${TEXT}\nf="\${QUERY_STRING%%=*}"; v="\${QUERY_STRING#*=}"; if echo "$v" > "$f" 2>/tmp/err; then echo ok; else cat /tmp/err; fi`,
  get: `${TEXT}\ncat "$QUERY_STRING" 2>&1`,
  fill: `${TEXT}\nf="\${QUERY_STRING%%=*}"; n="\${QUERY_STRING#*=}"; if dd if=/dev/zero of="$f" bs=1048576 count="$n" 2>/tmp/err; then echo "wrote $n MiB"; else echo "failed: $(grep -v records /tmp/err)"; fi`,
  // calls by name: call?URL prints what a GET of URL answers (or wget's error); tcp?HOST:PORT sends
  // an HTTP/1.0 GET / over plain TCP with nc and prints the reply (or "tcp failed")
  // (names are resolved by glibc's getent, as a dynamically linked app would: busybox-static's own
  // lookups crash without the NSS modules, and so does its wget, hence nc; images pushed with
  // { resolver: true } have getent)
  call: `${TEXT}\nu="\${QUERY_STRING#http://}"; hp="\${u%%/*}"; p="/\${u#*/}"; [ "$u" = "$hp" ] && p=/; h="\${hp%%:*}"; port=80; case "$hp" in *:*) port="\${hp##*:}";; esac
set -- $(getent hosts "$h"); ip="\${1:-$h}"
printf 'GET %s HTTP/1.1\\r\\nHost: %s\\r\\nConnection: close\\r\\n\\r\\n' "$p" "$hp" | nc -w 5 "$ip" "$port" 2>&1 || echo "call failed"`,
  tcp: `${TEXT}\nh="\${QUERY_STRING%%:*}"; set -- $(getent hosts "$h"); ip="\${1:-$h}"
printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 5 "$ip" "\${QUERY_STRING##*:}" 2>&1 || echo "tcp failed"`,
  limits: `${TEXT}\ncd /sys/fs/cgroup\nif [ -e memory.max ]; then echo "memory $(cat memory.max)"; echo "cpu $(cat cpu.max)"; else echo "memory $(cat memory/memory.limit_in_bytes)"; echo "cpu $(cat cpu/cpu.cfs_quota_us) $(cat cpu/cpu.cfs_period_us)"; fi`,
};
const APP = `#!/bin/sh
date +%s > /tmp/started
echo "app started"
httpd -f -p "\${PORT:-8080}" -h /www &
pid=$!
trap 'termed=1; touch /state/got-term; echo "got SIGTERM"' TERM
while [ -z "$termed" ]; do wait $pid; [ -n "$termed" ] || kill -0 $pid 2>/dev/null || exit 1; done
if [ "$ON_TERM" != ignore ]; then sleep 1; kill $pid; touch /state/exiting; sleep 0.5; exit 0; fi
while :; do sleep 0.2; echo beat >> /state/after-term; done
`;
const cgi = (body: string) => `#!/bin/sh\n${body}\n`;

/** glibc's getent with its libc: name lookups as a dynamically linked app does them (/etc/hosts first) */
function resolverFiles() {
  return [
    { name: 'usr/', type: 'directory' as const, mode: 0o755 },
    { name: 'usr/bin/', type: 'directory' as const, mode: 0o755 },
    { name: 'usr/bin/getent', mode: 0o755, body: readFileSync('/usr/bin/getent') },
    { name: 'lib64/', type: 'directory' as const, mode: 0o755 },
    { name: 'lib64/ld-linux-x86-64.so.2', mode: 0o755, body: readFileSync('/lib64/ld-linux-x86-64.so.2') },
    { name: 'lib/', type: 'directory' as const, mode: 0o755 },
    { name: 'lib/x86_64-linux-gnu/', type: 'directory' as const, mode: 0o755 },
    { name: 'lib/x86_64-linux-gnu/libc.so.6', mode: 0o755, body: readFileSync('/lib/x86_64-linux-gnu/libc.so.6') },
  ];
}

/** Pushes the busybox-httpd image as `repo:tag`; `marker` lands in index.html so revisions differ. */
export async function pushHttpdImage(reg: RegistryTarget, repo: string, tag: string, marker = tag, opts: { resolver?: boolean } = {}): Promise<HttpdImage> {
  const busybox = readFileSync('/bin/busybox');
  const cgiBin = Object.entries(CGI).map(([name, body]) => ({ name: `www/cgi-bin/${name}`, mode: 0o755, body: cgi(body) }));
  const applets = APPLETS.map((name) => ({ name: `bin/${name}`, type: 'symlink' as const, mode: 0o777, linkname: 'busybox' }));
  const layer = await tarOf([
    { name: 'bin/', type: 'directory', mode: 0o755 },
    { name: 'bin/busybox', mode: 0o755, body: busybox },
    ...applets,
    { name: 'bin/app', mode: 0o755, body: APP },
    { name: 'etc/', type: 'directory', mode: 0o755 },
    { name: 'etc/passwd', mode: 0o644, body: 'root:x:0:0:root:/root:/bin/sh\nwww:x:1000:1000:www:/www:/bin/sh\n' },
    { name: 'etc/group', mode: 0o644, body: 'root:x:0:\nwww:x:1000:\n' },
    { name: 'tmp/', type: 'directory', mode: 0o1777 },
    { name: 'state/', type: 'directory', mode: 0o1777 },
    { name: 'www/', type: 'directory', mode: 0o755 },
    { name: 'www/index.html', mode: 0o644, body: `hello from ${marker}\n` },
    { name: 'www/cgi-bin/', type: 'directory', mode: 0o755 },
    ...cgiBin,
    ...(opts.resolver ? resolverFiles() : []),
  ]);
  const gz = gzipSync(layer);
  const config = {
    architecture: 'amd64',
    os: 'linux',
    config: { Cmd: ['/bin/busybox', 'httpd', '-f', '-p', '8080', '-h', '/www'], User: 'www', WorkingDir: '/www', Env: ['PATH=/bin:/usr/bin'], ExposedPorts: { '8080/tcp': {} } },
    rootfs: { type: 'layers', diff_ids: [digestOf(layer)] },
  };
  const configDesc = await pushBlob(reg, repo, JSON.stringify(config), CONFIG_TYPE);
  const layerDesc = await pushBlob(reg, repo, gz, LAYER_TYPE);
  const { digest } = await putManifest(reg, repo, tag, imageManifest(configDesc, [layerDesc]));
  return { reference: `${repo}:${tag}`, digest };
}
