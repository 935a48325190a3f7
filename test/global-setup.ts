import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Integration tests run the bundled program and worker entry: build them once, fresh (1 s). */
export default function setup(): void {
  const app = fileURLToPath(new URL('../apps/anycast-healthchecker/', import.meta.url));
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: app, stdio: 'inherit' });
}
