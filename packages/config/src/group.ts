import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * The gid of a group name (or a numeric gid as written), or null when this host has no such
 * group. /etc/group first, then `getent group` for groups from NSS (LDAP, sssd). Node has no
 * getgrnam, and the control socket needs the gid for chown (docs/operations.md, "Control").
 */
export function resolveGroup(name: string, groupFile = '/etc/group'): number | null {
  if (/^\d+$/.test(name)) return Number(name);
  const fromLines = (text: string): number | null => {
    for (const line of text.split('\n')) {
      const [group, , gid] = line.split(':');
      if (group === name && gid !== undefined && /^\d+$/.test(gid)) return Number(gid);
    }
    return null;
  };
  try {
    const gid = fromLines(readFileSync(groupFile, 'utf8'));
    if (gid !== null) return gid;
  } catch {
    // no readable group file: ask NSS below
  }
  const r = spawnSync('getent', ['group', name], { encoding: 'utf8', timeout: 2000 });
  return r.status === 0 ? fromLines(r.stdout) : null;
}
