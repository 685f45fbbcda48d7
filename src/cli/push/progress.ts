// cli/push/progress: how `skiff push` shows its work. On a TTY, one cli-progress bar per layer
// (bytes sent / size, or "exists"); otherwise one plain line per finished layer, so logs stay readable.
import cliProgress from 'cli-progress';
import type { PlanBlob } from './plan.ts';
import type { PushEvents } from './uploader.ts';

export function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

const short = (blob: PlanBlob) => blob.digest.replace(/^sha256:/, '').slice(0, 12);

export interface PushProgress {
  events: PushEvents;
  stop(): void;
}

export function pushProgress(out: NodeJS.WriteStream): PushProgress {
  const isLayer = (b: PlanBlob) => b.kind === 'layer';
  if (!out.isTTY) {
    return {
      events: { blobDone: (b, result) => isLayer(b) && out.write(`layer ${short(b)}  ${mb(b.size).padStart(10)}  ${result}\n`) },
      stop() {},
    };
  }
  const multi = new cliProgress.MultiBar(
    { stream: out, format: '{name} [{bar}] {sent}/{size} {state}', hideCursor: true, clearOnComplete: false, autopadding: true },
    cliProgress.Presets.shades_classic,
  );
  const bars = new Map<string, cliProgress.SingleBar>();
  const bar = (b: PlanBlob) => {
    let found = bars.get(b.digest);
    if (!found) {
      found = multi.create(Math.max(b.size, 1), 0, { name: short(b), sent: mb(0), size: mb(b.size), state: 'waiting' });
      bars.set(b.digest, found);
    }
    return found;
  };
  return {
    events: {
      blobStart: (b) => isLayer(b) && bar(b).update(0, { state: 'checking' }),
      blobProgress: (b, sent) => isLayer(b) && bar(b).update(sent, { sent: mb(sent), state: 'uploading' }),
      blobDone: (b, result) => isLayer(b) && bar(b).update(Math.max(b.size, 1), { sent: mb(result === 'exists' ? 0 : b.size), state: result }),
    },
    stop: () => multi.stop(),
  };
}
