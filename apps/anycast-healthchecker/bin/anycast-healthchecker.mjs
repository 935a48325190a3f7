#!/bin/sh
//bin/true; d=$(dirname "$(readlink -f "$0")"); n="$d/../../../.runtime/bin/node"; [ -x "$n" ] || n=node; exec "$n" --jitless --lite-mode --max-semi-space-size=1 "$0" "$@"
// The two lines above are both shell and JavaScript. Run as a program (directly, or by pnpm's
// .bin shim), sh reads them: it runs this same file on the Node.js the checkout pinned
// (.runtime/bin/node, which the README's commands fetch), or on the `node` in PATH when there is
// none, with the flags below. The machine's own node may be an older one (Debian 12 has 18, this
// kind of box 20): it would run a Node.js past its end of life, and with --jitless Node 20 and 22
// print a V8 warning on stderr that operators' scripts would read as the daemon's. `node FILE`
// reads them as JavaScript: the second is a comment, and that node runs the rest.
// Thin launcher: the program is the esbuild bundle next to it (built by `pnpm run build`).
// --jitless in the exec above: V8 only interprets. The
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
