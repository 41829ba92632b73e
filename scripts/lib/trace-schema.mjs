// The JSON Schema of a trace (`netpath trace --format json`), generated from the TypeScript types of
// src/core/trace/types.ts, so the schema and the code can never say different things. Each field's doc comment
// becomes its description. Used by scripts/gen-schema.mjs and by the unit test that checks the shipped file.
import path from 'node:path';
import { createGenerator } from 'ts-json-schema-generator';

export function traceSchema(root) {
  const generated = createGenerator({
    path: path.join(root, 'src/core/trace/types.ts'),
    tsconfig: path.join(root, 'tsconfig.json'),
    type: 'TraceResult',
    skipTypeCheck: true,
    additionalProperties: false,
    sortProps: true,
  }).createSchema('TraceResult');
  return {
    $schema: generated.$schema,
    $id: 'https://netpath.dev/schemas/trace.schema.json',
    title: 'NetPath trace',
    description:
      'What `netpath trace --format json` prints: the flow asked about and one path per possible outcome, each with its hops and their typed steps (docs/trace-format.md). Generated from src/core/trace/types.ts by `npm run schema`.',
    $ref: generated.$ref,
    definitions: generated.definitions,
  };
}
