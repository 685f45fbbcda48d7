// core/merge-patch: JSON merge patch (RFC 7396), the one way a document takes changes — serving/update.ts
// (an update onto the latest revision's document) and the CLI (its flags onto a -f file).

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** RFC 7396: objects merge key by key, null deletes, anything else (arrays included) replaces. */
export function mergePatch<T>(base: T, patch: unknown): T {
  if (!isObject(patch)) return patch as T;
  const out: Record<string, unknown> = isObject(base) ? { ...base } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out as T;
}
