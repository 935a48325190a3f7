// Code comments point into docs/ for the behaviour they implement ("docs/bird.md", or with a
// section: 'docs/design.md, "Memory"'). This keeps every pointer aimed at a page, and a section,
// that exists, so a renamed heading or a moved page shows up here instead of in a reader's search.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const SOURCE = /\.(ts|mjs|sh)$/;
const SKIP = new Set(['node_modules', 'dist', '.git', 'docs']);
const POINTER = /docs\/([a-z0-9-]+\.(?:md|8))(?:, "([^"]{1,80})")?/g;

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (SKIP.has(name)) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sources(path));
    else if (SOURCE.test(name) || name === 'run') out.push(path);
  }
  return out;
}

/** The headings of a Markdown page (`## The queue` → `The queue`), backticks kept as written. */
function headings(page: string): Set<string> {
  return new Set([...readFileSync(join(root, 'docs', page), 'utf8').matchAll(/^#+ (.+)$/gm)].map((m) => (m[1] ?? '').trim()));
}

describe('pointers from the code into docs/', () => {
  const found: Array<{ at: string; page: string; section: string | undefined }> = [];
  for (const file of [...sources(join(root, 'packages')), ...sources(join(root, 'apps')), ...sources(join(root, 'test')), ...sources(join(root, 'contrib'))]) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(POINTER)) {
      // a section name may run over a comment's line break: ' * ' joins it again
      const section = m[2]?.replace(/\s*\n\s*(\*|\/\/)?\s*/g, ' ');
      found.push({ at: relative(root, file), page: m[1] ?? '', section });
    }
  }

  it('finds pointers at all (the scan itself works)', () => {
    expect(found.length).toBeGreaterThan(50);
    expect(found.some((p) => p.section !== undefined)).toBe(true);
  });

  it('name pages that exist', () => {
    const pages = new Set(readdirSync(join(root, 'docs')));
    expect(found.filter((p) => !pages.has(p.page)).map((p) => `${p.at}: docs/${p.page}`)).toEqual([]);
  });

  it('name sections that exist on their page', () => {
    const missing = found
      .filter((p) => p.section !== undefined && p.page.endsWith('.md'))
      // a section is named by its heading, or by the heading's first words
      .filter((p) => ![...headings(p.page)].some((h) => h === p.section || h.startsWith(`${p.section} `) || h.startsWith(`${p.section}:`)))
      .map((p) => `${p.at}: docs/${p.page}, "${p.section}"`);
    expect(missing).toEqual([]);
  });
});
