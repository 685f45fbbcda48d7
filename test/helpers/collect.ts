// test/helpers/collect: an async stream read whole, for assertions on small outputs (logs).
export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}
