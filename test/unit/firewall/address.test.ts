import { describe, expect, it } from 'vitest';
import { canonicalIp, isHostLocal, normalizeHostname } from '../../../src-main/core/firewall/address';

describe('canonicalIp', () => {
  it.each([
    ['1.2.3.4', '1.2.3.4'],
    ['255.255.255.255', '255.255.255.255'],
    ['0.0.0.0', '0.0.0.0'],
    ['::ffff:10.0.0.1', '10.0.0.1'],
    ['0:0::ffff:a00:1', '10.0.0.1'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['fe80::1%eth0', 'fe80::1'],
  ])('%s is %s', (text, canonical) => expect(canonicalIp(text)).toBe(canonical));

  it.each(['256.1.1.1', '010.0.0.1', '1.2.3', '1.2.3.4.5', ' 1.2.3.4', '1.2.3.4\n', 'example.com', ''])('"%s" is not an address', (text) =>
    expect(canonicalIp(text)).toBeNull(),
  );
});

describe('isHostLocal and normalizeHostname', () => {
  it('treats loopback and unspecified addresses, in any spelling, as the host', () => {
    for (const ip of ['127.0.0.1', '127.9.9.9', '0.0.0.0', '::1', '::', '::ffff:127.0.0.1', '::7f00:1', '64:ff9b::7f00:1', '::ffff:0:7f00:1', '::127.0.0.1']) {
      expect(isHostLocal(ip), ip).toBe(true);
    }
    for (const ip of ['10.0.2.2', '192.0.2.1', '2001:db8::1', '64:ff9b::c000:201']) expect(isHostLocal(ip), ip).toBe(false);
  });

  it("treats the host's own interface addresses, in any spelling, as the host", () => {
    const own = new Set(['192.168.1.5', 'fd00::5']);
    for (const ip of ['192.168.1.5', '::ffff:192.168.1.5', '64:ff9b::c0a8:105', 'fd00:0::5']) expect(isHostLocal(ip, own), ip).toBe(true);
    expect(isHostLocal('192.168.1.6', own)).toBe(false);
  });

  it('lower-cases names, drops the root dot, and refuses IP literals and junk', () => {
    expect(normalizeHostname('Deb.Debian.ORG.')).toBe('deb.debian.org');
    for (const bad of ['1.2.3.4', 'a..b', 'bad name', '-x.com', `${'a'.repeat(64)}.com`]) expect(normalizeHostname(bad)).toBeNull();
  });
});
