// Runs in: plain Node (core).
import type { SnapshotInfo } from '../../shared/models';
import { XrayError } from '../../shared/errors';
import { createSnapshot, deleteSnapshot, listSnapshots, revertSnapshot, type QemuImg } from '../images';
import { validateName } from '../names';
import type { HomePaths } from '../paths';
import type { VmConfig } from '../store/vm-config';
import { VmStore } from '../store/vm-store';
import { readLivePid } from './runtime';

/**
 * OfflineSnapshots takes disk-only snapshots of a stopped VM with qemu-img.
 * Both the disk and the UEFI variable store are snapshotted together, as a
 * live snapshot does, so reverting restores the firmware settings too.
 */
export class OfflineSnapshots {
  private readonly vms: VmStore;

  constructor(
    private readonly paths: HomePaths,
    private readonly qemuImg: QemuImg,
  ) {
    this.vms = new VmStore(paths);
  }

  private async images(vm: string): Promise<string[]> {
    validateName('VM', vm);
    await this.vms.read(vm);
    if (readLivePid(this.paths.vm(vm))) {
      throw new XrayError('in-use', `VM "${vm}" is running under another Xray process; use the Xray app or "xray daemon" that runs it.`);
    }
    const paths = this.paths.vm(vm);
    return [paths.disk, paths.efiVars];
  }

  async list(vm: string): Promise<SnapshotInfo[]> {
    const config = await this.vms.read(validateName('VM', vm));
    return describeSnapshots(config, await listSnapshots([this.paths.vm(vm).disk], { qemuImg: this.qemuImg, vm }));
  }

  async create(vm: string, name: string, description?: string): Promise<SnapshotInfo> {
    validateName('snapshot', name);
    const images = await this.images(vm);
    await createSnapshot(images, name, { qemuImg: this.qemuImg, vm });
    if (description) {
      await this.vms.update(vm, (cfg) => {
        cfg.snapshots = { ...cfg.snapshots, [name]: { description } };
      });
    }
    const created = (await this.list(vm)).find((s) => s.name === name);
    if (!created) throw new XrayError('internal', `Snapshot "${name}" of VM "${vm}" was not found after it was taken.`);
    return created;
  }

  async revert(vm: string, name: string): Promise<void> {
    validateName('snapshot', name);
    await revertSnapshot(await this.images(vm), name, { qemuImg: this.qemuImg, vm });
  }

  async remove(vm: string, name: string): Promise<void> {
    validateName('snapshot', name);
    await deleteSnapshot(await this.images(vm), name, { qemuImg: this.qemuImg, vm });
    await this.vms.update(vm, (cfg) => {
      const { [name]: _dropped, ...rest } = cfg.snapshots;
      cfg.snapshots = rest;
    });
  }
}

/** describeSnapshots adds what vm.toml says of each snapshot found on the disk: its description, and whether Xray took it by itself. */
export function describeSnapshots(config: VmConfig, found: readonly SnapshotInfo[]): SnapshotInfo[] {
  return found.map((s) => ({ ...s, description: config.snapshots[s.name]?.description ?? null, auto: config.snapshots[s.name]?.auto === true }));
}
