// Both BlobStore implementations against one contract (blob-store-contract.ts).
import { after } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FsBlobStore } from '../../src/registry/fs-blob-store.ts';
import { MemoryBlobStore } from '../../src/registry/memory-blob-store.ts';
import { blobStoreContract } from './blob-store-contract.ts';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

blobStoreContract('filesystem', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-blobs-'));
  dirs.push(dir);
  return FsBlobStore.open(dir);
});

blobStoreContract('memory', async () => new MemoryBlobStore());
