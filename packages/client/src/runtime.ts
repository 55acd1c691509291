/**
 * Node's fetch streams request bodies and lets them carry Content-Length; browsers do not, and
 * there a failed request may also be a CORS refusal. Told apart by `process.versions.node`,
 * which bundlers do not fake.
 */
export function isNode(): boolean {
  const process = (globalThis as { process?: { versions?: { node?: unknown } } }).process;
  return typeof process?.versions?.node === 'string';
}
