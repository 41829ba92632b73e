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

  it('the bundled examples use only declared keys and produce no problems', () => {
    const dir = path.join(__dirname, '../../../examples/two-node-lab');
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.yaml')).map((f) => ({ [path.join(dir, f)]: fs.readFileSync(path.join(dir, f), 'utf8') }));
    const a = analyseYaml(Object.assign({}, ...files));
    assert.deepEqual(codes(a), []);
    assert.ok(a.topology.pods.length >= 3);
  });
});
