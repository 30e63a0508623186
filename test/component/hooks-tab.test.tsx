// @vitest-environment jsdom
// The hooks tab: every run the service kept, with its hook, source, exit code,
// duration and output, and runs as they happen.
import { act, cleanup, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { HookRun, HookRunRecord } from '../../src-main/shared/models';
import { HooksTab } from '../../src-renderer/views/vm/HooksTab';
import { FakeXrayClient, vm } from './fake-client';
import { renderWith } from './render';

afterEach(cleanup);

const run = (script: string, over: Partial<HookRun> = {}): HookRun => ({
  vm: 'dev',
  type: 'boot',
  script,
  source: 'vm',
  startedAt: '2025-01-01T10:00:00Z',
  finishedAt: '2025-01-01T10:00:02.500Z',
  exitCode: 0,
  error: null,
  ...over,
});

const kept: HookRunRecord[] = [
  { run: run('10-update.sh', { type: 'initial-boot', source: 'global' }), durationMs: 2500, output: [{ stream: 'stdout', text: 'updated 3 packages' }] },
  {
    run: run('20-deploy.sh', { startedAt: '2025-01-01T10:01:00Z', finishedAt: '2025-01-01T10:01:00.400Z', exitCode: 2, error: 'exited with code 2' }),
    durationMs: 400,
    output: [
      { stream: 'stdout', text: 'copying app' },
      { stream: 'stderr', text: 'no space left on device' },
    ],
  },
];

async function hooksTab(client: FakeXrayClient) {
  const r = renderWith(client, <HooksTab vm="dev" />);
  await act(async () => {
    await r.store.getState().load();
    await r.store.getState().loadDetail('dev');
  });
  return r;
}

const runItems = () => [...document.querySelectorAll('li.hook-run')];

describe('HooksTab', () => {
  it('lists the runs the service kept, newest first, each with its hook, source, exit code and duration', async () => {
    const client = new FakeXrayClient({ vms: [vm('dev')] });
    client.on('hooks.runs', () => kept);
    await hooksTab(client);
    const summaries = runItems().map((li) => li.querySelector('summary')!.textContent);
    expect(summaries[0]).toMatch(/^exit 2 boot 20-deploy\.sh \(vm\)400 ms · /);
    expect(summaries[1]).toMatch(/^exit 0 initial-boot 10-update\.sh \(global\)2\.5 s · /);
    expect(client.callsOf('hooks.runs')).toEqual([{ vm: 'dev', limit: 50 }]);
  });

  it('opens a failed run on its output, marking what went to stderr, and keeps a good run closed', async () => {
    const client = new FakeXrayClient({ vms: [vm('dev')] });
    client.on('hooks.runs', () => kept);
    await hooksTab(client);
    const [failed, good] = runItems();
    expect(failed!.querySelector('details')!.open).toBe(true);
    expect(good!.querySelector('details')!.open).toBe(false);
    expect(screen.getByLabelText('Output of 20-deploy.sh').textContent).toBe('copying app\nno space left on device\n');
    expect(screen.getByText('no space left on device').className).toBe('stderr');
    expect(screen.getByLabelText('Output of 10-update.sh').textContent).toBe('updated 3 packages\n');
  });

  it('shows a run as it starts, prints and finishes', async () => {
    const client = new FakeXrayClient({ vms: [vm('dev', { state: 'ready' })] });
    await hooksTab(client);
    expect(screen.getByText('No hook has run yet. Hooks run when the VM is created and each time it boots.')).toBeTruthy();
    const started = run('30-check.sh', { startedAt: '2025-01-01T11:00:00Z', finishedAt: null, exitCode: null });
    act(() => client.emit({ type: 'hook.started', run: started }));
    act(() => client.emit({ type: 'hook.output', vm: 'dev', script: '30-check.sh', stream: 'stdout', text: 'checking\n' }));
    expect(runItems()[0]!.querySelector('summary')!.textContent).toMatch(/^running… boot 30-check\.sh \(vm\)/);
    expect(screen.getByLabelText('Output of 30-check.sh').textContent).toBe('checking\n');
    act(() => client.emit({ type: 'hook.finished', run: { ...started, finishedAt: '2025-01-01T11:00:03Z', exitCode: 1, error: 'exited with code 1' } }));
    expect(runItems()[0]!.querySelector('summary')!.textContent).toMatch(/^exit 1 boot 30-check\.sh \(vm\)3\.0 s · /);
    expect(screen.getByLabelText('Output of 30-check.sh').textContent).toBe('checking\n');
  });

  it('says why a run has no exit code', async () => {
    const client = new FakeXrayClient({ vms: [vm('dev')] });
    client.on('hooks.runs', () => [{ run: run('40-slow.sh', { exitCode: null, error: 'was killed' }), durationMs: 600_000, output: [] }]);
    await hooksTab(client);
    expect(runItems()[0]!.querySelector('summary')!.textContent).toMatch(/^was killed boot 40-slow\.sh \(vm\)10 min 0 s · /);
    expect(screen.getByText('It printed nothing.')).toBeTruthy();
  });
});
