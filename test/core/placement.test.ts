// core/placement and where it flows: Swarm's constraint and spread syntax checked as Swarm checks it
// (errors naming the field, `placement.constraints[1]`, or the flag, `--placement`), the deploy
// document → the revision's spec → the instance spec, the spec back to a document, update semantics
// (a list given replaces its predecessor, the other carries over; --clear-placement removes both), the
// CLI flags, and describe's line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SkiffError } from '../../src/core/errors.ts';
import { normalisePlacement, parseConstraint, parseSpread, PLACEMENT_MAXIMUMS } from '../../src/core/placement.ts';
import type { DeployDocument } from '../../src/core/documents.ts';
import type { RevisionRecord } from '../../src/core/service.ts';
import { normaliseDeployDocument } from '../../src/serving/spec.ts';
import { documentFromSpec, updatedDocument } from '../../src/serving/update.ts';
import { configText, deployDocument, patchFromFlags, placementPatch } from '../../src/cli/services.ts';
import { RevisionState } from '../../src/scheduler/revision-state.ts';
import type { Scaler } from '../../src/scheduler/ports.ts';

const refused = (message: RegExp) => (e: unknown) => {
  assert.ok(e instanceof SkiffError, String(e));
  assert.equal(e.code, 'BAD_REQUEST', e.message);
  assert.match(e.message, message);
  return true;
};

const DIGEST = `sha256:${'a'.repeat(64)}`;
function revision(document: DeployDocument): RevisionRecord {
  return { name: 'web-00001', service: 'web', generation: 1, image: { repository: 'team/web', digest: DIGEST }, spec: normaliseDeployDocument(document).spec, document, createdAt: 1 };
}

type Flags = Parameters<typeof patchFromFlags>[0];
const BASE = { env: [], capAdd: [], envFromSecret: [], secretEnv: [], secretMount: [], wait: true, traffic: true };
const flags = (f: Partial<Flags>) => ({ ...BASE, ...f }) as Flags;

test('constraints: every descriptor Swarm knows, == and !=, spaces around the operator dropped', () => {
  for (const [text, want] of [
    ['node.labels.zone==edge', 'node.labels.zone==edge'],
    ['node.labels.zone != edge', 'node.labels.zone!=edge'],
    ['node.id==2ivku8v2gvtg4', 'node.id==2ivku8v2gvtg4'],
    ['node.hostname!=node-2', 'node.hostname!=node-2'],
    ['node.role==manager', 'node.role==manager'],
    ['node.role != Worker', 'node.role!=Worker'],
    ['node.platform.os==linux', 'node.platform.os==linux'],
    ['node.platform.arch==x86_64', 'node.platform.arch==x86_64'],
    ['engine.labels.operatingsystem==ubuntu-24.04', 'engine.labels.operatingsystem==ubuntu-24.04'],
    ['Node.Labels.Zone==Edge', 'Node.Labels.Zone==Edge'], // Swarm: descriptors in any case, the label key as written
    ['node.labels.com.example.tier==gold', 'node.labels.com.example.tier==gold'],
    ['node.labels.path==/srv/a:b', 'node.labels.path==/srv/a:b'],
    ['node.labels.name==two words', 'node.labels.name==two words'],
  ]) {
    assert.equal(parseConstraint(text, 'c'), want, text);
  }
});

test('constraints: what Swarm would refuse, or never match, is BAD_REQUEST naming the field', () => {
  for (const [text, why] of [
    ['zone=edge', /expected DESCRIPTOR==VALUE or DESCRIPTOR!=VALUE/],
    ['node.labels.zone', /expected DESCRIPTOR==VALUE/],
    ['node.labels.zone>=edge', /expected DESCRIPTOR==VALUE/],
    ['zone==edge', /unknown descriptor "zone"/],
    ['node.ip==10.0.0.1', /unknown descriptor "node.ip"/],
    ['node.labels.==edge', /unknown descriptor "node.labels."/],
    ['node.labels==edge', /unknown descriptor "node.labels"/],
    ['node.labels.a b==edge', /unknown descriptor/],
    ['node.labels.zone==', /the value must be/],
    ['node.labels.zone==a==b', /the value must be/],
    ['node.labels.zone==<edge>', /the value must be/],
    ['node.labels.zone==e~dge', /the value must be/],
    ['node.role==boss', /node.role is manager or worker/],
    ['', /expected DESCRIPTOR==VALUE/],
    ['   ', /expected DESCRIPTOR==VALUE/],
    [`node.labels.zone==${'x'.repeat(PLACEMENT_MAXIMUMS.length)}`, /at most 256 characters/],
  ] as const) {
    assert.throws(() => parseConstraint(text, 'placement.constraints[1]'), refused(new RegExp(`^placement\\.constraints\\[1\\]: .*${why.source}`)), text);
  }
  assert.throws(() => parseConstraint(42, 'p'), refused(/^p: expected/));
});

