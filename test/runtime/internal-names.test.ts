// The pure halves of calls by name: virtual addresses (stable, unique, per tenant and name), the hosts
// file, the DNAT table's text, and the route table's answer to an internal caller.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostsText, namesRuleset, placeEndpoints } from '../../src/runtime/network/internal-names.ts';
import { RouteTable } from '../../src/gateway/routing.ts';

const ep = (namespace: string, name: string, port = 80, proxyPort = 4000) => ({ namespace, names: [name, `${name}.internal`], port, proxyPort });

test('virtual addresses: one each, in 198.18.0.0/16, the same whatever the order', () => {
  const a = placeEndpoints([ep('t1', 'api'), ep('t1', 'db', 6379, 4001), ep('t2', 'db', 6379, 4002)]);
  const b = placeEndpoints([ep('t2', 'db', 6379, 4002), ep('t1', 'db', 6379, 4001), ep('t1', 'api')]);
  const key = (p: { namespace: string; names: string[]; vip: string }) => `${p.namespace}/${p.names[0]}=${p.vip}`;
  assert.deepEqual(a.map(key).sort(), b.map(key).sort());
  assert.equal(new Set(a.map((p) => p.vip)).size, 3, 'two tenants\' db get different addresses');
  for (const p of a) assert.match(p.vip, /^198\.18\.\d+\.\d+$/);
  // an endpoint added leaves the others where they were (unless it lands on one's slot: then it moves on)
  const c = placeEndpoints([ep('t1', 'api'), ep('t1', 'db', 6379, 4001), ep('t2', 'db', 6379, 4002), ep('t1', 'web')]);
  for (const p of a) assert.equal(c.find((q) => q.namespace === p.namespace && q.names[0] === p.names[0])!.vip, p.vip);
});

test('hosts file and DNAT table', () => {
  const placed = placeEndpoints([ep('t1', 'api', 80, 4000), ep('t1', 'db', 6379, 4001)]);
  const hosts = hostsText(placed);
  assert.match(hosts, /^127\.0\.0\.1\tlocalhost$/m);
  for (const p of placed) assert.match(hosts, new RegExp(`^${p.vip.replace(/\./g, '\\.')}\\t${p.names[0]} ${p.names[0]}\\.internal$`, 'm'));
  const rules = namesRuleset('SKX', 'skx0', '10.9.0.1', placed);
  assert.match(rules, /^table ip SKX-names \{/);
  assert.match(rules, /type nat hook prerouting priority dstnat;/);
  const db = placed.find((p) => p.names[0] === 'db')!;
  assert.match(rules, new RegExp(`iifname "skx0" ip daddr ${db.vip.replace(/\./g, '\\.')} tcp dport 6379 dnat to 10\\.9\\.0\\.1:4001`));
  assert.equal(hostsText([]).split('\n').filter(Boolean).length, 2, 'a namespace with nothing: localhost only');
});

test('routes: internal services only for their tenant on the internal port, never on the public one', () => {
  const t = new RouteTable();
  t.replace([
    { service: 'api', hosts: ['api.skiff.localhost'], targets: [{ revision: 'api-1', percent: 100 }], tenant: 't1', internal: true },
    { service: 'web', hosts: ['web.skiff.localhost'], targets: [{ revision: 'web-1', percent: 100 }], tenant: 't1' },
    { service: 'theirs', hosts: ['theirs.skiff.localhost'], targets: [{ revision: 'th-1', percent: 100 }], tenant: 't2' },
  ]);
  // public
  assert.equal(t.match('api.skiff.localhost', '/'), undefined);
  assert.equal(t.match('x', '/s/api/'), undefined);
  assert.equal(t.match('web.skiff.localhost', '/')?.route.service, 'web');
  // internal, by name, by NAME.internal, with a port, a trailing dot
  for (const host of ['api', 'api.internal', 'API:80', 'api.internal.', 'api.skiff.localhost']) assert.equal(t.match(host, '/x', 't1')?.route.service, 'api', host);
  assert.equal(t.match('web', '/', 't1')?.route.service, 'web');
  // another tenant: nothing of t1's, by any name or path
  for (const [host, url] of [['api', '/'], ['web.internal', '/'], ['x', '/s/web/'], ['web.skiff.localhost', '/']] as const) assert.equal(t.match(host, url, 't2'), undefined, `${host}${url}`);
  assert.equal(t.match('theirs', '/', 't2')?.route.service, 'theirs');
});
