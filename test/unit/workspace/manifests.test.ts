/**
 * Which files the editor and the command line treat as Kubernetes manifests to analyse (issue 11: workloads,
 * Endpoints, policies; `kubectl get -o json` dumps, but no other JSON).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { groupOf, isManifestFile, kubernetesJsonKind, looksLikeManifest } from '../../../src/core';

const ROOT = path.resolve(__dirname, '../../..');
const DUMP = path.join(ROOT, 'test/fixtures/real-world/kubectl-json/cluster-dump.json');

describe('workspace: files that look like manifests', () => {
  for (const kind of [
    'Service',
    'Endpoints',
    'Deployment',
    'StatefulSet',
    'DaemonSet',
    'CronJob',
    'NetworkPolicy',
    'Namespace',
  ])
    it(`a ${kind}`, () => assert.ok(looksLikeManifest(`apiVersion: v1\nkind: ${kind}\nmetadata: {name: x}\n`)));
  it('not RBAC, a CRD, or a Helm values file', () => {
    assert.ok(!looksLikeManifest('apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\n'));
    assert.ok(!looksLikeManifest('apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n'));
    assert.ok(!looksLikeManifest('replicaCount: 1\nimage:\n  repository: nginx\n'));
  });
});

describe('workspace: JSON files that are Kubernetes objects (kubectl get -o json)', () => {
  it('a kubectl List dump is read, its kind found after the items (kubectl sorts the keys)', () => {
    const text = fs.readFileSync(DUMP, 'utf8');
    assert.ok(text.indexOf('"kind": "List"') > text.indexOf('"items"'));
    assert.equal(kubernetesJsonKind(text), 'List');
    assert.ok(isManifestFile('/w/cluster-dump.json', text));
  });

  it('a single object (kubectl get service web -o json) is read, also as a JSON document with another name', () => {
    const svc =
      '{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"}, "spec": {"ports": [{"port": 80}]}}';
    assert.ok(isManifestFile('/w/web.json', svc));
    assert.ok(isManifestFile('/w/web-service', svc, true));
  });

  it('a dump cut short or broken is still read (its syntax error is then reported, not skipped)', () => {
    const text = fs.readFileSync(DUMP, 'utf8');
    // The first 4 KB, as the command line's folder walk reads them: the List's own kind comes after its items.
    assert.equal(kubernetesJsonKind(text.slice(0, 4096)), 'Node');
    assert.ok(isManifestFile('/w/d.json', text.slice(0, 4096)));
    assert.ok(isManifestFile('/w/d.json', text.replace('"items": [', '"items" [')));
    assert.ok(!isManifestFile('/w/d.json', '{"name": "x", "dependencies": {"kind": "Pod"'));
  });

  it('a dump broken after its kind (the user is typing) is still read', () => {
    assert.ok(isManifestFile('/w/d.json', '{\n  "apiVersion": "v1",\n  "kind": "Pod",\n  "spec": {"containers": [\n'));
  });

  it('JSON of kinds NetPath does not read, and JSON that only names kinds deeper down, are not read', () => {
    assert.ok(!isManifestFile('/w/role.json', '{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole"}'));
    // A JSON Schema of a Kubernetes type names its kind inside x-kubernetes-group-version-kind, not at the top.
    const schema = JSON.stringify({
      description: 'Service is a named abstraction',
      properties: { apiVersion: { type: 'string' }, kind: { type: 'string', enum: ['Service'] } },
      'x-kubernetes-group-version-kind': [{ group: '', kind: 'Service', version: 'v1' }],
    });
    assert.ok(!isManifestFile('/w/service-v1.json', schema));
    // A nested object with apiVersion and kind (a trace request, a Helm values file) is not a top-level object.
    assert.ok(!isManifestFile('/w/x.json', '{"object": {"apiVersion": "v1", "kind": "Pod"}, "kind": "Pod"}'));
    assert.ok(!isManifestFile('/w/list.json', '[{"apiVersion": "v1", "kind": "Pod"}]'));
    assert.ok(!isManifestFile('/w/x.json', '{"apiVersion": 1, "kind": "Pod"}'));
  });

  it('no JSON file of this repository but the dumps is read (package.json, tsconfig, schemas, trace goldens)', () => {
    const found: string[] = [];
    const walk = (dir: string) => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        if (['node_modules', '.git', '.vscode-test', 'dist', 'out', 'test-output'].includes(e.name)) continue;
        const p = path.join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.name.endsWith('.json') && isManifestFile(p, fs.readFileSync(p, 'utf8'))) found.push(p);
      }
    };
    walk(ROOT);
    const rel = found.map((f) => path.relative(ROOT, f).split(path.sep).join('/'));
    assert.ok(rel.includes('package.json') === false);
    assert.deepEqual(
      rel.filter((f) => !/cluster-dump\.json$/.test(f)),
      [],
      'only kubectl dumps are Kubernetes JSON here',
    );
    assert.ok(rel.includes('test/fixtures/real-world/kubectl-json/cluster-dump.json'));
  });

  it('never throws, whatever the text', () => {
    for (const t of ['', '{', '{"', '{"a":', '{"a": "\\', '{"a": [}', '\uFEFF{"apiVersion":"v1","kind":"Pod"}', '}{'])
      assert.equal(typeof isManifestFile('/w/x.json', t), 'boolean', t);
    assert.ok(isManifestFile('/w/x.json', '\uFEFF{"apiVersion":"v1","kind":"Pod"}'));
  });
});

describe('workspace: the topology that reports on a file (groupOf)', () => {
  const groups = [
    { entries: ['/w/b/pods.yaml', '/w/b/one.netpath.yaml', '/w/b/two.netpath.yaml'], files: ['/w/b/pods.yaml'] },
    { entries: ['/w/b/one.netpath.yaml'], files: ['/w/b/one.netpath.yaml', '/w/b/k8s/inc.yaml'] },
    { entries: ['/w/b/two.netpath.yaml'], files: ['/w/b/two.netpath.yaml', '/w/b/k8s/inc.yaml'] },
  ];
  it("a NetPath document's own topology, even when a group with more entries comes first", () =>
    assert.equal(groupOf(groups, '/w/b/one.netpath.yaml'), groups[1]));
  it('a manifest: the group it is an entry of; an included file: the first group that reads it', () => {
    assert.equal(groupOf(groups, '/w/b/pods.yaml'), groups[0]);
    assert.equal(groupOf(groups, '/w/b/k8s/inc.yaml'), groups[1]);
    assert.equal(groupOf(groups, '/w/other.yaml'), undefined);
  });
});
