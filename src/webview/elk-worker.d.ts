/** ELK's worker script, imported as its text (`with { type: 'text' }`): the topology view starts it from a blob. */
declare module 'elkjs/lib/elk-worker.min.js' {
  const source: string;
  export default source;
}
