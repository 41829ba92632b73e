/**
 * Tables looked up with words from the input (an iptables target, an nftables keyword, a protocol name). A plain
 * object literal inherits Object.prototype, so a word like `constructor`, `toString` or `__proto__` would find a
 * function there and the caller would use it as the table's value (issue 17: `-j constructor` and `constructor
 * saddr 1.2.3.4` crashed the ruleset parsers). A table made here has no prototype: such a word finds nothing.
 */
export function lookupTable<T>(entries: { readonly [key: string]: NoInfer<T> }): Readonly<Record<string, T>> {
  const table: Record<string, T> = Object.create(null);
  // Object.assign copies own enumerable keys only, and defines them as plain data (a `__proto__` key stays a key).
  return Object.assign(table, entries);
}

/** The value `key` names in a table built by anything (a plain object included): its own keys only. */
export function ownValue<T>(table: { readonly [key: string]: T }, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

/**
 * Whether `value` (read from input: a word, an option, a field) is one of `allowed`: a type guard, so the caller
 * gets the narrow type from the check itself rather than from a cast next to it.
 */
export function isOneOf<T extends string>(allowed: Iterable<T>, value: unknown): value is T {
  if (typeof value !== 'string') return false;
  // A scan: the lists are a few words long, and it needs no cast to compare a string with them.
  for (const word of allowed) if (word === value) return true;
  return false;
}
