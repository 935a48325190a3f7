import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '@ahc/errors';

const root = fileURLToPath(new URL('../../', import.meta.url));
/** The one table of codes; the only source file allowed to spell a code as a string. */
const TABLE = join('packages', 'errors', 'src', 'error-codes.ts');

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

function sourceFiles(): string[] {
  const srcDirs = [...readdirSync(join(root, 'packages')).map((p) => join(root, 'packages', p, 'src')), ...readdirSync(join(root, 'apps')).map((a) => join(root, 'apps', a, 'src'))];
  return srcDirs.flatMap(sources);
}

const doc = readFileSync(join(root, 'docs', 'errors.md'), 'utf8');
/** The codes in the first column of the tables of docs/errors.md. */
const documented = [...doc.matchAll(/^\| `(AHC_[A-Z_]+)` \|/gm)].map((m) => m[1] as string);

describe('docs/errors.md', () => {
  it('lists every error code used in the source', () => {
    const codes = new Set<string>();
    for (const file of sourceFiles()) {
      for (const m of readFileSync(file, 'utf8').matchAll(/['"](AHC_[A-Z_]+)['"]/g)) codes.add(m[1] as string);
    }
    expect(codes.size).toBeGreaterThan(10);
    const missing = [...codes].filter((c) => !doc.includes(`\`${c}\``));
    expect(missing).toEqual([]);
  });

  it('lists every code of the table in @ahc/errors, once, and nothing else', () => {
    expect(ERROR_CODES.length).toBeGreaterThan(10);
    expect(ERROR_CODES.filter((c) => !documented.includes(c))).toEqual([]);
    expect(documented.filter((c) => !ERROR_CODES.includes(c as never))).toEqual([]);
    expect(documented.filter((c, i) => documented.indexOf(c) !== i)).toEqual([]);
    expect(new Set(ERROR_CODES).size).toBe(ERROR_CODES.length);
  });

  it('has no code written as a string literal outside the table (the source uses ERR.*)', () => {
    const literals: string[] = [];
    for (const file of sourceFiles()) {
      if (relative(root, file) === TABLE) continue;
      for (const m of readFileSync(file, 'utf8').matchAll(/['"`](AHC_[A-Z_]+)['"`]/g)) literals.push(`${relative(root, file)}: ${m[1] as string}`);
    }
    expect(literals).toEqual([]);
  });

  it('has no code in the table that the source never uses', () => {
    const text = sourceFiles().filter((f) => relative(root, f) !== TABLE).map((f) => readFileSync(f, 'utf8')).join('\n');
    expect(ERROR_CODES.filter((c) => !new RegExp(`\\bERR\\.${c}\\b`).test(text))).toEqual([]);
  });

  it('has every error class extend AhcError (one shape: code, name, message)', () => {
    const plain: string[] = [];
    for (const file of sourceFiles()) {
      for (const m of readFileSync(file, 'utf8').matchAll(/class (\w+) extends (?:Error|TypeError|RangeError)\b/g)) {
        if (m[1] !== 'AhcError') plain.push(`${relative(root, file)}: ${m[1] as string}`);
      }
    }
    expect(plain).toEqual([]);
  });
});
