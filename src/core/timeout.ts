// core/timeout: a promise raced against a real-time deadline. For calls to something outside Skiff
// (a broker, a CA) that may never answer: the caller goes on without the answer, or fails with its own
// error. The losing promise is not cancelled (none of these calls can be), only no longer awaited.

/** `p`'s value if it settles within `ms`; else undefined, or the rejection `onTimeout()` makes. */
export async function withTimeout<T>(p: Promise<T>, ms: number, onTimeout?: () => Error): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve, reject) => {
    timer = setTimeout(() => (onTimeout ? reject(onTimeout()) : resolve(undefined)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
