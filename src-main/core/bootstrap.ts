// Runs in: plain Node (core).
import type { GuestArch } from '../shared/models';
import type { HomePaths } from './paths';
import { findFirmware, findQemuBinaries } from './qemu';
import { ensureHome } from './store/home';
import { SettingsStore } from './store/settings';
import { XrayService, type ServiceOptions } from './service';

/** qemuImgPath finds qemu-img, falling back to the bare name so errors say what is missing. */
export function qemuImgPath(env: NodeJS.ProcessEnv = process.env): string {
  try {
    return findQemuBinaries({ env }).qemuImg;
  } catch {
    return 'qemu-img';
  }
}

/** efiVarsTemplateFinder finds the firmware's variable template, honouring config overrides. */
export function efiVarsTemplateFinder(paths: HomePaths, env: NodeJS.ProcessEnv = process.env) {
  return async (arch: GuestArch): Promise<string> => {
    const settings = await new SettingsStore(paths).read();
    let qemuBinary: string | undefined;
    try {
      qemuBinary = findQemuBinaries({ env }).systemFor(arch);
    } catch {
      qemuBinary = undefined;
    }
    return findFirmware(arch, { overrides: settings.firmware, qemuBinary }).varsTemplate;
  };
}

/** createService makes the service for one XRAY_HOME, creating the home if needed. */
export async function createService(
  paths: HomePaths,
  env: NodeJS.ProcessEnv = process.env,
  extra: Pick<ServiceOptions, 'builtInHooks'> = {},
): Promise<XrayService> {
  await ensureHome(paths);
  return new XrayService({ paths, qemuImg: qemuImgPath(env), efiVarsTemplate: efiVarsTemplateFinder(paths, env), ...extra });
}
