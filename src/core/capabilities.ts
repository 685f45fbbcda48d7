// core/capabilities: the Linux capabilities a service or run may add to an instance's default set.
// The default set is Docker's minus CAP_NET_RAW (runtime/runc/bundle.ts): with it an instance can forge
// ARP replies and raw packets, so it is off unless a service asks for it (ping-like tools need it).
// Nothing beyond Docker's default set can be added: no option here reaches the host.
export const OPTIONAL_CAPABILITIES = ['NET_RAW'] as const;
export type OptionalCapability = (typeof OPTIONAL_CAPABILITIES)[number];
