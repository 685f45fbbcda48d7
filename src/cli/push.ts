// cli/push: `skiff push ./image.tar|./oci-layout REPO:TAG` (implementation in progress).
import type { Command } from 'commander';

export function registerPush(_program: Command): void {}