test('spread: node.labels.KEY or engine.labels.KEY only (Swarm ignores any other silently)', () => {
  assert.equal(parseSpread('node.labels.zone', 's'), 'node.labels.zone');
  assert.equal(parseSpread(' engine.labels.rack ', 's'), 'engine.labels.rack');
  for (const bad of ['node.hostname', 'node.labels.', 'zone', 'node.labels.zone==edge', 'spread=node.labels.zone', '']) {
    assert.throws(() => parseSpread(bad, 'placement.spread[0]'), refused(/^placement\.spread\[0\]: /), bad);
  }
});

test('a document\'s placement: field names with indexes, limits, repeats; empty lists leave no placement', () => {
  assert.deepEqual(normalisePlacement({ constraints: ['node.labels.zone == edge'], spread: ['node.labels.rack'] }), { constraints: ['node.labels.zone==edge'], spread: ['node.labels.rack'] });
  assert.deepEqual(normalisePlacement({ spread: ['node.labels.rack'] }), { spread: ['node.labels.rack'] });
  assert.equal(normalisePlacement({ constraints: [], spread: [] }), undefined);
  assert.equal(normalisePlacement({}), undefined);
  assert.equal(normalisePlacement(undefined), undefined);
  assert.throws(() => normalisePlacement({ constraints: ['node.role==manager', 'zone=edge'] }), refused(/^placement\.constraints\[1\]: "zone=edge"/));
  assert.throws(() => normalisePlacement({ spread: ['node.labels.a', 'node.id'] }), refused(/^placement\.spread\[1\]: "node\.id"/));
  assert.throws(() => normalisePlacement({ constraints: ['node.role==manager', 'node.role == manager'] }), refused(/^placement\.constraints\[1\]: "node\.role==manager" is given twice/));
  const many = Array.from({ length: PLACEMENT_MAXIMUMS.constraints + 1 }, (_, i) => `node.labels.k${i}==v`);
  assert.throws(() => normalisePlacement({ constraints: many }), refused(/^placement\.constraints: at most 16, got 17/));
  assert.throws(() => normalisePlacement({ spread: many.map((_, i) => `node.labels.k${i}`) }), refused(/^placement\.spread: at most 16/));
  assert.equal(normalisePlacement({ constraints: many.slice(0, 16), spread: many.slice(0, 16).map((_, i) => `node.labels.k${i}`) })!.constraints!.length, 16);
});

test('document → spec → instance spec, and the spec back to a document; a bad one is refused at deploy naming the field', () => {
  const doc: DeployDocument = { name: 'web', image: 'team/web:v1', placement: { constraints: ['node.labels.zone==edge', 'node.role != manager'], spread: ['node.labels.rack'] } };
  const { spec } = normaliseDeployDocument(doc);
  assert.deepEqual(spec.placement, { constraints: ['node.labels.zone==edge', 'node.role!=manager'], spread: ['node.labels.rack'] });
  assert.deepEqual(normaliseDeployDocument(documentFromSpec(spec)).spec, spec, 'round trip');
  assert.equal(normaliseDeployDocument({ name: 'web', image: 'x:1' }).spec.placement, undefined);
  assert.equal(normaliseDeployDocument({ name: 'web', image: 'x:1', placement: {} }).spec.placement, undefined);
  assert.equal('placement' in documentFromSpec(normaliseDeployDocument({ name: 'web', image: 'x:1' }).spec), false);
  assert.throws(() => normaliseDeployDocument({ name: 'web', image: 'x:1', placement: { constraints: ['node.labels.zone==edge', 'zone==edge'] } }), refused(/^placement\.constraints\[1\]: "zone==edge": unknown descriptor/));

  const state = new RevisionState(revision(doc), { min: 0, max: 1 }, {} as Scaler);
  assert.deepEqual(state.instanceSpec().placement, { constraints: ['node.labels.zone==edge', 'node.role!=manager'], spread: ['node.labels.rack'] });
  assert.equal('placement' in new RevisionState(revision({ name: 'web', image: 'x:1' }), { min: 0, max: 1 }, {} as Scaler).instanceSpec(), false);
});

