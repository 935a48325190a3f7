/** Test fixtures: temp directories. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export async function makeTempDir(label: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `ahc-fs-${label}-`));
}

export async function removeTempDir(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true });
}
