/**
 * Language features over an analysis, for any editor: outline, Go to Definition, Find References,
 * completion of reference values and trace CodeLens data. Offsets in, spans out; no editor types.
 */
export { documentSymbols, flattenSymbols, type DocumentSymbol, type DocumentSymbolKind } from './symbols';
export { definitionsAt, referencesAt, occurrencesOf } from './navigation';
export { completionsAt, type CompletionItem, type CompletionKind } from './completion';
export { traceLenses, type TraceLens } from './lenses';
export type { Occurrence, OccurrenceRole } from './occurrences';
