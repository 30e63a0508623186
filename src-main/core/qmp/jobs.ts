// Runs in: plain Node (core).
import { XrayError } from '../../shared/errors';
import type { QmpChannel } from './client';
import type { QmpEvent } from './protocol';
import { QmpDisconnectedError, QmpJobError } from './errors';

/** DEFAULT_JOB_TIMEOUT_MS bounds a snapshot job: saving RAM of a big VM takes a while. */
export const DEFAULT_JOB_TIMEOUT_MS = 300_000;

export interface SaveSnapshotOptions {
  readonly jobId: string;
  readonly tag: string;
  /** vmstateNode is the node that stores RAM and device state (the disk). */
  readonly vmstateNode: string;
  /** devices are the node names of every writable disk, UEFI vars included. */
  readonly devices: readonly string[];
  readonly timeoutMs?: number;
}

export type LoadSnapshotOptions = SaveSnapshotOptions;

export interface DeleteSnapshotOptions {
  readonly jobId: string;
  readonly tag: string;
  readonly devices: readonly string[];
  readonly timeoutMs?: number;
}

interface QueryJobsEntry {
  readonly id: string;
  readonly type: string;
  readonly status: string;
  readonly error?: string;
}

/**
 * saveSnapshot takes a live snapshot (disks, RAM, device state) as a QEMU job
 * (QEMU ≥ 6.0). The tag travels as a JSON value; nothing goes through HMP.
 */
export async function saveSnapshot(client: QmpChannel, options: SaveSnapshotOptions): Promise<void> {
  await runJob(client, options.jobId, 'snapshot-save', {
    'job-id': options.jobId,
    tag: options.tag,
    vmstate: options.vmstateNode,
    devices: [...options.devices],
  }, options.timeoutMs);
}

/**
 * loadSnapshot reverts a running VM to a live snapshot taken by saveSnapshot.
 * QEMU 7.2 leaves the VM paused (run state "restore-vm") when a load job
 * fails, so a missing tag is caught here first and the VM is not touched; after
 * any other QmpJobError the caller decides whether to `cont` or stop the VM.
 */
export async function loadSnapshot(client: QmpChannel, options: LoadSnapshotOptions): Promise<void> {
  await requireSnapshot(client, options.tag, [options.vmstateNode, ...options.devices]);
  await runJob(client, options.jobId, 'snapshot-load', {
    'job-id': options.jobId,
    tag: options.tag,
    vmstate: options.vmstateNode,
    devices: [...options.devices],
  }, options.timeoutMs);
}

/**
 * deleteSnapshot removes a snapshot from every listed device. QEMU 7.2 reports
 * success for a tag that does not exist, so the tag is checked here first.
 */
export async function deleteSnapshot(client: QmpChannel, options: DeleteSnapshotOptions): Promise<void> {
  await requireSnapshot(client, options.tag, options.devices);
  await runJob(client, options.jobId, 'snapshot-delete', {
    'job-id': options.jobId,
    tag: options.tag,
    devices: [...options.devices],
  }, options.timeoutMs);
}

/** requireSnapshot throws unless every node in `nodeNames` holds a snapshot named `tag`. */
async function requireSnapshot(client: QmpChannel, tag: string, nodeNames: readonly string[]): Promise<void> {
  const nodes = await listBlockNodes(client);
  for (const name of nodeNames) {
    const node = findNode(nodes, name);
    if (!node?.snapshots.some((snapshot) => snapshot.name === tag)) {
      const device = node ? node.device || node.qdev || node.nodeName : name;
      throw new XrayError('not-found', `There is no snapshot "${tag}" on the VM's device "${device}"; list the VM's snapshots to see which exist.`);
    }
  }
}

/**
 * runJob starts a job and waits for it to conclude. It listens for
 * JOB_STATUS_CHANGE before sending the command because a short job can
 * conclude before its command's reply arrives; query-jobs then tells whether
 * it failed, and job-dismiss removes it so the id can be used again.
 */
async function runJob(
  client: QmpChannel,
  jobId: string,
  command: string,
  args: Record<string, unknown>,
  timeoutMs = DEFAULT_JOB_TIMEOUT_MS,
): Promise<void> {
  const stopWaiting = new AbortController();
  const concluded = client.waitForEvent(
    'JOB_STATUS_CHANGE',
    (event: QmpEvent) => event.data.id === jobId && event.data.status === 'concluded',
    timeoutMs,
    stopWaiting.signal,
  );
  try {
    await client.execute(command, args);
  } catch (err) {
    concluded.catch(() => undefined);
    stopWaiting.abort();
    throw err;
  }
  await concluded;
  const jobs = await client.execute<QueryJobsEntry[]>('query-jobs');
  const job = jobs.find((entry) => entry.id === jobId);
  await client.execute('job-dismiss', { id: jobId });
  if (job?.error !== undefined) throw new QmpJobError(jobId, job.type, job.error);
}

/** BlockNode is one block device attached to the VM, as query-block reports it. */
export interface BlockNode {
  /** device is the drive id (`-drive id=` or `pflash0`), empty with -blockdev. */
  readonly device: string;
  /** qdev is the guest device's id or QOM path. */
  readonly qdev: string;
  readonly nodeName: string;
  /** driver is the format driver of the top node: qcow2, raw, … */
  readonly driver: string;
  readonly readOnly: boolean;
  readonly filename: string;
  readonly snapshots: readonly InternalSnapshot[];
}

