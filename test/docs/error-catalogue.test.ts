import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

describe('docs/errors.md', () => {
  it('lists every error code used in the source', () => {
    const srcDirs = [...readdirSync(join(root, 'packages')).map((p) => join(root, 'packages', p, 'src')), ...readdirSync(join(root, 'apps')).map((a) => join(root, 'apps', a, 'src'))];
    const codes = new Set<string>();
    for (const file of srcDirs.flatMap(sources)) {
      for (const m of readFileSync(file, 'utf8').matchAll(/['"](AHC_[A-Z_]+)['"]/g)) codes.add(m[1] as string);
    }
    expect(codes.size).toBeGreaterThan(10);
    const doc = readFileSync(join(root, 'docs', 'errors.md'), 'utf8');
    const missing = [...codes].filter((c) => !doc.includes(`\`${c}\``));
    expect(missing).toEqual([]);
  });
});
