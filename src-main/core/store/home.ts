// Runs in: plain Node (core).
import { mkdirSync } from 'node:fs';
import type { HomePaths } from '../paths';
import { HOOK_TYPES } from '../../shared/enums';
import { ensureDefaultRules } from './default-rules';

/**
 * ensureHome creates XRAY_HOME and its directories, private to the user (0700),
 * then the default firewall rules. Directories that already exist keep the
 * mode the user gave them. Every command starts here, and the directories
 * nearly always exist: a synchronous mkdir each costs a system call, where an
 * asynchronous one also costs a thread-pool round trip.
 */
export async function ensureHome(paths: HomePaths): Promise<void> {
  const dirs = [
    paths.root,
    paths.basesDir,
    paths.vmsDir,
    paths.scriptsDir,
    ...HOOK_TYPES.map((type) => paths.globalScripts(type)),
    paths.pluginsDir,
  ];
  for (const dir of dirs) mkdirSync(dir, { recursive: true, mode: 0o700 });
  await ensureDefaultRules(paths);
}
