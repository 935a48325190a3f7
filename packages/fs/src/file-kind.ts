import { statSync } from 'node:fs';

/** Is `path` (after symlinks) a regular file? False when it cannot be looked at. */
export function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Is `path` (after symlinks) a directory? False when it cannot be looked at. */
export function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
