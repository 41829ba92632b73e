/**
 * Untrusted repositories: includes stay inside the workspace, refusals reveal nothing of the target, and the
 * loader's bounds (file size, number of files) are diagnostics. Run through the CLI in-process on real files
 * (symbolic links, a device, thousands of files) and through the core on an in-memory host.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadTopologyFiles, type FileHost } from '../../../src/core';
import { main } from '../../../src/cli/main';

const HEADER = 'apiVersion: netpath.dev/v1alpha1\nkind: Topology\n';
const SECRET = 'apiVersion: v1\nkind: Node\nmetadata:\n  name: secret-node-name\n';

async function cli(args: string[], cwd: string): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(args, { cwd, out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

describe('workspace: includes are confined to the workspace', function () {
  this.timeout(60000);
  let tmp = '';
  let repo = '';
  let outside = '';

  before(() => {
    tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'netpath-confine-')));
    repo = path.join(tmp, 'repo');
    outside = path.join(tmp, 'outside');
    fs.mkdirSync(path.join(repo, 'k8s'), { recursive: true });
    fs.mkdirSync(outside);
    fs.writeFileSync(path.join(outside, 'target.yaml'), SECRET);
    fs.writeFileSync(path.join(outside, 'broken.yaml'), 'kind: [unclosed\n  secret text here');
    fs.writeFileSync(path.join(repo, 'k8s/ok.yaml'), 'apiVersion: v1\nkind: Node\nmetadata:\n  name: inside\n');
    fs.symlinkSync(path.join(outside, 'target.yaml'), path.join(repo, 'k8s/link.yaml'));
    fs.symlinkSync(outside, path.join(repo, 'linkdir'));
    fs.symlinkSync(path.join(repo, 'k8s/ok.yaml'), path.join(repo, 'k8s/inner-link.yaml'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  const lint = async (include: string, extra: string[] = []) => {
    fs.writeFileSync(path.join(repo, 'lab.netpath.yaml'), `${HEADER}include: [${JSON.stringify(include)}]\n`);
    return cli(['lint', ...extra, path.join(repo, 'lab.netpath.yaml')], repo);
  };

  for (const [what, include] of [
    ['an absolute path', `${tmp}/outside/target.yaml`],
    ['an absolute path that does not exist', `${tmp}/outside/missing.yaml`],
    ['../ traversal', '../outside/target.yaml'],
    ['../ traversal to a broken file', '../outside/broken.yaml'],
    ['../ traversal to nothing', '../outside/nothing.yaml'],
    ['a glob reaching out', '../outside/*.yaml'],
    ['a glob climbing after a wildcard', 'k8s/*/../../../outside/*.yaml'],
    ['/etc/shadow', '/etc/shadow'],
    ['a symbolic link to a file outside', 'k8s/link.yaml'],
    ['a symbolic link to a folder outside', 'linkdir/target.yaml'],
    ['a glob through a linked folder', 'linkdir/*.yaml'],
  ] as const) {
    it(`refuses ${what}, saying nothing of the target`, async () => {
      const r = await lint(include);
      assert.equal(r.code, 1, r.out + r.err);
      assert.match(
        r.out,
        /lab\.netpath\.yaml:3:\d+ error include\.outside-workspace include '.*' (is|reaches|leads).* outside the workspace/,
      );
      assert.doesNotMatch(r.out, /secret|ref\.unknown|matches no file|yaml\.syntax|does not exist|no such/i);
      assert.equal(r.out.trim().split('\n').length, 2, r.out); // the refusal and the summary
    });
  }

  it('reads includes inside the workspace, links inside it included', async () => {
    const r = await lint('k8s/*.yaml');
    assert.doesNotMatch(r.out, /outside-workspace|ref\.unknown/, r.out);
    const inner = await lint('k8s/inner-link.yaml');
    assert.doesNotMatch(inner.out, /outside-workspace|ref\.unknown/, inner.out);
  });

  it('globs do not follow symbolic links (a linked file is read when named)', async () => {
    fs.writeFileSync(path.join(repo, 'lab.netpath.yaml'), `${HEADER}include: ["k8s/*.yaml", "*/*.yaml"]\n`);
    const g = await cli(['lint', '--format', 'json', path.join(repo, 'lab.netpath.yaml')], repo);
    assert.deepEqual(JSON.parse(g.out), { diagnostics: [] });
  });

  it('--allow-outside DIR widens the workspace on purpose', async () => {
    const r = await lint('../outside/target.yaml', ['--allow-outside', outside]);
    assert.doesNotMatch(r.out, /outside-workspace/, r.out);
    const linked = await lint('k8s/link.yaml', [`--allow-outside=${outside}`]);
    assert.doesNotMatch(linked.out, /outside-workspace/, linked.out);
    const elsewhere = await lint('../outside/target.yaml', ['--allow-outside', path.join(tmp, 'other')]);
    assert.match(elsewhere.out, /include\.outside-workspace/);
  });

  it('trace reads the same confined topology and says what it refused', async () => {
    fs.writeFileSync(path.join(repo, 'lab.netpath.yaml'), `${HEADER}include: ["../outside/target.yaml"]\n`);
    const r = await cli(
      ['trace', path.join(repo, 'lab.netpath.yaml'), '--from', 'node/secret-node-name', '--to', '10.0.0.1:80'],
      repo,
    );
    assert.equal(r.code, 2);
    assert.match(r.err, /include\.outside-workspace/);
    assert.match(r.err, /No node 'secret-node-name'/);
  });

  it('the core refuses before it asks the host anything about the target', async () => {
    const asked: string[] = [];
    const host: FileHost = {
      async readFile(p) {
        asked.push(p);
        return p === '/w/a.netpath.yaml'
          ? `${HEADER}include: [/etc/passwd, ../x.yaml, "../*.yaml", ok.yaml]\n`
          : SECRET;
      },
      async glob(dir, pattern) {
        asked.push(`${dir}|${pattern}`);
        return [];
      },
      async size(p) {
        asked.push(`size ${p}`);
        return 10;
      },
    };
    const r = await loadTopologyFiles(['/w/a.netpath.yaml'], host, undefined, { roots: ['/w'] });
    assert.deepEqual(
      r.problems.map((p) => p.code),
      ['include.outside-workspace', 'include.outside-workspace', 'include.outside-workspace'],
    );
    assert.deepEqual(asked, ['size /w/a.netpath.yaml', '/w/a.netpath.yaml', 'size /w/ok.yaml', '/w/ok.yaml']);
    assert.deepEqual(
      r.files.map((f) => f.path),
      ['/w/a.netpath.yaml', '/w/ok.yaml'],
    );
  });
});

