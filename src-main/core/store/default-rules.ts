// Runs in: plain Node (core).
import { statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { XrayError } from '../../shared/errors';
import type { HomePaths } from '../paths';
import { writeFileAtomic } from './toml-file';

/**
 * default-firewall-rules.conf lists domain suffixes every VM may reach without
 * a prompt: one per line, `#` starts a comment, blank lines are ignored. The
 * format is the Python tool's, so its files load unchanged.
 */

/** DEFAULT_RULE_DOMAINS are package mirrors and code hosts a fresh VM needs to install software. */
export const DEFAULT_RULE_DOMAINS: readonly string[] = [
  'deb.debian.org',
  'security.debian.org',
  'archive.ubuntu.com',
  'security.ubuntu.com',
  'ports.ubuntu.com',
  'github.com',
  'githubusercontent.com',
  'pypi.org',
  'files.pythonhosted.org',
  'registry.npmjs.org',
  'npmjs.org',
  'crates.io',
  'static.crates.io',
  'proxy.golang.org',
  'sum.golang.org',
  'rubygems.org',
];

const HEADER = `# Xray default firewall rules.
#
# Every VM may connect to these domains and all their sub-domains without
# asking. Write one domain per line; lines starting with # are comments.
# Delete a line to be asked about that domain again.
`;

export function defaultRulesText(): string {
  return `${HEADER}\n${DEFAULT_RULE_DOMAINS.join('\n')}\n`;
}

/** ensureDefaultRules writes the default rules file on first run and leaves an existing one alone. */
export async function ensureDefaultRules(paths: HomePaths): Promise<void> {
  // Synchronous, as ensureHome: the file nearly always exists.
  if (statSync(paths.defaultFirewallRules, { throwIfNoEntry: false }) !== undefined) return;
  await writeFileAtomic(paths.defaultFirewallRules, defaultRulesText(), 0o600);
}

const LABEL = /^(?!-)[a-z0-9_-]{1,63}(?<!-)$/;

/**
 * readDefaultRules returns the domain suffixes in the file, lower-cased and
 * without duplicates. A leading "*." or "." is accepted and dropped, since a
 * suffix already covers sub-domains. A missing file means no defaults.
 */
export async function readDefaultRules(paths: HomePaths): Promise<string[]> {
  const file = paths.defaultFirewallRules;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const domains: string[] = [];
  text.split(/\r?\n/).forEach((line, index) => {
    const entry = line.replace(/#.*$/, '').trim();
    if (entry === '') return;
    const domain = entry.toLowerCase().replace(/^\*?\./, '').replace(/\.$/, '');
    const labels = domain.split('.');
    if (domain.length > 253 || !labels.every((label) => LABEL.test(label))) {
      throw new XrayError(
        'corrupt',
        `${file} line ${index + 1}: "${entry}" is not a domain name; write one domain per line such as example.com, or remove that line.`,
      );
    }
    if (!domains.includes(domain)) domains.push(domain);
  });
  return domains;
}
