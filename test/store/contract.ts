// test/store/contract: the one behaviour every store dialect must have (DESIGN.md habit 5). A runner
// (sqlite.test.ts, postgres.test.ts) calls storeContract with its target: how to get a fresh, empty
// database; every test opens its own and closes it after itself.
import { concurrencyContract } from './contract/concurrency.ts';
import { eventsContract } from './contract/events.ts';
import { jobsContract } from './contract/jobs.ts';
import { secretsContract } from './contract/secrets.ts';
import { migrationsContract } from './contract/migrations.ts';
import { registryListsContract } from './contract/registry-lists.ts';
import { registryContract } from './contract/registry.ts';
import { servingContract } from './contract/serving.ts';
import { tokensContract } from './contract/tokens.ts';
import { volumesContract } from './contract/volumes.ts';
import { usageContract } from './contract/usage.ts';
import { budgetsContract } from './contract/budgets.ts';
import type { StoreTarget } from './fixtures.ts';

export type { StoreTarget } from './fixtures.ts';

export function storeContract(target: StoreTarget): void {
  registryContract(target);
  registryListsContract(target);
  servingContract(target);
  tokensContract(target);
  eventsContract(target);
  jobsContract(target);
  volumesContract(target);
  usageContract(target);
  budgetsContract(target);
  secretsContract(target);
  concurrencyContract(target);
  migrationsContract(target);
}
