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
    for (const ip of ['127.0.0.1', '127.9.9.9', '0.0.0.0', '::1', '::', '::ffff:127.0.0.1']) expect(isHostLocal(ip)).toBe(true);
    for (const ip of ['10.0.2.2', '192.0.2.1', '2001:db8::1']) expect(isHostLocal(ip)).toBe(false);
  });

  it('lower-cases names, drops the root dot, and refuses IP literals and junk', () => {
    expect(normalizeHostname('Deb.Debian.ORG.')).toBe('deb.debian.org');
    for (const bad of ['1.2.3.4', 'a..b', 'bad name', '-x.com', `${'a'.repeat(64)}.com`]) expect(normalizeHostname(bad)).toBeNull();
  });
});
