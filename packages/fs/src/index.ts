export { BirdWriteError, removeStaleTempFiles, resolveWriteTarget, writeFileAtomic } from './atomic-write';
export { isDirectory, isFile } from './file-kind';
