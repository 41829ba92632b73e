/**
 * A command reads each of its files from disk once: checking that the arguments can be read, grouping them into
 * topologies and loading each group all ask for the same files (a cluster dump of 30 MB was read three times).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadEntries, nodeFileHost, readOnceHost, topologiesOf } from '../../../src/lab/files';
import { loadTopologyFiles, type FileHost } from '../../../src/core';
import { parseYamlFile } from '../../../src/core/syntax/yaml';
import { lint } from '../../../src/cli/commands/lint';
import { takeWork } from '../../../src/core/work';

describe('lab: files read once per command', () => {
  let tmp = '';
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'netpath-read-once-'));
    fs.writeFileSync(
      path.join(tmp, 'cluster.netpath.yaml'),
      'apiVersion: netpath.dev/v1alpha1\nkind: Topology\ncluster:\n  podCIDRs: [10.244.0.0/16]\n',
    );
    fs.writeFileSync(
      path.join(tmp, 'app.yaml'),
      'apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  selector: {app: web}\n  ports: [{port: 80}]\n',
    );
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('reads every file of a folder argument once through grouping and loading, with the same texts', async () => {
    const reads = new Map<string, number>();
    const counting: FileHost = {
      ...nodeFileHost,
      readFile(p) {
        reads.set(path.basename(p), (reads.get(path.basename(p)) ?? 0) + 1);
        return nodeFileHost.readFile(p);
      },
    };
    const files = readOnceHost(counting);
    const groups = await topologiesOf([tmp], tmp, {}, [], files);
    assert.equal(groups.length, 1);
    const loaded = await loadEntries(groups[0].entries, [tmp], tmp, {}, files);
    assert.deepEqual(loaded.files.map((f) => path.basename(f.path)).sort(), ['app.yaml', 'cluster.netpath.yaml']);
    assert.deepEqual(Object.fromEntries(reads), { 'app.yaml': 1, 'cluster.netpath.yaml': 1 });
    assert.equal(
      loaded.files.find((f) => f.path.endsWith('app.yaml'))?.text,
      fs.readFileSync(path.join(tmp, 'app.yaml'), 'utf8'),
    );
  });

  it('parses a file that says `include` once: loading looks into it, lint analyses that parse', async () => {
    // A NetPath document that includes a manifest, and a manifest whose Ingress mentions `include` (an nginx
    // snippet): grouping loads the document and parses it for its includes, lint loads it again and analyses both
    // files. The document was parsed at each of those steps, and the manifest twice (four parses of two files).
    const dir = fs.mkdtempSync(path.join(tmp, 'include-'));
    fs.writeFileSync(
      path.join(dir, 'cluster.netpath.yaml'),
      'apiVersion: netpath.dev/v1alpha1\nkind: Topology\ninclude: [app.yaml]\ncluster:\n  podCIDRs: [10.244.0.0/16]\n',
    );
    fs.writeFileSync(
      path.join(dir, 'app.yaml'),
      [
        'apiVersion: networking.k8s.io/v1',
        'kind: Ingress',
        'metadata:',
        '  name: web',
        '  annotations:',
        '    nginx.ingress.kubernetes.io/configuration-snippet: "include /etc/nginx/extra.conf;"',
        'spec:',
        '  rules: [{http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}}]',
        '---',
        'apiVersion: v1',
        'kind: Service',
        'metadata: {name: web}',
        'spec:',
        '  clusterIP: 10.96.0.10',
        '  clusterIP: 10.96.0.11',
        '  selector: {app: web}',
        '  ports: [{port: 80}]',
        '',
      ].join('\n'),
    );
    let out = '';
    takeWork();
    await lint.run(['--format', 'json', dir], { cwd: dir, out: (s) => (out += s), err: () => {} });
    assert.equal(takeWork().yamlTextsParsed, 2);
    // The analysis read the parse it was given: the manifest's own problem (a key written twice) is reported.
    const codes = (JSON.parse(out) as { diagnostics: { code: string; file: string }[] }).diagnostics.map(
      (d) => `${path.basename(d.file)} ${d.code}`,
    );
    assert.ok(codes.includes('app.yaml yaml.duplicate-key'), codes.join(', '));
  });

  it('does not parse a manifest that says `include` to look for includes: only NetPath documents have them', async () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'manifest-'));
    fs.writeFileSync(
      path.join(dir, 'app.yaml'),
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: nginx}\ndata: {nginx.conf: "include mime.types;"}\n',
    );
    const parsed: string[] = [];
    const host: FileHost = {
      ...nodeFileHost,
      parse: (file) => {
        parsed.push(path.basename(file.path));
        return parseYamlFile(file.path, file.text);
      },
    };
    const loaded = await loadTopologyFiles([path.join(dir, 'app.yaml')], host, undefined, { roots: [dir] });
    assert.deepEqual(
      loaded.files.map((f) => path.basename(f.path)),
      ['app.yaml'],
    );
    assert.deepEqual(parsed, []);
  });

  it('still refuses an argument that cannot be read', async () => {
    await assert.rejects(topologiesOf([path.join(tmp, 'missing.yaml')], tmp, {}, [], readOnceHost()), /cannot read/);
  });
});
