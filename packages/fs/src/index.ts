export { BirdWriteError, removeStaleTempFiles, replaceFileAtomic, resolveWriteTarget, writeFileAtomic } from './atomic-write';
export type { ReplacedFile } from './atomic-write';
export { isDirectory, isFile } from './file-kind';
