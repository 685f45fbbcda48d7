// serving/secret-injection: the instance driver as the scheduler sees it, with secrets resolved. A
// revision's instance spec names the secret versions it pinned (InstanceSpec.secretRefs, no values);
// `create` opens them into InstanceSpec.secrets just before the driver builds the instance, so the clear
// values live in memory for the length of a create and then only where the driver put them (tmpfs).
// Every other call goes to the driver unchanged.
import type { InstanceDriver, InstanceSpec } from '../core/instance.ts';
import type { PinnedSecrets, SecretMaterial } from '../core/secrets.ts';

export interface SecretResolver {
  /** the tenant owning the service (secrets are the tenant's) */
  tenantOf(service: string): Promise<string>;
  material(tenant: string, pinned: PinnedSecrets, revision: string): Promise<SecretMaterial>;
}

export function withSecrets<D extends Pick<InstanceDriver, 'create'>>(driver: D, resolver: SecretResolver): D {
  const create = async (id: string, spec: InstanceSpec): Promise<void> => {
    if (!spec.secretRefs) return driver.create(id, spec);
    const { secretRefs, ...rest } = spec;
    const tenant = await resolver.tenantOf(spec.service);
    const secrets = await resolver.material(tenant, secretRefs, spec.revision ?? spec.service);
    return driver.create(id, { ...rest, secrets });
  };
  return new Proxy(driver, {
    get(target, prop, receiver) {
      if (prop === 'create') return create;
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}
