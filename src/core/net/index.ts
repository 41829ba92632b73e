/** Addresses, prefixes and ranges: the leaf of the core that everything about CIDRs builds on. */
export * from './address';
export * from './ranges';
