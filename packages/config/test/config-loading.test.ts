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

  it('says what the Python daemon says of a missing -d directory and -F file, word for word', () => {
    const tree = writeTree();
    const dir = join(tree.root, 'no-such.d');
    const dirError = expectConfigError(() => loadCompiledConfig({ file: tree.file, dir }), 'AHC_CONFIG_MISSING_DIR', []);
    expect(dirError.message).toBe(`${dir} directory with configuration files for service checks doesn't exist`);
    // A file where the directory should be is no directory either, as os.path.isdir says.
    const notDir = expectConfigError(() => loadCompiledConfig({ file: tree.file, dir: tree.file }), 'AHC_CONFIG_MISSING_DIR', []);
    expect(notDir.message).toBe(`${tree.file} directory with configuration files for service checks doesn't exist`);
    const serviceFile = join(tree.root, 'no-such.conf');
    const fileError = expectConfigError(() => loadCompiledConfig({ file: tree.file, serviceFile }), 'AHC_CONFIG_MISSING_FILE', []);
    expect(fileError.message).toBe(`${serviceFile} configuration file for a service check doesn't exist`);
  });
});
