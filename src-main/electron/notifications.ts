// Runs in: plain Node (pure; the Electron main process shows what this returns).
import { basename } from 'node:path';
import type { XrayEvent } from '../shared/contract';
import { describeEgressReport } from '../shared/egress';
import { questionText } from '../shared/format';

/**
 * NotificationSpec is a desktop notification as plain data; `vm` lets a
 * click open the right view, and notices with the same `repeatKey` are
 * shown once per REPEAT_QUIET_MS (RepeatGate).
 */
export interface NotificationSpec {
  readonly kind: 'crash' | 'hook-failed' | 'prompt' | 'secret-refused' | 'error';
  /** vm is the VM concerned; null for an error of Xray's own that names no VM as a field (its text may). */
  readonly vm: string | null;
  readonly title: string;
  readonly body: string;
  readonly repeatKey?: string;
}

/** NotificationContext is what the app's windows show now. */
export interface NotificationContext {
  readonly anyWindowVisible: boolean;
  /** anyWindowFocused: the user is looking at Xray, whose window shows a refused secret itself. */
  readonly anyWindowFocused?: boolean;
}

function destinationLabel(dest: { readonly name: string | null; readonly ip: string | null; readonly port: number }): string {
  return `${dest.name ?? dest.ip ?? 'an unknown host'}:${dest.port}`;
}

/**
 * notificationFor decides whether an event deserves a desktop notification:
 * a crashed VM, a failed hook, a waiting firewall prompt or an error Xray
 * logged (a VM autostart could not start) while no Xray window is visible
 * (a visible window already shows the same thing), and a
 * secret refused on its way out (an exfiltration attempt) while no Xray
 * window has the focus: a window behind others shows its notice unseen.
 */
export function notificationFor(event: XrayEvent, context: NotificationContext): NotificationSpec | null {
  if (event.type === 'egress.report') {
    const { report } = event;
    if (report.kind !== 'secret-refused' || context.anyWindowFocused) return null;
    return {
      kind: 'secret-refused',
      vm: report.vm,
      title: `Xray kept secret "${report.secret}" from ${report.host}`,
      body: `${describeEgressReport(report)} Open Xray to allow it there or keep refusing.`,
      repeatKey: [report.vm, report.secret, report.host, report.place].join(' '),
    };
  }
  if (context.anyWindowVisible) return null;
  switch (event.type) {
    case 'vm.state': {
      if (event.state !== 'crashed') return null;
      const crash = event.crash;
      const how = crash?.signal ? `was killed by ${crash.signal}` : crash?.exitCode != null ? `exited with code ${crash.exitCode}` : 'stopped unexpectedly';
      return { kind: 'crash', vm: event.vm, title: `VM "${event.vm}" crashed`, body: `QEMU ${how}. Open Xray to see its console.` };
    }
    case 'hook.finished': {
      const run = event.run;
      if (run.error === null && (run.exitCode === 0 || run.exitCode === null)) return null;
      const script = basename(run.script);
      const why = run.error ?? `exited with code ${run.exitCode}`;
      return { kind: 'hook-failed', vm: run.vm, title: `A ${run.type} hook failed on "${run.vm}"`, body: `${script} ${why}.` };
    }
    case 'prompt.opened': {
      const { prompt } = event;
      const who = prompt.guestProcess ? ` (${prompt.guestProcess.command})` : '';
      if (prompt.request) {
        return { kind: 'prompt', vm: prompt.vm, title: `"${prompt.vm}" wants to send ${questionText(prompt)}`, body: `A request${who} is waiting for your answer.` };
      }
      return {
        kind: 'prompt',
        vm: prompt.vm,
        title: `"${prompt.vm}" wants to connect to ${destinationLabel(prompt.destination)}`,
        body: `A connection${who} is waiting for your answer.`,
      };
    }
    case 'log':
      // A failed hook's error comes with its hook.finished, notified above.
      if (event.level !== 'error' || event.source === 'hooks') return null;
      return { kind: 'error', vm: null, title: event.source === 'autostart' ? 'A VM did not start' : 'Xray ran into a problem', body: event.message, repeatKey: event.message };
    default:
      return null;
  }
}

/** REPEAT_QUIET_MS is how long a notice stays quiet after it was shown: a program retrying in a loop makes one notification a minute, not one per try. */
export const REPEAT_QUIET_MS = 60_000;

/** RepeatGate lets a notification with a repeatKey through once per REPEAT_QUIET_MS; others always pass. */
export class RepeatGate {
  private readonly lastShown = new Map<string, number>();

  allows(spec: NotificationSpec, now: number): boolean {
    if (spec.repeatKey === undefined) return true;
    const last = this.lastShown.get(spec.repeatKey);
    if (last !== undefined && now - last < REPEAT_QUIET_MS) return false;
    this.lastShown.set(spec.repeatKey, now);
    return true;
  }
}
