// The quick TOML reader must answer exactly what @iarna/toml answers, or null
// (so the full parser runs): checked on files Xray writes, on a table of
// awkward inputs, and on thousands of seeded random edits of them.
import TOML from '@iarna/toml';
import { describe, expect, it } from 'vitest';
import { parseToml, stringifyToml } from '../../../src-main/core/store/toml-file';
import { parseSimpleToml } from '../../../src-main/core/store/toml-simple';
import { parseVmConfig, serializeVmConfig } from '../../../src-main/core/store/vm-config';

/** fullParse is the full parser's answer, or 'error' when it refuses the text. */
function fullParse(text: string): unknown {
  try {
    return TOML.parse(text);
  } catch {
    return 'error';
  }
}

/** agrees says the quick reader gave up, or gave what the full parser gives. */
function expectAgreement(text: string): void {
  const quick = parseSimpleToml(text);
  if (quick === null) return;
  expect(fullParse(text), JSON.stringify(text)).toEqual(quick);
}

const WRITTEN = [
  stringifyToml(serializeVmConfig(parseVmConfig({ base: 'noble', memory: 2048, cpus: 2, ports: ['8080:80', '2200:22'], ssh_port: 2222, ssh_user: 'ubuntu' }, 'vm.toml'))),
  stringifyToml({
    base: 'debian-12.1',
    memory: 256,
    cpus: 1,
    ports: [],
    ssh_port: 2301,
    ssh_user: 'root',
    firewall_configured: true,
    first_boot_completed: false,
    cloud_init: false,
    firewall: { '1.2.3.4:443': 'allow', '*.example.com': 'deny', 'api.example.com:443': { action: 'allow', expires: '2030-01-01T00:00:00.000Z' } },
    snapshots: { clean: { description: 'fresh install' }, 'auto-1': { description: 'before start', auto: true } },
    plugins: { 'my-plugin': { level: 3, name: 'x y' } },
    extra_key: 'kept',
  }),
  stringifyToml({ arch: 'aarch64', cloud_init: true, imported: 'a "quoted" \\ path' }),
];

describe('parseSimpleToml', () => {
  it('reads the files Xray writes, as the full parser does', () => {
    for (const text of WRITTEN.slice(0, 2)) {
      const quick = parseSimpleToml(text);
      expect(quick, text).not.toBeNull();
      expect(quick).toEqual(TOML.parse(text));
    }
    expect(parseToml(WRITTEN[1]!, 'vm.toml')).toEqual(TOML.parse(WRITTEN[1]!));
  });

  it.each([
    ['a string with an escape', WRITTEN[2]!],
    ['a comment', '# made by hand\nmemory = 1\n'],
    ['a comment after a value', 'memory = 1 # MB\n'],
    ['CR LF line ends', 'memory = 1\r\ncpus = 2\r\n'],
    ['a float', 'ratio = 1.5\n'],
    ['a date', 'when = 1979-05-27T07:32:00Z\n'],
    ['digit separators', 'memory = 8_192\n'],
    ['a plus sign', 'memory = +1\n'],
    ['a leading zero', 'memory = 012\n'],
    ['a number past 15 digits', 'big = 9007199254740993\n'],
    ['a literal string', "base = 'noble'\n"],
    ['a multi-line list', 'ports = [\n  "1:2",\n]\n'],
    ['a list of mixed kinds', 'ports = [ "1:2", 3 ]\n'],
    ['a list of lists', 'ports = [ [ 1 ] ]\n'],
    ['a dotted key', 'a.b = 1\n'],
    ['a key given twice', 'memory = 1\nmemory = 2\n'],
    ['a table given twice', '[a]\nx = 1\n[a]\ny = 2\n'],
    ['a table inside a value', 'a = { }\n[a.b]\nx = 1\n'],
    ['a table under a key', '[a]\nb = 1\n[a.b]\n'],
    ['a list of tables', '[[shares]]\nhost = "/x"\n'],
    ['a __proto__ key', '__proto__ = 1\n'],
    ['a tab inside a string', 'base = "a\tb"\n'],
    ['a missing value', 'memory =\n'],
    ['an unclosed string', 'base = "noble\n'],
    ['a trailing comma in a table', 'a = { x = 1, }\n'],
  ])('leaves %s to the full parser', (_what, text) => {
    expect(parseSimpleToml(text)).toBeNull();
  });

  it.each([
    ['an empty file', ''],
    ['blank and indented lines', '\n  memory = 1\n\t\ncpus = 2'],
    ['quoted keys and headers', '"a b" = "x"\n["1.2.3.4:443"]\n"*.x" = true\n'],
    ['nested headers', '[a]\n[a.b]\nc = -0\n[a.d]\ne = [ ]\n'],
    ['a header below its implicit parents', '[x.y.z]\nk = "v"\n'],
    ['one-line tables', 'a = { }\nb = {x=1,y="z"}\n'],
    ['lists with a trailing comma', 'a = [ 1, 2, ]\nb = [true,false]\n'],
  ])('reads %s as the full parser does', (_what, text) => {
    const quick = parseSimpleToml(text);
    expect(quick).not.toBeNull();
    expect(quick).toEqual(TOML.parse(text));
  });

  it('agrees with the full parser on thousands of random edits', () => {
    // A seeded generator, so a failure repeats.
    let seed = 12345;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const pieces = ['"', '\\', '#', '[', ']', '{', '}', '=', ',', '.', ' ', '\t', '\n', '\r', '-', '0', '7', 'x', 'true', '_', '+', ':', '[[', '"a"', '\u0001', 'é'];
    const corpus = [...WRITTEN, '[a]\n[a.b]\nc = 1\n', 'a = { x = 1, y = "z" }\nb = [ 1, 2 ]\n'];
    for (let i = 0; i < 4000; i++) {
      let text = corpus[random(corpus.length)]!;
      for (let edits = 1 + random(3); edits > 0; edits--) {
        const at = random(text.length + 1);
        const cut = random(3);
        text = text.slice(0, at) + pieces[random(pieces.length)] + text.slice(at + cut);
      }
      expectAgreement(text);
    }
  });
});