test('update: a list given replaces the one before, the other carries over; null (--clear-placement) removes both', () => {
  const rev = revision({ name: 'web', image: 'team/web:v1', placement: { constraints: ['node.labels.zone==edge', 'node.role==worker'], spread: ['node.labels.rack'] } });
  const scale = { min: 0, max: 10 };
  const replaced = normaliseDeployDocument(updatedDocument(rev, scale, { placement: { constraints: ['node.labels.zone==core'] } })).spec;
  assert.deepEqual(replaced.placement, { constraints: ['node.labels.zone==core'], spread: ['node.labels.rack'] });
  const spreadOnly = normaliseDeployDocument(updatedDocument(rev, scale, { placement: { spread: ['node.labels.zone', 'node.labels.rack'] } })).spec;
  assert.deepEqual(spreadOnly.placement, { constraints: ['node.labels.zone==edge', 'node.role==worker'], spread: ['node.labels.zone', 'node.labels.rack'] });
  const cleared = updatedDocument(rev, scale, { placement: null });
  assert.equal('placement' in cleared, false);
  assert.equal(normaliseDeployDocument(cleared).spec.placement, undefined);
  const untouched = normaliseDeployDocument(updatedDocument(rev, scale, { env: { A: '1' } })).spec;
  assert.deepEqual(untouched.placement, rev.spec.placement, 'an update that does not name it keeps it');
  // --clear-placement --placement X: X only
  const only = normaliseDeployDocument(updatedDocument(rev, scale, patchFromFlags(flags({ clearPlacement: true, placement: ['node.labels.zone==core'] })))).spec;
  assert.deepEqual(only.placement, { constraints: ['node.labels.zone==core'] });
});

test('CLI: --placement and --spread (repeatable) make the patch; --clear-placement; errors name the flag', () => {
  assert.equal(patchFromFlags(flags({})).placement, undefined, 'no flag: nothing stated');
  assert.equal(patchFromFlags(flags({ placement: [], spread: [] })).placement, undefined);
  assert.deepEqual(patchFromFlags(flags({ placement: ['node.labels.zone == edge', 'node.role!=manager'] })).placement, { constraints: ['node.labels.zone==edge', 'node.role!=manager'] });
  assert.deepEqual(patchFromFlags(flags({ spread: ['node.labels.zone', 'spread=node.labels.rack'] })).placement, { spread: ['node.labels.zone', 'node.labels.rack'] }, 'docker\'s spread= spelling taken');
  assert.equal(patchFromFlags(flags({ clearPlacement: true })).placement, null);
  assert.deepEqual(placementPatch({ clearPlacement: true, spread: ['node.labels.zone'] }), { constraints: null, spread: ['node.labels.zone'] });
  assert.throws(() => patchFromFlags(flags({ placement: ['node.labels.zone==edge', 'zone=edge'] })), refused(/^--placement: "zone=edge": expected DESCRIPTOR==VALUE/));
  assert.throws(() => patchFromFlags(flags({ spread: ['node.hostname'] })), refused(/^--spread: "node\.hostname": expected node\.labels\.KEY or engine\.labels\.KEY/));
  assert.throws(() => patchFromFlags(flags({ placement: ['node.role==worker', 'node.role==worker'] })), refused(/^--placement: "node\.role==worker" is given twice/));
  // a new service (`skiff deploy NAME --placement …` or -f with flags): the flags over the file
  const doc = deployDocument('web', flags({ image: 'team/web:v1', placement: ['node.labels.zone==edge'] }), { placement: { constraints: ['node.role==worker'], spread: ['node.labels.rack'] } });
  assert.deepEqual(doc.placement, { constraints: ['node.labels.zone==edge'], spread: ['node.labels.rack'] });
  assert.equal('placement' in deployDocument('web', flags({ image: 'team/web:v1', clearPlacement: true }), { placement: { constraints: ['node.role==worker'] } }), false);
});

test('describe shows the placement when there is one', () => {
  const { spec } = normaliseDeployDocument({ name: 'web', image: 'x:1', placement: { constraints: ['node.labels.zone==edge'], spread: ['node.labels.rack'] } });
  const { name: _n, image: _i, ...config } = spec;
  assert.ok(configText(config, '').includes('placement node.labels.zone==edge, spread over node.labels.rack'), configText(config, '').join('\n'));
  const { name: _n2, image: _i2, ...plain } = normaliseDeployDocument({ name: 'web', image: 'x:1' }).spec;
  assert.ok(!configText(plain, '').some((l) => l.startsWith('placement')));
});
