/**
 * nft listings made comparable: the lines as printed, except that a set's elements (which the kernel may list in
 * another order: hash sets) become one sorted line. Used by the unit fixtures of nft's own printout and by the kernel
 * tier's comparison with the nft on the machine.
 */
export function comparableListing(text: string): string[] {
  const out: string[] = [];
  let elements: string[] | undefined;
  let head = '';
  for (const raw of text.replace(/\s+$/, '').split('\n')) {
    const line = raw.trimEnd();
    if (elements === undefined) {
      const at = line.indexOf('elements = { ');
      if (at < 0) {
        out.push(line);
        continue;
      }
      head = line.slice(0, at);
      elements = [];
      const rest = line.slice(at + 'elements = { '.length);
      if (rest.endsWith(' }')) {
        elements.push(...rest.slice(0, -2).split(', '));
        out.push(`${head}elements = { ${elements.sort().join(', ')} }`);
        elements = undefined;
      } else elements.push(...rest.replace(/,$/, '').split(', '));
      continue;
    }
    const rest = line.trim();
    if (rest.endsWith(' }')) {
      elements.push(...rest.slice(0, -2).split(', '));
      out.push(`${head}elements = { ${elements.sort().join(', ')} }`);
      elements = undefined;
    } else elements.push(...rest.replace(/,$/, '').split(', '));
  }
  return out;
}
