import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compileConfig, loadCompiledConfig, loadConfigDocument } from '../src/index';
import { expectConfigError, removeTempDirs, sourcesOf, writeTree } from './fixture';

afterAll(removeTempDirs);

describe('loadCompiledConfig', () => {
  it('is load then compile, with the document and files read', () => {
    const tree = writeTree();
    const loaded = loadCompiledConfig(sourcesOf(tree));
    const { document, files } = loadConfigDocument(sourcesOf(tree));
    expect(loaded.files).toEqual(files);
    expect(loaded.document).toEqual(document);
    expect(loaded.config).toEqual(compileConfig(document, files));
  });

  it('passes the compile options on and throws what loading throws', () => {
    const tree = writeTree({ 'web.conf': '[web]\ncheck_cmd = /nonexistent/check\nip_prefix = 10.52.12.1/32\n' });
    expect(loadCompiledConfig(sourcesOf(tree), { filesystem: false }).config.services[0]?.checkCmd.argv).toEqual(['/nonexistent/check']);
    const missing = join(tree.root, 'nope.conf');
    expectConfigError(() => loadCompiledConfig({ file: missing, dir: tree.dir }), 'AHC_CONFIG_MISSING_FILE', [missing]);
  });
});
