// Writes schemas/netpath.schema.json from the schema in src/core/model/schema.ts (the one source of truth).
// A unit test fails when the committed file and the TypeScript schema differ: run `npm run schema` then.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = await build({ entryPoints: [path.join(root, 'src/core/model/schema.ts')], bundle: true, write: false, format: 'esm', platform: 'neutral' });
const mod = await import('data:text/javascript;base64,' + Buffer.from(out.outputFiles[0].text).toString('base64'));
fs.mkdirSync(path.join(root, 'schemas'), { recursive: true });
fs.writeFileSync(path.join(root, 'schemas/netpath.schema.json'), JSON.stringify(mod.jsonSchema(), null, 2) + '\n');
console.log('[schema] wrote schemas/netpath.schema.json');
