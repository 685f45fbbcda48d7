// api/ports: what the control API needs from the rest of Skiff; daemon/ plugs the implementations in.
import type { Principal, TokenRole } from '../store/token-store.ts';

export interface TokenPort {
  verify(secret: string): Principal | undefined;
  create(name: string, tenant: string, role: TokenRole, now: number): { id: string; secret: string };
  list(): Array<{ id: string; name: string; tenant: string; role: TokenRole; created_at: number }>;
  revoke(id: string): boolean;
}

export interface GcPort {
  collect(): Promise<{ blobsDeleted: number; bytesFreed: number; orphanFilesDeleted: number; uploadsExpired: number }>;
}

export interface ApiDeps {
  tokens: TokenPort;
  gc: GcPort;
  version: string;
  now(): number;
}
