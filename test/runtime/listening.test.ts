// runtime/network/listening (pure): /proc/net/tcp and tcp6 as the kernel prints them, and what the
// scheduler makes of the sockets (scheduler/launcher listeningProblem).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseProcNetTcp } from '../../src/runtime/network/listening.ts';
import { listeningProblem } from '../../src/scheduler/launcher.ts';

const TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0000000000000000 100 0 0 10 0
   1: 0100007F:0BB8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1 0000000000000000 100 0 0 10 0
   2: 0200A8C0:1F90 0300A8C0:D431 01 00000000:00000000 00:00000000 00000000     0        0 3 1 0000000000000000 20 4 30 10 -1
`;
const TCP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:1F91 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4 1 0000000000000000 100 0 0 10 0
   1: 00000000000000000000000001000000:0BB9 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5 1 0000000000000000 100 0 0 10 0
`;

test('the listening sockets of /proc/net/tcp and tcp6, established ones left out', () => {
  assert.deepEqual(parseProcNetTcp(TCP, 4), [{ address: '0.0.0.0', port: 8080 }, { address: '127.0.0.1', port: 3000 }]);
  assert.deepEqual(parseProcNetTcp(TCP6, 6), [{ address: '::', port: 8081 }, { address: '::1', port: 3001 }]);
});

test('a problem only when something listens, and not on the address’s port or only on loopback', () => {
  const address = { host: '10.213.0.5', port: 8080 };
  assert.equal(listeningProblem([], address), undefined, 'nothing yet: still starting');
  assert.equal(listeningProblem([{ address: '0.0.0.0', port: 8080 }], address), undefined);
  assert.equal(listeningProblem([{ address: '::', port: 8080 }, { address: '127.0.0.1', port: 9090 }], address), undefined);
  assert.equal(listeningProblem([{ address: '10.213.0.5', port: 8080 }], address), undefined);
  assert.match(listeningProblem([{ address: '0.0.0.0', port: 3000 }], address)!, /listens on 0\.0\.0\.0:3000, not on port 8080 .* --port 3000/);
  assert.match(listeningProblem([{ address: '127.0.0.1', port: 8080 }, { address: '::1', port: 8080 }], address)!, /listens on 127\.0\.0\.1:8080, ::1:8080 only/);
  // the fake driver's instances listen on 127.0.0.1, which is their address: reachable
  assert.equal(listeningProblem([{ address: '127.0.0.1', port: 41000 }], { host: '127.0.0.1', port: 41000 }), undefined);
});
