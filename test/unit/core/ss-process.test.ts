import { expect, it } from 'vitest';
import { parseSsProcess } from '../../../src-main/core/supervisor/firewalls';

it.each([
  ['0      0      10.0.2.15:41834  10.0.2.254:8080  users:(("curl",pid=812,fd=5))\n', { pid: 812, command: 'curl' }],
  ['0 0 10.0.2.15:1 1.2.3.4:443 users:(("node",pid=77,fd=21),("node",pid=78,fd=21))', { pid: 77, command: 'node' }],
  ['', null],
  ['0 0 10.0.2.15:1 1.2.3.4:443\n', null],
])('reads the guest process from ss output %#', (text, expected) => {
  expect(parseSsProcess(text)).toEqual(expected);
});
