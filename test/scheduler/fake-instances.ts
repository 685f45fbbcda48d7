// A few-line stand-in for the runc-backed InstancePort: each "instance" is an HTTP server on loopback
// that answers with its revision and id. Lets scheduler + gateway + store be tested with real HTTP;
// the runc-backed path has its own integration tests.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { InstancePort, RunningInstance } from '../../src/scheduler/ports.ts';
import type { RevisionRecord } from '../../src/core/service.ts';

export interface FakeInstance {
  server: http.Server;
  revision: string;
  port: number;
  exited: Promise<void>;
  crash(): void;
  healthy: boolean;
}

export class FakeInstances implements InstancePort {
  readonly live = new Map<string, FakeInstance>();
  started = 0;
  /** ms each request takes */
  latencyMs = 0;
  failStarts = false;

  async start(revision: RevisionRecord, id: string) {
    if (this.failStarts) throw new Error('image cannot start');
    this.started++;
    let crash = () => {};
    const exited = new Promise<void>((resolve) => (crash = resolve));
    const inst: FakeInstance = { server: undefined as unknown as http.Server, revision: revision.name, port: 0, exited, crash: () => {}, healthy: true };
    inst.server = http.createServer((req, res) => {
      if (req.url === '/healthz') {
        res.statusCode = inst.healthy ? 200 : 500;
        return res.end();
      }
      setTimeout(() => res.end(`${revision.name} ${id}`), this.latencyMs);
    });
    await new Promise<void>((r) => inst.server.listen(0, '127.0.0.1', () => r()));
    inst.port = (inst.server.address() as AddressInfo).port;
    inst.crash = () => {
      inst.server.closeAllConnections();
      inst.server.close();
      this.live.delete(id);
      crash();
    };
    this.live.set(id, inst);
    return { host: '127.0.0.1', port: inst.port };
  }

  async stop(id: string) {
    this.live.get(id)?.crash();
  }

  async list(): Promise<RunningInstance[]> {
    return [...this.live].map(([id, i]) => ({ id, revision: i.revision, address: { host: '127.0.0.1', port: i.port }, running: true }));
  }

  exited(id: string) {
    return this.live.get(id)?.exited ?? Promise.resolve();
  }

  async stats() {
    return { cpuNanos: 0, memoryBytes: 0 };
  }

  countOf(revision: string): number {
    return [...this.live.values()].filter((i) => i.revision === revision).length;
  }
}
