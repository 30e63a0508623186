// ConnectionFeed on a clock of its own: a followed VM's connections are
// announced only when they changed, to everyone following, and not at all
// once nobody has asked to follow for a while.
import { afterEach, describe, expect, it } from 'vitest';
import type { XrayEvent } from '../../../src-main/shared/contract';
import type { OpenConnection } from '../../../src-main/shared/live';
import { ConnectionFeed } from '../../../src-main/core/supervisor/connection-feed';

function connection(id: number, bytesDown: number): OpenConnection {
  return {
    id,
    destination: { ip: '198.18.0.10', port: 443, name: 'example.test', nameSource: 'sni', service: 'https' },
    state: 'relaying',
    bytesUp: 100,
    bytesDown,
    openedAt: '2025-01-01T00:00:00.000Z',
    reason: 'rule example.test',
    rule: 'example.test',
  };
}

let feed: ConnectionFeed | null = null;
afterEach(() => feed?.close());

function setUp(): { now: { ms: number }; open: Map<string, OpenConnection[]>; events: XrayEvent[]; feed: ConnectionFeed } {
  const now = { ms: 0 };
  const open = new Map<string, OpenConnection[]>();
  const events: XrayEvent[] = [];
  feed = new ConnectionFeed({ connections: (vm) => open.get(vm) ?? null, emit: (e) => events.push(e), intervalMs: 3_600_000, followMs: 30_000, now: () => now.ms });
  return { now, open, events, feed };
}

describe('ConnectionFeed', () => {
  it('announces a followed VM only when its connections changed', () => {
    const { open, events, feed } = setUp();
    open.set('web', [connection(1, 10)]);
    feed.follow('web', [connection(1, 10)]);
    feed.tick();
    expect(events).toEqual([]);
    open.set('web', [connection(1, 2048)]);
    feed.tick();
    feed.tick();
    open.set('web', [connection(1, 2048), connection(2, 0)]);
    feed.tick();
    open.set('web', [connection(2, 0)]);
    feed.tick();
    expect(events.map((e) => e.type === 'firewall.connections' && e.connections.map((c) => [c.id, c.bytesDown]))).toEqual([
      [[1, 2048]],
      [[1, 2048], [2, 0]],
      [[2, 0]],
    ]);
  });

  it('announces nothing for VMs nobody follows, and says a stopped VM has nothing open', () => {
    const { open, events, feed } = setUp();
    open.set('web', [connection(1, 10)]);
    open.set('db', [connection(7, 10)]);
    feed.follow('web', [connection(1, 10)]);
    open.set('db', [connection(7, 99)]);
    open.delete('web');
    feed.tick();
    expect(events).toEqual([{ type: 'firewall.connections', vm: 'web', connections: [] }]);
  });

  it('stops once nobody has asked to follow for the follow time, and a new follower starts it again', () => {
    const { now, open, events, feed } = setUp();
    open.set('web', [connection(1, 10)]);
    feed.follow('web', [connection(1, 10)]);
    now.ms = 20_000;
    feed.follow('web', [connection(1, 10)]);
    now.ms = 45_000;
    open.set('web', [connection(1, 20)]);
    feed.tick();
    now.ms = 50_001;
    open.set('web', [connection(1, 30)]);
    feed.tick();
    expect(events).toHaveLength(1);
    feed.follow('web', [connection(1, 30)]);
    open.set('web', [connection(1, 40)]);
    feed.tick();
    expect(events).toHaveLength(2);
  });

  it('keeps what it announced last when a second follower joins, so the first still hears of a change since', () => {
    const { open, events, feed } = setUp();
    feed.follow('web', [connection(1, 10)]);
    open.set('web', [connection(1, 20)]);
    feed.follow('web', [connection(1, 20)]);
    feed.tick();
    expect(events).toHaveLength(1);
  });
});
