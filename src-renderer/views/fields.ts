// Runs in: renderer. How the forms check a VM's settings as they are typed:
// with the contract's own schemas (requestSchemas) and the shared layer's
// port rule, so the forms refuse exactly what the service would, in its
// words. No limit is written here.
import type { ZodType } from 'zod';
import { requestSchemas } from '../../src-main/shared/contract';
import type { PortMapping } from '../../src-main/shared/models';
import { parsePortMapping, portMappingProblem } from '../../src-main/shared/vm';

/** VmSetting is a setting both the create dialog and the settings editor take. */
export type VmSetting = 'memoryMb' | 'cpus' | 'sshUser';

type VmForm = 'vm.create' | 'vm.update';

/** settingValue is a setting as the API takes it: a number for memory and CPUs (null when the text is not a whole number), else the text. */
function settingValue(setting: VmSetting, text: string): number | string | null {
  if (setting === 'sshUser') return text;
  const trimmed = text.trim();
  return /^\d+$/.test(trimmed) ? Number(trimmed) : null;
}

/**
 * settingProblem checks one setting as typed against the schema `form`'s
 * request has for it; null when the service would take it, else one
 * sentence. Of several complaints it gives the schema's own, which comes
 * after zod's built-in ones (a number too big to be exact gets both).
 */
export function settingProblem(form: VmForm, setting: VmSetting, text: string): string | null {
  const value = settingValue(setting, text);
  if (value === null) return setting === 'memoryMb' ? 'Memory must be a whole number of MB.' : 'CPUs must be a whole number.';
  const schema: ZodType = requestSchemas[form].shape[setting];
  const parsed = schema.safeParse(value);
  if (parsed.success) return null;
  return sentence(parsed.error.issues.at(-1)?.message ?? 'This value is not accepted');
}

/** sentence makes a schema's message a sentence: "a VM needs at least 128 MB of memory" → "A VM needs at least 128 MB of memory." */
function sentence(text: string): string {
  const trimmed = text.trim();
  return `${trimmed.charAt(0).toUpperCase()}${trimmed.slice(1)}${/[.!?]$/.test(trimmed) ? '' : '.'}`;
}

/** parsePortList reads "8080:80, 2222:22" (commas or spaces between): the mappings, or the sentence for the first that is not HOST:GUEST. */
export function parsePortList(text: string): { ports: PortMapping[]; problem: string | null } {
  const ports: PortMapping[] = [];
  for (const part of text.split(/[,\s]+/).filter(Boolean)) {
    const mapping = parsePortMapping(part);
    if (!mapping) return { ports, problem: portMappingProblem(part) };
    ports.push(mapping);
  }
  return { ports, problem: null };
}
