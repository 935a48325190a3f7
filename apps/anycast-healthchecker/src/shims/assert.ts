/**
 * Stands in for Node's `assert` inside the bundle (esbuild alias in scripts/build.mjs). yargs
 * imports `strictEqual` and `notStrictEqual` from it for its own invariants; loading Node's
 * `assert` (with its diff and call-tracker modules) costs the daemon about 1 MiB resident for
 * its whole life. These two throw an error named `AssertionError` with Node's code, as Node's do.
 */
/** Node's shape (name, code), for yargs' sake; not one of the daemon's errors (docs/errors.md). */
function failed(message: string): Error {
  return Object.assign(new Error(message), { name: 'AssertionError', code: 'ERR_ASSERTION' });
}

export function strictEqual(actual: unknown, expected: unknown, message?: string | Error): void {
  if (Object.is(actual, expected)) return;
  if (message instanceof Error) throw message;
  throw failed(message ?? `Expected values to be strictly equal: ${String(actual)} !== ${String(expected)}`);
}

export function notStrictEqual(actual: unknown, expected: unknown, message?: string | Error): void {
  if (!Object.is(actual, expected)) return;
  if (message instanceof Error) throw message;
  throw failed(message ?? `Expected "actual" to be strictly unequal to: ${String(expected)}`);
}
