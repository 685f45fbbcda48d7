// A few-line stand-in for the runc-backed InstancePort: each "instance" is an HTTP server on loopback
// that answers with its revision and id. Lets scheduler + gateway + store be tested with real HTTP;
// the runc-backed path has its own integration tests.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { InstancePort, RunningInstance } from '../../src/scheduler/ports.ts';
import type { RevisionRecord } from '../../src/core/service.ts';

export interface FakeInstance {
  /** undefined while created and not started */
  server: http.Server | undefined;
  revision: string;
  paused: boolean;
  port: number;
  exited: Promise<void>;
  crash(): void;
  healthy: boolean;
}

export class FakeInstances implements InstancePort {
  readonly live = new Map<string, FakeInstance>();
  created = 0;
  started = 0;
  /** ms each request takes */
  latencyMs = 0;
  failStarts = false;
  /** what stats() reports for every instance */
  memoryBytes = 0;
  /** this many of the next started instances answer their /healthz with 500 (never ready) */
  unhealthyStarts = 0;
  /** stop() waits its whole grace, as a process that ignores the stop signal does */
  ignoreStopSignal = false;

  async create(revision: RevisionRecord, id: string) {
    if (this.failStarts) throw new Error('image cannot start');
    this.created++;
    let crash = () => {};
    const exited = new Promise<void>((resolve) => (crash = resolve));
    const inst: FakeInstance = { server: undefined, revision: revision.name, paused: false, port: 0, exited, crash: () => {}, healthy: true };
    inst.crash = () => {
      inst.server?.closeAllConnections();
      inst.server?.close();
      this.live.delete(id);
      crash();
    };
    this.live.set(id, inst);
  }

  async start(id: string) {
    const inst = this.live.get(id);
    if (!inst) throw new Error(`no instance ${id}`);
    this.started++;
    if (this.unhealthyStarts > 0) {
      this.unhealthyStarts--;
      inst.healthy = false;
    }
    const server = http.createServer((req, res) => {
      if (req.url === '/healthz') {
        res.statusCode = inst.healthy ? 200 : 500;
        return res.end();
      }
      setTimeout(() => res.end(`${inst.revision} ${id}`), this.latencyMs);
    });
    inst.server = server;
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    inst.port = (server.address() as AddressInfo).port;
    return { host: '127.0.0.1', port: inst.port };
  }

  async pause(id: string) {
    this.live.get(id)!.paused = true;
  }

  async resume(id: string) {
    this.live.get(id)!.paused = false;
  }

  async stop(id: string, graceMs = 0) {
    if (this.ignoreStopSignal && this.live.has(id)) await new Promise((r) => setTimeout(r, graceMs));
    this.live.get(id)?.crash();
  }

  async list(): Promise<RunningInstance[]> {
    return [...this.live].map(([id, i]) => ({ id, revision: i.revision, address: { host: '127.0.0.1', port: i.port }, status: i.paused ? ('paused' as const) : i.server ? ('running' as const) : ('created' as const) }));
  }

  exited(id: string) {
    return this.live.get(id)?.exited ?? Promise.resolve();
  }

  async stats() {
    return { cpuNanos: 0, memoryBytes: this.memoryBytes, workingSetBytes: this.memoryBytes };
  }

  /** started (running or paused) instances of a revision */
  countOf(revision: string): number {
    return [...this.live.values()].filter((i) => i.revision === revision && i.server).length;
  }
}
