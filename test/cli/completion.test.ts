// `skiff completion`: the bash script, run by bash as it completes, offers the commands, a command's
// options, an option's choices and (asked of the daemon) service names; zsh gets the same through
// bashcompinit; fish's script names the same things. All made from the registered commands.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTestDaemon } from '../helpers/daemon.ts';
import { pushImage, uniqueRepo } from '../helpers/oci.ts';
import { skiff } from '../helpers/cli.ts';
import { SkiffClient } from '../../src/api/client.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

test('bash completion offers commands, options, choices and service names', async (t) => {
  const d = await startTestDaemon(t);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-compl-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // `skiff` on the PATH as a user has it (setup links it), talking to this daemon
  writeFileSync(path.join(dir, 'skiff'), `#!/bin/sh\nexec ${process.execPath} ${ROOT}/bin/skiff.mjs "$@"\n`);
  chmodSync(path.join(dir, 'skiff'), 0o755);
  const script = await skiff(d, ['completion', 'bash']);
  assert.equal(script.code, 0, script.stderr);
  writeFileSync(path.join(dir, 'skiff.bash'), script.stdout);
  // a service to name: deployed without verification (no instance needed)
  const repo = uniqueRepo('compl');
  await pushImage(d, repo, 'v1');
  const client = new SkiffClient({ baseUrl: d.url, token: d.token });
  await client.deploy({ name: 'checkout', image: `${repo}:v1` }).catch(() => undefined); // runc-less machines: listed only if it deployed

  const complete = (line: string) => {
    const words = line.split(' ');
    const r = spawnSync('bash', ['-c', `source ${dir}/skiff.bash; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _skiff; printf '%s\\n' "\${COMPREPLY[@]}"`], {
      encoding: 'utf8',
      env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, SKIFF_API: d.url, SKIFF_TOKEN: d.token },
    });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.split('\n').filter(Boolean).sort();
  };
  assert.deepEqual(complete('skiff dep'), ['deploy']);
  assert.ok(complete('skiff ').includes('revisions'));
  assert.deepEqual(complete('skiff token '), ['create', 'ls', 'rm']);
  assert.deepEqual(complete('skiff token create x --role '), ['admin', 'deploy', 'pull', 'push']);
  assert.ok(complete('skiff deploy web --im').includes('--image'));
  assert.deepEqual(complete('skiff ls -o '), ['json', 'table', 'yaml']);
  if ((await client.listServices()).services.length) assert.deepEqual(complete('skiff describe che'), ['checkout']);

  const zsh = await skiff(d, ['completion', 'zsh']);
  assert.match(zsh.stdout, /^#compdef skiff\n#[^\n]*\nautoload -U \+X bashcompinit && bashcompinit\n/);
  const fish = await skiff(d, ['completion', 'fish']);
  assert.match(fish.stdout, /^complete -c skiff -n '__fish_seen_subcommand_from token; and not __fish_seen_subcommand_from create ls rm' -a create$/m);
  assert.match(fish.stdout, /-l role -x -a 'admin deploy push pull'/);
  const bad = await skiff(d, ['completion', 'tcsh']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^skiff: error USAGE: completion: the shell is bash, zsh or fish/);
});