describe('workspace: bounds are diagnostics', function () {
  this.timeout(120000);
  let tmp = '';
  before(() => {
    tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'netpath-bounds-')));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('a folder with more than 2,000 files: include.too-many, not a false "cannot read"', async () => {
    const dir = path.join(tmp, 'many');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'a.netpath.yaml'), `${HEADER}cluster:\n  podCIDRs: [10.244.0.0/16]\n`);
    for (let i = 0; i < 2100; i++)
      fs.writeFileSync(
        path.join(dir, `s${i}.yaml`),
        `apiVersion: v1\nkind: Service\nmetadata:\n  name: s${i}\nspec:\n  ports: [{port: 80}]\n`,
      );
    const r = await cli(['lint', dir], tmp);
    assert.equal(r.err, '');
    assert.match(
      r.out,
      /many\/a\.netpath\.yaml:1:1 warning include\.too-many More than 2000 files: NetPath read the first 2000 and left 101 out\./,
    );
    assert.notEqual(r.code, 2);
  });

  it('a file over the size limit is a file.too-large warning, read as empty; --max-file-size-kb sets the limit', async () => {
    const dir = path.join(tmp, 'large');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'a.netpath.yaml'), `${HEADER}include: [big.yaml]\n`);
    fs.writeFileSync(path.join(dir, 'big.yaml'), `# ${'x'.repeat(3000)}\nkind: [\n`);
    const r = await cli(['lint', '--max-file-size-kb', '2', path.join(dir, 'a.netpath.yaml')], tmp);
    assert.match(
      r.out,
      /large\/big\.yaml:1:1 warning file\.too-large NetPath did not read this file: it is 3 KB, over the limit of 2 KB/,
    );
    assert.doesNotMatch(r.out, /yaml\.syntax/);
    const ok = await cli(['lint', path.join(dir, 'a.netpath.yaml')], tmp);
    assert.match(ok.out, /yaml\.syntax/);
    assert.doesNotMatch(ok.out, /too-large/);
    const bad = await cli(['lint', '--max-file-size-kb', 'lots', dir], tmp);
    assert.equal(bad.code, 2);
  });

  it('a device as an argument is refused at once, not read (/dev/urandom)', async () => {
    const r = await cli(['lint', '/dev/urandom'], tmp);
    assert.equal(r.code, 2);
    assert.equal(r.err, "netpath lint: cannot read '/dev/urandom': not a regular file or folder\n");
  });

  it('a device reached through an include is unreadable, not read forever', async () => {
    const dir = path.join(tmp, 'device');
    fs.mkdirSync(dir);
    fs.symlinkSync('/dev/zero', path.join(dir, 'zero.yaml'));
    fs.writeFileSync(path.join(dir, 'a.netpath.yaml'), `${HEADER}include: [zero.yaml]\n`);
    const r = await cli(['lint', '--allow-outside', '/dev', path.join(dir, 'a.netpath.yaml')], tmp);
    assert.match(r.out, /ref\.unknown include 'zero\.yaml' matches no file/);
  });
});

