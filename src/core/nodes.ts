// core/nodes: the machines instances run on, as `skiff nodes` and GET /api/v1/nodes show them — one
// (this machine) with the runc driver, a swarm's nodes with the swarm driver — with what each can hold,
// what Skiff's instances there reserve, and how many there are.
export interface NodeView {
  /** hostname */
  name: string;
  /** manager | worker (swarm); `local` for the runc driver's one machine */
  role: 'manager' | 'worker' | 'local';
  /** ready | down | unknown | disconnected (Swarm's node state) */
  state: string;
  /** active | pause | drain: whether the swarm places new instances there */
  availability: string;
  /** the node's address (where its instances' published ports are) */
  address?: string;
  /** node labels (placement constraints match them: node.labels.zone==edge) */
  labels: Record<string, string>;
  /** capacity */
  cpus: number;
  memoryBytes: number;
  /** what Skiff's running instances there reserve (their limits) */
  reservedCpus: number;
  reservedMemoryBytes: number;
  /** Skiff's instances there (this daemon's: created, running or frozen) */
  instances: number;
}

/** The port GET /api/v1/nodes reads: each driver's inventory. */
export interface NodeInventory {
  nodes(): Promise<NodeView[]>;
}
