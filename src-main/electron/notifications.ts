// Runs in: plain Node (pure; the Electron main process shows what this returns).
import { basename } from 'node:path';
import type { XrayEvent } from '../shared/contract';

/** NotificationSpec is a desktop notification as plain data; `vm` lets a click open the right view. */
export interface NotificationSpec {
  readonly kind: 'crash' | 'hook-failed' | 'prompt';
  readonly vm: string;
  readonly title: string;
  readonly body: string;
}

function destinationLabel(dest: { readonly name: string | null; readonly ip: string | null; readonly port: number }): string {
  return `${dest.name ?? dest.ip ?? 'an unknown host'}:${dest.port}`;
}

/**
 * notificationFor decides whether an event deserves a desktop notification:
 * a crashed VM, a failed hook or a waiting firewall prompt, and only while no
 * Xray window is visible (a visible window already shows the same thing).
 */
export function notificationFor(event: XrayEvent, context: { readonly anyWindowVisible: boolean }): NotificationSpec | null {
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
      return {
        kind: 'prompt',
        vm: prompt.vm,
        title: `"${prompt.vm}" wants to connect to ${destinationLabel(prompt.destination)}`,
        body: `A connection${who} is waiting for your answer.`,
      };
    }
    default:
      return null;
  }
}