describe('workspace: symbolic links inside folder arguments are reported, not skipped silently', function () {
  this.timeout(60000);
  let tmp = '';
  let repo = '';
  const NODE = (name: string) => `apiVersion: v1\nkind: Node\nmetadata:\n  name: ${name}\n`;

  before(() => {
    tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'netpath-links-')));
    repo = path.join(tmp, 'repo');
    const outside = path.join(tmp, 'outside');
    fs.mkdirSync(path.join(repo, 'k8s/real'), { recursive: true });
    fs.mkdirSync(outside);
    fs.writeFileSync(path.join(outside, 'target.yaml'), SECRET);
    fs.writeFileSync(path.join(repo, 'k8s/real/inside.yaml'), NODE('inside'));
    // Outside the workspace: a file that exists, one that does not, a folder, a relative path climbing out.
    fs.symlinkSync(path.join(outside, 'target.yaml'), path.join(repo, 'k8s/out-file.yaml'));
    fs.symlinkSync(path.join(outside, 'missing.yaml'), path.join(repo, 'k8s/out-gone.yaml'));
    fs.symlinkSync(outside, path.join(repo, 'k8s/out-dir'));
    fs.symlinkSync('../../outside/target.yaml', path.join(repo, 'k8s/out-relative.yaml'));
    // Inside: a linked file, a linked folder, a link back to a folder already walked, a link to nothing.
    fs.symlinkSync('real/inside.yaml', path.join(repo, 'k8s/in-file.yaml'));
    fs.symlinkSync(path.join(repo, 'k8s/real'), path.join(repo, 'k8s/in-dir'));
    fs.symlinkSync('..', path.join(repo, 'k8s/real/loop'));
    fs.symlinkSync('real/nothing.yaml', path.join(repo, 'k8s/in-broken.yaml'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('refuses each link that leads out at the link, with the same message whether its target exists or not', async () => {
    const r = await cli(['lint', path.join(repo, 'k8s')], repo);
    assert.equal(r.code, 1, r.out + r.err);
    assert.equal(r.err, '');
    const refusals = r.out.split('\n').filter((l) => l.includes('link.outside-workspace'));
    assert.deepEqual(
      refusals.map((l) => l.split(' ')[0]),
      ['k8s/out-dir:1:1', 'k8s/out-file.yaml:1:1', 'k8s/out-gone.yaml:1:1', 'k8s/out-relative.yaml:1:1'],
    );
    // One message shape for all of them: only the link's own name differs, nothing of its target shows.
    const shapes = new Set(refusals.map((l) => l.replace(/'[^']*'/, "'…'").replace(/^\S+/, '')));
    assert.equal(shapes.size, 1, refusals.join('\n'));
    assert.match(refusals[0], /error link\.outside-workspace symbolic link 'out-dir' leads outside the workspace/);
    assert.doesNotMatch(r.out, /secret|missing\.yaml|target\.yaml|no such|does not exist|outside\//i);
  });

  it('follows links inside the workspace, reads each real file once and says which link leads to nothing', async () => {
    const r = await cli(['lint', '--format', 'json', path.join(repo, 'k8s')], repo);
    const diagnostics = (JSON.parse(r.out) as { diagnostics: { code: string; file: string; message: string }[] })
      .diagnostics;
    // inside.yaml is reached directly, through in-file.yaml and through in-dir/: read once, so no duplicate Node.
    assert.deepEqual(
      diagnostics.filter((d) => !d.code.startsWith('link.')),
      [],
      JSON.stringify(diagnostics),
    );
    const broken = diagnostics.filter((d) => d.code === 'link.broken');
    assert.equal(broken.length, 1, JSON.stringify(diagnostics));
    assert.match(broken[0].message, /symbolic link 'in-broken\.yaml' leads to nothing: NetPath did not read it/);
  });

  it('reads what a link inside leads to (a folder reached only through a link)', async () => {
    const only = path.join(tmp, 'only');
    fs.mkdirSync(path.join(only, 'data'), { recursive: true });
    fs.mkdirSync(path.join(only, 'args'));
    fs.writeFileSync(path.join(only, 'data/a.yaml'), NODE('a\n  labels: {"bad key!": x}'));
    fs.symlinkSync('../data', path.join(only, 'args/linked'));
    // The workspace is the argument's folder; --allow-outside adds the folder the link leads to.
    const refused = await cli(['lint', path.join(only, 'args')], only);
    assert.match(refused.out, /args\/linked:1:1 error link\.outside-workspace/);
    const read = await cli(['lint', '--allow-outside', path.join(only, 'data'), path.join(only, 'args')], only);
    assert.doesNotMatch(read.out, /link\./, read.out);
    assert.match(read.out, /args\/linked\/a\.yaml:\d+:\d+ error name\.invalid/, read.out);
  });

  it('a folder whose only YAML is behind a refused link reports the link, not "no .yaml files"', async () => {
    const lone = path.join(tmp, 'lone');
    fs.mkdirSync(lone);
    fs.symlinkSync(path.join(tmp, 'outside/target.yaml'), path.join(lone, 'x.yaml'));
    const r = await cli(['lint', lone], tmp);
    assert.equal(r.code, 1, r.out + r.err);
    assert.match(r.out, /lone\/x\.yaml:1:1 error link\.outside-workspace/);
  });

  it('trace says what it refused in a folder', async () => {
    const dir = path.join(tmp, 'tr');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'a.netpath.yaml'), `${HEADER}nodes:\n  - name: n1\n    ip: 192.168.1.10\n`);
    fs.symlinkSync(path.join(tmp, 'outside/target.yaml'), path.join(dir, 'x.yaml'));
    const r = await cli(['trace', dir, '--from', 'node/n1', '--to', '192.168.1.10:80'], tmp);
    assert.match(r.err, /netpath trace: tr\/x\.yaml:1:1 error link\.outside-workspace/, r.err);
    assert.doesNotMatch(r.out + r.err, /secret/);
  });

  // A pod with a port, so the matrix has something to judge.
  const POD = (name: string) =>
    `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}}\nspec: {containers: [{name: c, ports: [{containerPort: 80}]}]}\nstatus: {podIP: 10.244.1.${name.length}}\n`;

  it('reach says what it refused in a folder (a link leading out), as trace and lint do', async () => {
    const dir = path.join(tmp, 'rc');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'a.yaml'), POD('web'));
    fs.symlinkSync(path.join(tmp, 'outside/target.yaml'), path.join(dir, 'x.yaml'));
    const r = await cli(['reach', dir], tmp);
    assert.equal(r.code, 0, r.out + r.err);
    assert.match(r.err, /netpath reach: rc\/x\.yaml:1:1 error link\.outside-workspace/, r.err);
    assert.doesNotMatch(r.out + r.err, /secret/);
  });

  it('reach confines includes to the workspace and widens them with --allow-outside', async () => {
    const dir = path.join(tmp, 'rci');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'web.yaml'), POD('web'));
    const outside = path.join(tmp, 'outside');
    fs.writeFileSync(path.join(outside, 'pod.yaml'), POD('far'));
    fs.writeFileSync(path.join(dir, 'lab.netpath.yaml'), `${HEADER}include: ["web.yaml", "../outside/pod.yaml"]\n`);
    const refused = await cli(['reach', '--format', 'json', path.join(dir, 'lab.netpath.yaml')], dir);
    assert.match(refused.err, /netpath reach: lab\.netpath\.yaml:3:\d+ error include\.outside-workspace/, refused.err);
    assert.doesNotMatch(refused.out, /far/);
    const widened = await cli(
      ['reach', '--format', 'json', '--allow-outside', outside, path.join(dir, 'lab.netpath.yaml')],
      dir,
    );
    assert.equal(widened.err, '');
    assert.match(widened.out, /default\/far/);
  });

  it('reach reads files up to --max-file-size-kb and says which it left out', async () => {
    const dir = path.join(tmp, 'rcs');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'web.yaml'), POD('web'));
    fs.writeFileSync(path.join(dir, 'big.yaml'), `${POD('big')}# ${'x'.repeat(3000)}\n`);
    const r = await cli(['reach', '--format', 'json', '--max-file-size-kb', '2', dir], tmp);
    assert.match(r.err, /netpath reach: rcs\/big\.yaml:1:1 warning file\.too-large/, r.err);
    assert.doesNotMatch(r.out, /default\/big/);
    assert.match(r.out, /default\/web/);
  });
});
