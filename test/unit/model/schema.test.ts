import { nodeRoutes } from '../../../src/core/model/host-gw';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { jsonSchema } from '../../../src/core';
import { TOPOLOGY_SCHEMA, type SchemaNode } from '../../../src/core/model/schema';
import { analyseYaml, codes } from './helpers';

describe('schema', () => {
  it('the shipped JSON Schema is generated from the TypeScript schema (run `npm run schema` when this fails)', () => {
    const shipped = JSON.parse(fs.readFileSync(path.join(__dirname, '../../../schemas/netpath.schema.json'), 'utf8'));
    assert.deepEqual(shipped, JSON.parse(JSON.stringify(jsonSchema())));
  });

  it('every key has a description for a person learning cluster networking', () => {
    const missing: string[] = [];
    const walk = (node: SchemaNode, at: string) => {
      for (const [k, v] of Object.entries(node.properties ?? {})) {
        if (!v.description || v.description.length < 12) missing.push(`${at}.${k}`);
        walk(v, `${at}.${k}`);
      }
      if (node.items) walk(node.items, `${at}[]`);
    };
    walk(TOPOLOGY_SCHEMA, '');
    assert.deepEqual(missing, []);
  });

  const example = (name: string) => {
    const dir = path.join(__dirname, '../../../examples', name);
    return analyseYaml(
      Object.fromEntries(
        fs
          .readdirSync(dir)
          .filter((f) => f.endsWith('.yaml'))
          .map((f) => [path.join(dir, f), fs.readFileSync(path.join(dir, f), 'utf8')]),
      ),
    );
  };

  for (const name of ['two-node-lab', 'two-node-manifests', 'dual-stack']) {
    it(`the bundled example ${name} reads without problems`, () => {
      const a = example(name);
      assert.deepEqual(codes(a), []);
      assert.ok(a.topology.pods.length >= 2 && a.topology.services.length >= 1);
    });
  }

  it('the lab as plain manifests gives the same plumbing as the lab in the NetPath format', () => {
    const essentials = (name: string) => {
      const t = example(name).topology;
      return {
        nodes: t.nodes.map((n) => [
          n.name,
          n.podCIDRs,
          n.bridge?.name,
          n.bridge?.addresses,
          n.interfaces.map((i) => i.addresses),
          nodeRoutes(t, n).map((r) => `${r.to} via ${r.via}`),
        ]),
        pods: t.pods.map((p) => [p.id, p.node, p.ips, p.hostVeth]),
        services: t.services.map((s) => [
          s.id,
          s.type,
          s.clusterIPs,
          s.endpoints.map((e) => `${e.ip}:${Object.values(e.ports)}`),
        ]),
        cluster: [
          t.cluster.podCIDRs,
          t.cluster.serviceCIDRs,
          t.cluster.kubeProxy.localDetector,
          t.cluster.cni.hairpinMode,
        ],
      };
    };
    assert.deepEqual(essentials('two-node-manifests'), essentials('two-node-lab'));
  });
});

describe('docs/topology-format.md', () => {
  it('documents every key of the schema (run `npm run schema` when this fails)', () => {
    const doc = fs.readFileSync(path.join(__dirname, '../../../docs/topology-format.md'), 'utf8');
    const missing: string[] = [];
    const walk = (node: SchemaNode, at: string) => {
      for (const [k, v] of Object.entries(node.properties ?? {})) {
        const p = at ? `${at}.${k}` : k;
        if (!doc.includes(`| \`${p}\` |`)) missing.push(p);
        walk(v, p);
        if (v.items) walk(v.items, `${p}[]`);
      }
    };
    walk(TOPOLOGY_SCHEMA, '');
    assert.deepEqual(missing, []);
  });
});
