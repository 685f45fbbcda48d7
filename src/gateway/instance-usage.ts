// gateway/instance-usage: what one instance did for the metering (src/metering, wired by daemon/) —
// requests it took, response body bytes it sent, and its busy time: the spells with at least one
// request in flight, each spell rounded up by the injected `roundBusy` (request-based billing bills
// those, rounded to 100 ms: metering/billing.ts). The pool keeps one per instance and the meter takes
// the counts once a second (take()), so a reading hands out each count exactly once.
//
// Per request the pool pays two additions and, on a spell's edges only, one clock read — nothing
// allocates, and nothing here does I/O (bench/gateway.ts runs with and without the meter reading it).

export interface UsageTaken {
  requests: number;
  egressBytes: number;
  /** busy ms since the previous take (closed spells rounded up; an open spell so far, unrounded) */
  busyMs: number;
}

export class InstanceUsage {
  requests = 0;
  egressBytes = 0;
  /** busy ms of spells closed since the last take, rounded, minus what takes already handed out */
  private busyMs = 0;
  /** clock ms the open spell began; -1: no request in flight */
  private busySince = -1;
  /** ms of the open spell already handed out by takes */
  private openTaken = 0;

  /** The first request in flight began a busy spell. */
  busy(now: number): void {
    if (this.busySince < 0) this.busySince = now;
  }

  /** The last request in flight ended the spell: its rounded length counts, less what was taken of it. */
  idle(now: number, roundBusy: (ms: number) => number): void {
    if (this.busySince < 0) return;
    const spell = roundBusy(Math.max(0, now - this.busySince));
    this.busyMs += Math.max(0, spell - this.openTaken);
    this.busySince = -1;
    this.openTaken = 0;
  }

  /** Everything since the previous take, then zero (the open spell's part so far included). */
  take(now: number): UsageTaken {
    let busyMs = this.busyMs;
    if (this.busySince >= 0) {
      const open = Math.max(0, now - this.busySince - this.openTaken);
      busyMs += open;
      this.openTaken += open;
    }
    const out = { requests: this.requests, egressBytes: this.egressBytes, busyMs };
    this.requests = 0;
    this.egressBytes = 0;
    this.busyMs = 0;
    return out;
  }
}
