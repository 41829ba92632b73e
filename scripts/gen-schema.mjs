// Writes schemas/netpath.schema.json from the schema in src/core/model/schema.ts (the one source of truth),
// and schemas/trace.schema.json (what `netpath trace --format json` prints) from the types in
// src/core/trace/types.ts (scripts/lib/trace-schema.mjs).
// Unit tests fail when a committed file and its TypeScript source differ: run `npm run schema` then.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { traceSchema } from './lib/trace-schema.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = await build({
  entryPoints: [path.join(root, 'src/core/model/schema.ts')],
  bundle: true,
  write: false,
  format: 'esm',
  platform: 'neutral',
});
const mod = await import('data:text/javascript;base64,' + Buffer.from(out.outputFiles[0].text).toString('base64'));
fs.mkdirSync(path.join(root, 'schemas'), { recursive: true });
fs.writeFileSync(path.join(root, 'schemas/netpath.schema.json'), JSON.stringify(mod.jsonSchema(), null, 2) + '\n');
console.log('[schema] wrote schemas/netpath.schema.json');
fs.writeFileSync(path.join(root, 'schemas/trace.schema.json'), JSON.stringify(traceSchema(root), null, 2) + '\n');
console.log('[schema] wrote schemas/trace.schema.json');

// The key reference of docs/topology-format.md, from the same schema.
const rows = [];
const walk = (node, at) => {
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    const p = at ? `${at}.${key}` : key;
    const type = Array.isArray(child.type) ? child.type.join(' \\| ') : (child.type ?? '');
    const extra = [
      child.enum ? `one of ${child.enum.map((e) => `\`${e}\``).join(', ')}` : '',
      child.default !== undefined ? `default \`${JSON.stringify(child.default)}\`` : '',
    ]
      .filter(Boolean)
      .join('; ');
    rows.push(
      `| \`${p}\` | ${type}${child.items?.type ? ` of ${child.items.type}` : ''} | ${(child.description ?? '').replace(/\|/g, '\\|')}${extra ? ` (${extra})` : ''} |`,
    );
    walk(child, p);
    if (child.items) walk(child.items, `${p}[]`);
  }
};
walk(mod.TOPOLOGY_SCHEMA, '');
const docPath = path.join(root, 'docs/topology-format.md');
const doc = fs.readFileSync(docPath, 'utf8');
const table = ['| Key | Type | Meaning |', '|---|---|---|', ...rows].join('\n');
fs.writeFileSync(
  docPath,
  doc.replace(/<!-- keys:start -->[\s\S]*<!-- keys:end -->/, `<!-- keys:start -->\n${table}\n<!-- keys:end -->`),
);
console.log(`[schema] wrote the key reference of docs/topology-format.md (${rows.length} keys)`);
