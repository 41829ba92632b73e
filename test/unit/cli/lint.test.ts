/**
 * The built CLI, run as a user runs it: bundled by esbuild with the options scripts/build.mjs uses for
 * dist/cli.js (into a temporary folder, so a concurrent `npm run build` cannot pull it away and the other
 * bundles need not build), then `node cli.js ...` in a child process. Exit codes 0/1/2 and the three formats.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as esbuild from 'esbuild';

const ROOT = path.resolve(__dirname, '../../..');
const FIX = path.join(ROOT, 'test/fixtures/rules');
let cli = '';
let tmp = '';

function run(args: string[], cwd = ROOT): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('cli: the built netpath', function () {
  this.timeout(60000);

  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'netpath-cli-'));
    cli = path.join(tmp, 'cli.js');
    await esbuild.build({
      absWorkingDir: ROOT,
      bundle: true,
      logLevel: 'silent',
      target: 'es2022',
      entryPoints: ['src/cli/main.ts'],
      outfile: cli,
      platform: 'node',
      format: 'cjs',
      banner: { js: '#!/usr/bin/env node' },
    });
    // The same files written as a user would have them: a clean one, one with a warning, one with an error.
    fs.writeFileSync(
      path.join(tmp, 'clean.yaml'),
      fs.readFileSync(path.join(ROOT, 'examples/two-node-lab/cluster.netpath.yaml')),
    );
    fs.writeFileSync(
      path.join(tmp, 'warn.yaml'),
      'apiVersion: netpath.dev/v1alpha1\nkind: Topology\ncluster:\n  podCIDRs: [10.244.0.1/16]\n',
    );
    fs.writeFileSync(
      path.join(tmp, 'error.yaml'),
      'apiVersion: netpath.dev/v1alpha1\nkind: Topology\ncluster:\n  podCIDRs: [10.96.0.0/16]\n  serviceCIDRs: [10.96.0.0/12]\n',
    );
    fs.mkdirSync(path.join(tmp, 'empty'));
    fs.mkdirSync(path.join(tmp, 'tree/node_modules/x'), { recursive: true });
    fs.mkdirSync(path.join(tmp, 'tree/sub'), { recursive: true });
    fs.writeFileSync(
      path.join(tmp, 'tree/sub/a.yml'),
      'apiVersion: netpath.dev/v1alpha1\nkind: Topology\ncluster:\n  podCIDRs: [10.244.0.1/16]\n',
    );
    fs.writeFileSync(
      path.join(tmp, 'tree/node_modules/x/bad.yaml'),
      'apiVersion: netpath.dev/v1alpha1\nkind: Topology\ncluster:\n  podCIDRs: [nonsense]\n',
    );
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  describe('exit codes', () => {
    it('0 when there are no diagnostics, with no output', () => {
      const r = run(['lint', 'clean.yaml'], tmp);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, '');
    });
    it('0 when there are only warnings', () => {
      const r = run(['lint', 'warn.yaml'], tmp);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /cidr\.host-bits/);
    });
    it('1 when there are errors', () => assert.equal(run(['lint', 'error.yaml'], tmp).code, 1));
    it('2 with one line and no stack trace for a missing file', () => {
      const r = run(['lint', 'missing.yaml'], tmp);
      assert.equal(r.code, 2);
      assert.equal(r.stderr.trim().split('\n').length, 1);
      assert.match(r.stderr, /missing\.yaml/);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
    });
    it('2 for usage errors: no files, unknown option, unknown format, unknown command, a folder without YAML', () => {
      for (const args of [
        ['lint'],
        ['lint', '--frobnicate', 'clean.yaml'],
        ['lint', '--format', 'xml', 'clean.yaml'],
        ['bogus'],
        ['lint', 'empty'],
      ]) {
        const r = run(args, tmp);
        assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
        assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      }
    });
  });

  describe('kubectl dumps', () => {
    it('a folder holding a kubectl -o json dump is read (package.json-like files are not)', () => {
      const dir = path.join(tmp, 'json-dump');
      fs.mkdirSync(dir, { recursive: true });
      fs.copyFileSync(
        path.join(ROOT, 'test/fixtures/real-world/kubectl-json/cluster-dump.json'),
        path.join(dir, 'dump.json'),
      );
      fs.writeFileSync(
        path.join(dir, 'tsconfig.json'),
        '{\n  // comments make this invalid YAML\n  "compilerOptions": {}\n}\n',
      );
      const r = run(['lint', 'json-dump'], tmp);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.equal(r.stdout, '');
      const t = run(['trace', 'json-dump', '--from', 'pod/default/client', '--to', 'svc/default/web:http'], tmp);
      assert.equal(t.code, 0, t.stdout + t.stderr);
      assert.match(t.stdout, /delivered to pod default\/web-/);
    });
  });

  describe('nothing to check', () => {
    it('says what was read and why nothing was checked, for RBAC and CRDs only', () => {
      const dir = path.join(tmp, 'rbac-only');
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(
        path.join(dir, 'rbac.yaml'),
        'apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: reader}\nrules: []\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: reader}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: reader}\n',
      );
      const r = run(['lint', 'rbac-only'], tmp);
      assert.equal(r.code, 0, r.stderr);
      assert.match(
        r.stdout,
        /^netpath: read 1 file\(s\) \(1 ClusterRole, 1 ClusterRoleBinding\); none is of a kind NetPath checks/,
      );
    });
    it('says so for workloads alone, which only count for the Services next to them', () => {
      const dir = path.join(tmp, 'workloads-only');
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(
        path.join(dir, 'deploy.yaml'),
        'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: web, image: nginx}]}\n',
      );
      const r = run(['lint', 'workloads-only'], tmp);
      assert.equal(r.code, 0, r.stderr);
      assert.match(
        r.stdout,
        /\(1 Deployment\); none is of a kind NetPath checks.*workloads .* only count for the Services/,
      );
      assert.equal(run(['lint', '--format', 'json', 'workloads-only'], tmp).stdout, '{\n  "diagnostics": []\n}\n');
    });
  });

  describe('arguments', () => {
    it('--help lists the commands; --version prints the package version', () => {
      const h = run(['--help']);
      assert.equal(h.code, 0);
      assert.match(h.stdout, /lint/);
      assert.match(h.stdout, /rules/);
      const v = run(['--version']);
      assert.equal(v.stdout.trim(), JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version);
      assert.match(run(['lint', '--help']).stdout, /--format text\|json\|sarif/);
    });
    it('a folder means every *.yaml/*.yml under it, skipping node_modules', () => {
      const r = run(['lint', 'tree'], tmp);
      assert.equal(r.code, 0, r.stdout);
      assert.match(r.stdout, /^tree\/sub\/a\.yml:4:14 warning cidr\.host-bits /m);
      assert.doesNotMatch(r.stdout, /node_modules|cidr\.invalid/);
    });
    it('a folder of several examples is linted one topology at a time, as the editor does (no merged duplicates)', () => {
      // Only examples/mistakes has findings (its five deliberate mistakes); the others are clean alone.
      const r = run(['lint', 'examples/']);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      const findings = r.stdout.trim().split('\n').slice(0, -1);
      assert.ok(findings.length > 0);
      for (const f of findings) assert.match(f, /^examples\/mistakes\/cluster\.netpath\.yaml:/);
      assert.doesNotMatch(r.stdout, /name\.duplicate|ip\.duplicate/);
      for (const d of fs.readdirSync(path.join(ROOT, 'examples')).filter((x) => x !== 'mistakes'))
        assert.equal(run(['lint', `examples/${d}`]).code, 0, d);
    });
    it('a manifest joins the NetPath document of its folder; a folder of plain manifests is one topology', () => {
      const dir = path.join(tmp, 'grouped');
      fs.mkdirSync(path.join(dir, 'a/apps'), { recursive: true });
      fs.mkdirSync(path.join(dir, 'b'), { recursive: true });
      const lab = fs.readFileSync(path.join(ROOT, 'examples/two-node-lab/cluster.netpath.yaml'), 'utf8');
      fs.writeFileSync(path.join(dir, 'a/cluster.netpath.yaml'), lab);
      fs.writeFileSync(path.join(dir, 'b/cluster.netpath.yaml'), lab);
      // In a's topology this Service's cluster IP is the lab's Service's: a duplicate only there.
      fs.writeFileSync(
        path.join(dir, 'a/apps/svc.yaml'),
        'apiVersion: v1\nkind: Service\nmetadata: {name: other}\nspec:\n  clusterIP: 10.96.0.10\n  selector: {app: web}\n  ports: [{port: 81, targetPort: 8080}]\n',
      );
      const r = run(['lint', 'grouped'], tmp);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      const lines = r.stdout.trim().split('\n').slice(0, -1);
      assert.ok(lines.length > 0 && lines.every((l) => l.startsWith('grouped/a/')), r.stdout);
      assert.match(r.stdout, /service\.cluster-ip-duplicate/);
      assert.doesNotMatch(r.stdout, /name\.duplicate/);
      const t = run(['trace', 'grouped', '--from', 'pod/default/client', '--to', 'svc/default/web:http'], tmp);
      assert.equal(t.code, 2);
      assert.match(
        t.stderr,
        /2 separate topologies \(grouped\/a\/cluster\.netpath\.yaml, grouped\/b\/cluster\.netpath\.yaml\)/,
      );
      assert.equal(run(['lint', 'examples/two-node-manifests']).code, 0);
    });
    it('includes are followed (the flannel fixture includes manifests/*.yaml)', () => {
      const r = run(['lint', '--format', 'json', path.join(FIX, 'clusters/flannel-host-gw/cluster.netpath.yaml')]);
      const out = JSON.parse(r.stdout) as { diagnostics: { code: string; file: string }[] };
      assert.deepEqual(
        out.diagnostics.map((d) => [d.code, d.file]),
        [['service.local-policy-drop', 'test/fixtures/rules/clusters/flannel-host-gw/manifests/app.yaml']],
      );
    });
    it('netpath rules lists every code', () => {
      const r = run(['rules']);
      assert.equal(r.code, 0);
      for (const code of ['cidr.overlap', 'route.missing', 'service.local-policy-drop', 'yaml.syntax'])
        assert.match(r.stdout, new RegExp(`^${code.replace('.', '\\.')}\\s`, 'm'));
    });
  });

  describe('formats', () => {
    it('text: file:line:col severity code message, 1-based', () => {
      const r = run(['lint', 'error.yaml'], tmp);
      // podCIDRs: [10.96.0.0/16] — line 4, the value starts at column 14.
      assert.match(r.stdout, /^error\.yaml:4:14 error cidr\.overlap Pod IPs of the cluster /m);
      assert.match(r.stdout, /^error\.yaml:5:18 error cidr\.overlap Service IPs /m);
    });

    it('json: exactly the binding shape, 0-based LSP positions, paths relative to the working directory', () => {
      const r = run(['lint', '--format', 'json', 'error.yaml'], tmp);
      assert.equal(r.code, 1);
      const out = JSON.parse(r.stdout) as Record<string, unknown>;
      assert.deepEqual(Object.keys(out), ['diagnostics']);
      const list = out.diagnostics as Record<string, unknown>[];
      assert.ok(list.length >= 2);
      const pos = (p: unknown) => {
        assert.deepEqual(Object.keys(p as object).sort(), ['character', 'line']);
        for (const v of Object.values(p as object)) assert.ok(Number.isInteger(v) && (v as number) >= 0);
      };
      const range = (r: unknown) => {
        assert.deepEqual(Object.keys(r as object).sort(), ['end', 'start']);
        pos((r as { start: unknown }).start);
        pos((r as { end: unknown }).end);
      };
      for (const d of list) {
        assert.deepEqual(Object.keys(d).sort(), ['code', 'file', 'message', 'range', 'related', 'severity']);
        assert.equal(d.file, 'error.yaml');
        range(d.range);
        for (const rel of d.related as Record<string, unknown>[]) {
          assert.deepEqual(Object.keys(rel).sort(), ['file', 'message', 'range']);
          range(rel.range);
        }
      }
      const first = list.find((d) => (d.message as string).startsWith('Pod IPs'))!;
      assert.deepEqual(first.range, { start: { line: 3, character: 13 }, end: { line: 3, character: 25 } });
      assert.deepEqual((first.related as { range: unknown }[])[0].range, {
        start: { line: 4, character: 17 },
        end: { line: 4, character: 29 },
      });
    });

    it('sarif: version 2.1.0, the schema, the rules and a result with a 1-based region', () => {
      const r = run(['lint', '--format=sarif', 'error.yaml'], tmp);
      assert.equal(r.code, 1);
      const s = JSON.parse(r.stdout);
      assert.equal(s.version, '2.1.0');
      assert.match(s.$schema, /sarif-2\.1\.0/);
      const run0 = s.runs[0];
      assert.equal(run0.tool.driver.name, 'netpath');
      const ids = run0.tool.driver.rules.map((x: { id: string }) => x.id);
      assert.ok(ids.includes('cidr.overlap') && ids.includes('yaml.syntax'));
      const res = run0.results.find((x: { message: { text: string } }) => x.message.text.startsWith('Pod IPs'));
      assert.equal(res.ruleId, 'cidr.overlap');
      assert.equal(ids[res.ruleIndex], 'cidr.overlap');
      assert.equal(res.level, 'error');
      assert.deepEqual(res.locations[0].physicalLocation.artifactLocation, { uri: 'error.yaml' });
      assert.deepEqual(res.locations[0].physicalLocation.region, {
        startLine: 4,
        startColumn: 14,
        endLine: 4,
        endColumn: 26,
      });
      assert.equal(res.relatedLocations[0].physicalLocation.region.startLine, 5);
      const warn = JSON.parse(run(['lint', '--format', 'sarif', 'warn.yaml'], tmp).stdout);
      assert.equal(warn.runs[0].results[0].level, 'warning');
    });
  });
});