/** InternalSnapshot is a snapshot stored inside a qcow2 image. */
export interface InternalSnapshot {
  readonly id: string;
  readonly name: string;
  readonly date: Date;
  /** vmStateSize is the bytes of RAM and device state; 0 for a disk-only snapshot. */
  readonly vmStateSize: number;
  readonly vmClockNs: number;
}

interface QueryBlockImage {
  readonly filename?: string;
  readonly snapshots?: readonly {
    readonly id: string;
    readonly name: string;
    readonly 'date-sec': number;
    readonly 'date-nsec': number;
    readonly 'vm-state-size': number;
    readonly 'vm-clock-sec': number;
    readonly 'vm-clock-nsec': number;
  }[];
}

interface QueryBlockEntry {
  readonly device: string;
  readonly qdev?: string;
  readonly inserted?: {
    readonly 'node-name': string;
    readonly drv: string;
    readonly ro: boolean;
    readonly file: string;
    readonly image: QueryBlockImage;
  };
}

/** listBlockNodes lists the VM's block devices that have media, with their top node names. */
export async function listBlockNodes(client: QmpChannel): Promise<BlockNode[]> {
  const entries = await client.execute<QueryBlockEntry[]>('query-block');
  const nodes: BlockNode[] = [];
  for (const entry of entries) {
    const inserted = entry.inserted;
    if (!inserted) continue;
    nodes.push({
      device: entry.device,
      qdev: entry.qdev ?? '',
      nodeName: inserted['node-name'],
      driver: inserted.drv,
      readOnly: inserted.ro,
      filename: inserted.file,
      snapshots: (inserted.image.snapshots ?? []).map((snapshot) => ({
        id: snapshot.id,
        name: snapshot.name,
        date: new Date(snapshot['date-sec'] * 1000 + Math.floor(snapshot['date-nsec'] / 1e6)),
        vmStateSize: snapshot['vm-state-size'],
        vmClockNs: snapshot['vm-clock-sec'] * 1e9 + snapshot['vm-clock-nsec'],
      })),
    });
  }
  return nodes;
}

function findNode(nodes: readonly BlockNode[], name: string): BlockNode | undefined {
  return nodes.find((node) => node.device === name || node.nodeName === name || node.qdev === name);
}

export interface SnapshotNodes {
  readonly vmstateNode: string;
  readonly devices: readonly string[];
}

/**
 * snapshotNodes picks what a live snapshot must cover: every writable node,
 * with VM state stored on `vmstateDevice` (a drive id, qdev id or node name).
 * A writable node that is not qcow2 (such as a raw UEFI vars file) cannot hold
 * a snapshot, and leaving it out would let load mix old RAM with new
 * variables, so it is refused here with a clear message.
 */
export function snapshotNodes(nodes: readonly BlockNode[], vmstateDevice: string): SnapshotNodes {
  const vmstate = findNode(nodes, vmstateDevice);
  if (!vmstate) {
    throw new XrayError('not-found', `The VM has no block device "${vmstateDevice}" to store the snapshot's memory on; check the VM's disk configuration.`);
  }
  const writable = nodes.filter((node) => !node.readOnly);
  const unsupported = writable.find((node) => node.driver !== 'qcow2');
  if (unsupported) {
    throw new XrayError(
      'unsupported',
      `The writable ${unsupported.driver} device "${unsupported.device || unsupported.qdev}" cannot hold snapshots; convert it to qcow2 to take live snapshots.`,
    );
  }
  return { vmstateNode: vmstate.nodeName, devices: writable.map((node) => node.nodeName) };
}

/** querySnapshots lists the internal snapshots on one device (drive id, qdev id or node name). */
export async function querySnapshots(client: QmpChannel, device: string): Promise<InternalSnapshot[]> {
  const node = findNode(await listBlockNodes(client), device);
  if (!node) {
    throw new XrayError('not-found', `The VM has no block device "${device}"; check the VM's disk configuration.`);
  }
  return [...node.snapshots];
}

/** QmpRunStatus is query-status: whether the guest CPUs run and QEMU's run state. */
export interface QmpRunStatus {
  readonly running: boolean;
  readonly status: string;
}

/** queryStatus reports QEMU's run state (running, paused, shutdown, …). */
export async function queryStatus(client: QmpChannel): Promise<QmpRunStatus> {
  const status = await client.execute<QmpRunStatus>('query-status');
  return { running: status.running, status: status.status };
}

/** stop pauses the guest CPUs. */
export async function stop(client: QmpChannel): Promise<void> {
  await client.execute('stop');
}

/** cont resumes paused guest CPUs. */
export async function cont(client: QmpChannel): Promise<void> {
  await client.execute('cont');
}

/** powerdown presses the ACPI power button; the guest decides whether to shut down. */
export async function powerdown(client: QmpChannel): Promise<void> {
  await client.execute('system_powerdown');
}

/**
 * quit makes QEMU exit at once. QEMU may close the socket before its reply
 * arrives, so a disconnect counts as success; it resolves once the connection
 * has ended.
 */
export async function quit(client: QmpChannel): Promise<void> {
  try {
    await client.execute('quit');
  } catch (err) {
    if (!(err instanceof QmpDisconnectedError)) throw err;
  }
  await client.closed;
}
