/**
 * Checks a NetPath document against the schema in `schema.ts`: unknown keys (with a "did you mean"
 * suggestion) and values of the wrong type. The model builder then reads values leniently: a value that
 * failed here is treated as absent, so one mistake produces one problem, not a cascade.
 */
import { problem, type Problem, type QuickFix } from '../problem';
import type { YMap, YNode, YSeq } from '../syntax/yaml';
import { resolvePlain } from '../syntax/plain';
import type { SchemaNode } from './schema';
import { work } from '../work';

/** Levenshtein distance, small strings only (keys). */
export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j];
      prev[j] = Math.min(
        prev[j] + 1,
        prev[j - 1] + 1,
        diag + (a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1),
      );
      diag = tmp;
    }
  }
  return prev[b.length];
}

export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(word, c);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

type ValueType = 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean' | 'null';

function typeOfScalar(v: string | number | boolean | null): ValueType {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return 'boolean';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return 'string';
}

/** Whether a schema's `type` (one name or a list) names `t`. */
const hasType = (type: SchemaNode['type'], t: string): boolean => (Array.isArray(type) ? type.includes(t) : type === t);

const article = (t: string) => (/^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`);
const typeName = (t: string) => (t === 'object' ? 'mapping' : t === 'array' ? 'list' : t);

export function validateAgainstSchema(node: YNode, schema: SchemaNode, path: string, problems: Problem[]): void {
  validate(node, planOf(schema), { prefix: path, segments: [] }, problems);
}

/**
 * A schema node prepared for the check, made once per schema node and kept: its fields' plans by key, and whether
 * any scalar at all passes it. A topology's pods are most of its values, and asking the schema object each time
 * (an own-property test and a keyed read per key, a resolve and a type test per plain value) was the check's work.
 */
class Plan {
  /**
   * No scalar value is ever reported here: any type passes (a string field takes numbers and booleans as text, and
   * a null where no collection is expected), no enum, no bounds. A value kept as text is then not even resolved.
   */
  readonly acceptsEveryScalar: boolean;
  /** A mapping, or a list, is of a type this schema allows (the type test reports nothing for it). */
  readonly acceptsMap: boolean;
  readonly acceptsList: boolean;
  /** Unknown keys are reported (a schema that declares its properties, or forbids others). */
  readonly reportsUnknownKeys: boolean;
  /** The declared properties (own keys only: a key named `constructor` is no property). */
  private readonly fields = new Map<string, Field>();
  /** additionalProperties' plan when it is a schema. */
  private readonly extra: Field | undefined;
  readonly items: Plan | undefined;
  /** The bits of every required key (see {@link Field.requiredBit}). */
  readonly requiredBits: number;
  /** Some required key has no bit (not a declared property): the mapping is always searched for each. */
  readonly requiredUnmarked: boolean;
  constructor(readonly schema: SchemaNode) {
    const type = schema.type;
    this.acceptsEveryScalar =
      schema.enum === undefined &&
      schema.minimum === undefined &&
      schema.maximum === undefined &&
      (type === undefined || hasType(type, 'string'));
    this.acceptsMap = type === undefined || hasType(type, 'object');
    this.acceptsList = type === undefined || hasType(type, 'array');
    this.reportsUnknownKeys = schema.additionalProperties === false || schema.properties !== undefined;
    // Every plan below this one is made now (a schema is a tree, its shared parts made once): a plan never changes
    // after it is made.
    const declared = schema.properties ?? NO_PROPERTIES;
    const required = schema.required ?? [];
    let requiredBits = 0;
    for (const key of Object.keys(declared)) {
      const at = required.indexOf(key);
      const requiredBit = at >= 0 && at < 31 ? 1 << at : 0;
      requiredBits |= requiredBit;
      this.fields.set(key, { plan: planOf(declared[key]), requiredBit });
    }
    this.requiredBits = requiredBits;
    this.requiredUnmarked = required.some((key, at) => at >= 31 || !this.fields.has(key));
    const extra = schema.additionalProperties;
    this.extra = typeof extra === 'object' ? { plan: planOf(extra), requiredBit: 0 } : undefined;
    this.items = schema.items ? planOf(schema.items) : undefined;
  }
  /** The value of `key` in a mapping of this schema: a declared property, else additionalProperties. */
  field(key: string): Field | undefined {
    return this.fields.get(key) ?? this.extra;
  }
}

/** A field of a mapping's plan: its value's plan, and its bit when the mapping requires it (else 0). */
interface Field {
  readonly plan: Plan;
  /**
   * The mapping's walk marks the required keys it meets, so a mapping that has them all is not searched again for
   * each (every pod, container and port of a topology has its required keys).
   */
  readonly requiredBit: number;
}

const plans = new WeakMap<SchemaNode, Plan>();
function planOf(schema: SchemaNode): Plan {
  let plan = plans.get(schema);
  if (!plan) plans.set(schema, (plan = new Plan(schema)));
  return plan;
}

/**
 * Where a node is, as the messages write it (`pods[3].containers[0].name`): the keys and indexes from the root,
 * kept on one stack and written out only for a node that has a problem, so a large topology's walk builds no
 * string per node.
 */
interface Path {
  readonly prefix: string;
  readonly segments: (string | number)[];
}

function pathText(path: Path): string {
  let text = path.prefix;
  for (const s of path.segments) text = typeof s === 'number' ? `${text}[${s}]` : text === '' ? s : `${text}.${s}`;
  return text;
}

/** The properties of a schema that declares none (one object, not one per mapping checked). */
const NO_PROPERTIES: NonNullable<SchemaNode['properties']> = {};

/**
 * The node a problem points at: `where` itself (index -1), or the value of entry `index` of the mapping `where`. A
 * mapping of the fast reader keeps a plain value as its text (see nodes.ts), and the check reads that text with no
 * node made: a node is made only for a value with a problem.
 */
function nodeOf(where: YNode, index: number): YNode {
  return index >= 0 && where.kind === 'map' ? where.valueAt(index) : where;
}

/**
 * Whether a value of type `actual` may stand where `schema` is; reports it when not (at the node `nodeOf(where, index)`
 * gives). A null is accepted where no collection is expected.
 */
function typeFits(
  actual: ValueType,
  schema: SchemaNode,
  at: Path,
  problems: Problem[],
  where: YNode,
  index: number,
): boolean {
  const type = schema.type;
  if (
    type === undefined ||
    (Array.isArray(type) ? type.includes(actual) : type === actual) ||
    (actual === 'null' && !hasType(type, 'object') && !hasType(type, 'array'))
  )
    return true;
  const allowed: readonly string[] = Array.isArray(type) ? type : [type as string];
  // Numbers written where strings are expected (e.g. `name: 1`) are accepted: YAML users rarely mean a type error there.
  const numberAsString =
    allowed.includes('string') && (actual === 'integer' || actual === 'number' || actual === 'boolean') && !schema.enum;
  if (numberAsString) return true;
  problems.push(
    problem(
      'schema.type',
      'error',
      `${pathText(at)} must be ${allowed.map((t) => article(typeName(t))).join(' or ')}, not ${article(typeName(actual))}.`,
      nodeOf(where, index).span,
    ),
  );
  return false;
}

/** A scalar's value against its schema: type, enum, and the bounds of an integer. */
function validateScalar(
  value: string | number | boolean | null,
  schema: SchemaNode,
  at: Path,
  problems: Problem[],
  where: YNode,
  index: number,
): void {
  work.schemaValuesResolved++;
  if (!typeFits(typeOfScalar(value), schema, at, problems, where, index)) return;
  const allowedValues = schema.enum;
  if (allowedValues && value !== null && !allowedValues.some((allowed) => allowed === value)) {
    const node = nodeOf(where, index);
    const suggestion = typeof value === 'string' ? closest(value, allowedValues.map(String)) : undefined;
    const fixes: QuickFix[] = suggestion
      ? [{ title: `Change to '${suggestion}'`, edits: [{ span: node.span, newText: suggestion }], preferred: true }]
      : [];
    problems.push(
      problem(
        'schema.type',
        'error',
        `${pathText(at)} must be one of ${allowedValues.map((e) => `'${e}'`).join(', ')}, not '${String(value)}'.${suggestion ? ` Did you mean '${suggestion}'?` : ''}`,
        node.span,
        [],
        fixes,
      ),
    );
    return;
  }
  if (
    typeof value === 'number' &&
    Number.isInteger(value) &&
    ((schema.minimum !== undefined && value < schema.minimum) ||
      (schema.maximum !== undefined && value > schema.maximum))
  ) {
    problems.push(
      problem(
        'schema.type',
        'error',
        `${pathText(at)} must be between ${schema.minimum ?? '-∞'} and ${schema.maximum ?? '∞'}, not ${value}.`,
        nodeOf(where, index).span,
      ),
    );
  }
}

function validate(node: YNode, plan: Plan, at: Path, problems: Problem[]): void {
  // One function per kind of node: each stays small and sees one kind of node (a scalar met late in a large file
  // no longer throws away the optimised code of the walk).
  if (node.kind === 'scalar') {
    if (!plan.acceptsEveryScalar) validateScalar(node.value, plan.schema, at, problems, node, -1);
  } else if (node.kind === 'map') {
    if (plan.acceptsMap || typeFits('object', plan.schema, at, problems, node, -1))
      validateMap(node, plan, at, problems);
  } else if (plan.acceptsList || typeFits('array', plan.schema, at, problems, node, -1)) {
    const items = plan.items;
    if (items) validateList(node, items, at, problems);
  }
}

function validateMap(node: YMap, plan: Plan, at: Path, problems: Problem[]): void {
  // By index: the mapping's entry objects are made only for a key the schema does not know.
  const size = node.size;
  let requiredSeen = 0;
  for (let i = 0; i < size; i++) {
    const key = node.keyAt(i);
    const field = plan.field(key);
    if (!field) {
      if (plan.reportsUnknownKeys) unknownKey(node, i, plan.schema, at, problems);
      continue;
    }
    requiredSeen |= field.requiredBit;
    const child = field.plan;
    // A value kept as text is checked as its resolved value, with no node made for it (and not resolved at all
    // where every scalar passes).
    const plain = node.plainAt(i);
    if (plain !== undefined && child.acceptsEveryScalar) continue;
    at.segments.push(key);
    if (plain !== undefined) validateScalar(resolvePlain(plain), child.schema, at, problems, node, i);
    else validate(node.valueAt(i), child, at, problems);
    at.segments.pop();
  }
  const required = plan.schema.required;
  // Searched for only when the walk did not meet every required key.
  if (required && (requiredSeen !== plan.requiredBits || plan.requiredUnmarked)) {
    work.requiredKeySearches++;
    for (const req of required) {
      if (node.indexOf(req) < 0) {
        problems.push(
          problem('schema.type', 'error', `${pathText(at) || 'The document'} needs '${req}'.`, {
            ...node.span,
            end: Math.min(node.span.end, node.span.start + 1),
          }),
        );
      }
    }
  }
}

function validateList(node: YSeq, items: Plan, at: Path, problems: Problem[]): void {
  const list = node.items;
  for (let i = 0; i < list.length; i++) {
    at.segments.push(i);
    validate(list[i], items, at, problems);
    at.segments.pop();
  }
}

/** Reports entry `i` of `node`, a key `schema` does not know, with the closest known key as a suggestion. */
function unknownKey(node: YMap, i: number, schema: SchemaNode, at: Path, problems: Problem[]): void {
  const e = node.entryAt(i);
  const names = Object.keys(schema.properties ?? NO_PROPERTIES);
  const suggestion = closest(e.key, names);
  const fixes: QuickFix[] = suggestion
    ? [{ title: `Rename to '${suggestion}'`, edits: [{ span: e.keySpan, newText: suggestion }], preferred: true }]
    : [];
  problems.push(
    problem(
      'schema.unknown-key',
      'warning',
      `Unknown key '${e.key}' in ${pathText(at)}.${suggestion ? ` Did you mean '${suggestion}'?` : ` Known keys: ${names.join(', ')}.`}`,
      e.keySpan,
      [],
      fixes,
    ),
  );
}
