// What answers a guest's DNS questions: the host's own resolver by default
// (hosts file included), or the servers a setting names.
import { describe, expect, it } from 'vitest';
import { guestResolver, hostResolver, parseDnsServer } from '../../../src-main/core/firewall/dns';

describe('parseDnsServer', () => {
  it.each([
    ['198.18.0.53', '198.18.0.53'],
    [' 198.18.0.53:5353 ', '198.18.0.53:5353'],
    ['2001:DB8::53', '[2001:db8::53]'],
    ['[2001:db8::53]:53', '[2001:db8::53]:53'],
    ['dns.example.com', null],
    ['1.2.3.4:0', null],
    ['1.2.3.4:65536', null],
    ['[1.2.3.4', null],
  ])('%j → %j', (text, expected) => {
    expect(parseDnsServer(text)).toBe(expected);
  });
});

describe('hostResolver', () => {
  it('answers from the host hosts file, as the host itself would', async () => {
    expect(await hostResolver().resolve4('localhost')).toEqual([{ address: '127.0.0.1', ttl: 60 }]);
  });

  it('says "no data" for a family a name lacks, not "no such name"', async () => {
    await expect(hostResolver().resolve6('localhost')).rejects.toMatchObject({ code: 'ENODATA' });
  });

  it('says "no such name" for a name nothing resolves', async () => {
    await expect(hostResolver().resolve4('no-such-host.invalid')).rejects.toMatchObject({ code: 'ENOTFOUND' });
  });
});

describe('guestResolver', () => {
  it('refuses an XRAY_DNS_SERVERS entry that is not an address, in one sentence naming it', () => {
    expect(() => guestResolver([], { XRAY_DNS_SERVERS: '198.18.0.53,resolver.lan' })).toThrow(
      '"resolver.lan" in XRAY_DNS_SERVERS is not a DNS server address; give IP or IP:PORT.',
    );
  });

  it('prefers XRAY_DNS_SERVERS to the setting', () => {
    expect(() => guestResolver(['198.18.0.53'], { XRAY_DNS_SERVERS: 'bad' })).toThrow(/XRAY_DNS_SERVERS/);
    expect(() => guestResolver(['198.18.0.53'], {})).not.toThrow();
  });
});
