/** The JSON Schema of a trace, generated from src/core/trace/types.ts (see trace-schema.mjs). */
export function traceSchema(root: string): Record<string, unknown>;
