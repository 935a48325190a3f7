#!/usr/bin/env node
// Thin launcher: the program is the esbuild bundle next to it (built by `pnpm run build`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const bundle = new URL('../dist/main.mjs', import.meta.url);
if (!existsSync(fileURLToPath(bundle))) {
  process.stderr.write(`anycast-healthchecker is not built: ${fileURLToPath(bundle)} is missing; run "pnpm run build"\n`);
  process.exit(1);
}
await import(bundle.href);
