// core/placement: where in a cluster a service's instances may run (`skiff deploy --placement
// 'node.labels.zone==edge'`, `--spread node.labels.zone`; the deploy document's `placement`), in Docker
// Swarm's own words, checked here as Swarm checks them so a typo is refused at deploy, not left as a
// task Swarm can never place. The swarm driver passes them to Swarm (TaskTemplate.Placement's
// Constraints and Preferences[].Spread); the runc driver runs everything on its one machine and
// ignores them. An "edge" node is one an admin labelled (`docker node update --label-add zone=edge`).
// Must not import anything outside core.
import { SkiffError } from './errors.ts';

/** Constraints every instance's node must meet (AND), and spread preferences (highest first). */
export interface Placement {
  /** `node.labels.zone==edge`, `node.role!=manager`, … */
  constraints?: string[];
  /** `node.labels.zone`, `engine.labels.rack`, … : instances spread evenly over the label's values */
  spread?: string[];
}

/** The most constraints and spread preferences a service may have, and the longest of each. */
export const PLACEMENT_MAXIMUMS = { constraints: 16, spread: 16, length: 256 } as const;

/** The node attributes a constraint may name besides labels (Swarm matches them case-insensitively). */
export const CONSTRAINT_ATTRIBUTES = ['node.id', 'node.hostname', 'node.role', 'node.platform.os', 'node.platform.arch'] as const;
/** Label descriptors: a node label an admin set (`docker node update --label-add`) or an engine label. */
export const LABEL_PREFIXES = ['node.labels.', 'engine.labels.'] as const;

// Swarm's own patterns (swarmkit manager/constraint): a key of letters, digits, `-`, `_`, `.` not
// starting with a digit; a value of letters, digits, whitespace and `: - _ . * ( ) ? + [ ] \ ^ $ | /`
// (no `=`, `<`, `>`, `~`: operators now or later).
const KEY_RE = /^[A-Za-z_][A-Za-z0-9\-_.]+$/;
const VALUE_RE = /^[A-Za-z0-9:\-_\t\n\f\r .*()?+[\]\\^$|/]+$/;

const SYNTAX = `expected DESCRIPTOR==VALUE or DESCRIPTOR!=VALUE, DESCRIPTOR one of ${CONSTRAINT_ATTRIBUTES.join(', ')}, node.labels.KEY, engine.labels.KEY (e.g. node.labels.zone==edge)`;

function isLabelDescriptor(key: string): boolean {
  return LABEL_PREFIXES.some((p) => key.length > p.length && key.slice(0, p.length).toLowerCase() === p);
}

function bounded(text: unknown, where: string, expected: string): string {
  if (typeof text !== 'string' || text.trim().length === 0) throw new SkiffError('BAD_REQUEST', `${where}: ${expected}, got ${JSON.stringify(text)}`);
  if (text.length > PLACEMENT_MAXIMUMS.length) throw new SkiffError('BAD_REQUEST', `${where}: at most ${PLACEMENT_MAXIMUMS.length} characters, got ${text.length}`);
  return text;
}

/**
 * One placement constraint in Swarm's syntax, `DESCRIPTOR==VALUE` or `DESCRIPTOR!=VALUE` (spaces around
 * the operator allowed, as Swarm allows them), returned without those spaces. `where` names the flag
 * or field in errors. As Swarm: `==` is looked for first, then `!=`; descriptors match in any case.
 */
export function parseConstraint(text: unknown, where: string): string {
  const t = bounded(text, where, SYNTAX);
  const op = t.includes('==') ? '==' : t.includes('!=') ? '!=' : undefined;
  if (!op) throw new SkiffError('BAD_REQUEST', `${where}: ${JSON.stringify(t)}: ${SYNTAX}`);
  const at = t.indexOf(op);
  const key = t.slice(0, at).trim();
  const value = t.slice(at + op.length).trim();
  const attribute = (CONSTRAINT_ATTRIBUTES as readonly string[]).includes(key.toLowerCase());
  if (!KEY_RE.test(key) || (!attribute && !isLabelDescriptor(key))) {
    throw new SkiffError('BAD_REQUEST', `${where}: ${JSON.stringify(t)}: unknown descriptor ${JSON.stringify(key)}; ${SYNTAX}`);
  }
  if (!VALUE_RE.test(value)) {
    throw new SkiffError('BAD_REQUEST', `${where}: ${JSON.stringify(t)}: the value must be letters, digits, spaces and : - _ . * ( ) ? + [ ] \\ ^ $ | / (no =, <, >, ~), got ${JSON.stringify(value)}`);
  }
  if (key.toLowerCase() === 'node.role' && !['manager', 'worker'].includes(value.toLowerCase())) {
    throw new SkiffError('BAD_REQUEST', `${where}: ${JSON.stringify(t)}: node.role is manager or worker`);
  }
  return `${key}${op}${value}`;
}

/** One spread preference: `node.labels.KEY` or `engine.labels.KEY`, the only descriptors Swarm spreads
 *  over (it ignores any other silently, so it is refused here). */
export function parseSpread(text: unknown, where: string): string {
  const expected = 'expected node.labels.KEY or engine.labels.KEY (e.g. node.labels.zone)';
  const t = bounded(text, where, expected).trim();
  if (!KEY_RE.test(t) || !isLabelDescriptor(t)) throw new SkiffError('BAD_REQUEST', `${where}: ${JSON.stringify(t)}: ${expected}; Swarm spreads only over node or engine labels`);
  return t;
}

/** `where` names the field, each item by its index (`placement.constraints[1]`); a flag (`--placement`,
 *  `flag`) is named as it is, once per value. */
function list(values: unknown, where: string, flag: boolean, max: number, parse: (v: unknown, w: string) => string): string[] {
  if (values === undefined || values === null) return [];
  if (!Array.isArray(values)) throw new SkiffError('BAD_REQUEST', `${where}: expected a list of strings`);
  if (values.length > max) throw new SkiffError('BAD_REQUEST', `${where}: at most ${max}, got ${values.length}`);
  const itemWhere = (i: number) => (flag ? where : `${where}[${i}]`);
  const out = values.map((v, i) => parse(v, itemWhere(i)));
  const seen = new Set<string>();
  out.forEach((v, i) => {
    if (seen.has(v)) throw new SkiffError('BAD_REQUEST', `${itemWhere(i)}: ${JSON.stringify(v)} is given twice`);
    seen.add(v);
  });
  return out;
}

/** A document's `placement` checked and normalised (`where`: the field, `placement` by default; the
 *  CLI names its flags through `flags`); undefined when it states neither list. */
export function normalisePlacement(p: Placement | undefined, where = 'placement', flags?: { constraints: string; spread: string }): Placement | undefined {
  if (p === undefined || p === null) return undefined;
  const constraints = list(p.constraints, flags?.constraints ?? `${where}.constraints`, flags !== undefined, PLACEMENT_MAXIMUMS.constraints, parseConstraint);
  const spread = list(p.spread, flags?.spread ?? `${where}.spread`, flags !== undefined, PLACEMENT_MAXIMUMS.spread, parseSpread);
  if (!constraints.length && !spread.length) return undefined;
  return { ...(constraints.length ? { constraints } : {}), ...(spread.length ? { spread } : {}) };
}

/** A placement in a line for people: `node.labels.zone==edge, spread over node.labels.rack`. */
export function placementText(p: Placement): string {
  return [...(p.constraints ?? []), ...(p.spread ?? []).map((s) => `spread over ${s}`)].join(', ');
}
