/** Replaced at build time from package.json (esbuild `define`); the fallback is for tests. */
declare const __AHC_VERSION__: string | undefined;
export const VERSION: string = typeof __AHC_VERSION__ === 'string' ? __AHC_VERSION__ : '0.0.0-dev';
export const PROGRAM = 'anycast-healthchecker';
/** What `-v` prints: the version and the Node.js it runs on (the packages carry their own). */
export const VERSION_LINE = `${VERSION} (Node.js ${process.versions.node})`;
