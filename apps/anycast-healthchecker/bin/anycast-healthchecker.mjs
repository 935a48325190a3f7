#!/usr/bin/env -S node --jitless --lite-mode --max-semi-space-size=1
// Thin launcher: the program is the esbuild bundle next to it (built by `pnpm run build`).
// --jitless in the line above (env -S; pnpm's .bin shim copies it): V8 only interprets. The
// daemon runs little JavaScript, and without the JIT each thread, one per check by default, needs
// about 1.8 MiB less memory and the daemon less CPU (measured: docs/design.md, "Memory").
// --lite-mode: V8's own trade of performance for memory (its flag's words): a thread that runs
// checks is about 1.4 MiB smaller, for more CPU in per-service mode (docs/design.md, "Memory").
// --max-semi-space-size=1 caps the main thread's young generation at 1 MiB per semi-space (the
// workers' is set by their resourceLimits): 3 MiB less resident with 100 services, no measurable
// CPU (docs/design.md, "Memory").
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const bundle = new URL('../dist/main.mjs', import.meta.url);
if (!existsSync(fileURLToPath(bundle))) {
  process.stderr.write(`anycast-healthchecker is not built: ${fileURLToPath(bundle)} is missing; run "pnpm run build"\n`);
  process.exit(1);
}
await import(bundle.href);
