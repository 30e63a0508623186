// One envelope in, one Reply out, the same on every transport.
import { describe, expect, it } from 'vitest';
import type { Method, XrayApi, XrayEvent } from '../../../src-main/shared/contract';
import { XrayError } from '../../../src-main/shared/errors';
import { CallError, dispatch, errorReply, parseCall, unwrapReply } from '../../../src-main/shared/transport';

/** api answers vm.list, and refuses vm.info as the service would. */
const api: XrayApi = {
  async call(method: Method): Promise<never> {
    if (method === 'vm.list') return [] as never;
    throw new XrayError('not-found', 'There is no VM named "nope".');
  },
  subscribe: (_listener: (e: XrayEvent) => void) => () => {},
};

describe('parseCall', () => {
  it.each([
    ['not an object', 'vm.list', /must be an object/],
    ['an array', ['vm.list'], /must be an object/],
    ['an unknown method', { method: 'vm.format' }, /^Unknown request "vm\.format"/],
    ['an inherited property as method', { method: 'toString' }, /^Unknown request "toString"/],
    ['params of the wrong type', { method: 'vm.start', params: { name: 7 } }, /^Bad request for vm\.start: name: /],
  ])('refuses %s as invalid-argument, in one sentence', (_what, payload, message) => {
    expect(parseCall(payload)).toMatchObject({ ok: false, error: { code: 'invalid-argument', message: expect.stringMatching(message) } });
  });

  it('passes the params its schema parsed: defaults filled, unknown keys dropped', () => {
    expect(parseCall({ method: 'prompt.answer', params: { id: 'p1', action: 'allow', evil: true } })).toEqual({
      ok: true,
      value: { method: 'prompt.answer', params: { id: 'p1', action: 'allow', lifetime: 'once' } },
    });
  });
});

describe('dispatch and unwrapReply', () => {
  it('answers a call with its value', async () => {
    expect(await dispatch(api, { method: 'vm.list', params: {} })).toEqual({ ok: true, value: [] });
  });

  it("keeps a service error's code and sentence across the boundary", async () => {
    const reply = await dispatch(api, { method: 'vm.info', params: { name: 'nope' } });
    expect(reply).toEqual({ ok: false, error: { code: 'not-found', message: 'There is no VM named "nope".' } });
    expect(() => unwrapReply(reply)).toThrow(CallError);
    expect(() => unwrapReply(reply)).toThrow(expect.objectContaining({ code: 'not-found' }));
  });

  it('carries the command line its own sentence, beside the one every surface shows', () => {
    const err = new XrayError('invalid-argument', 'Convert it to qcow2 first.', { cli: 'Pass --convert.' });
    expect(errorReply(err)).toEqual({ ok: false, error: { code: 'invalid-argument', message: 'Convert it to qcow2 first.', cli: 'Pass --convert.' } });
  });

  it('calls anything else thrown internal', () => {
    expect(errorReply(new TypeError('boom'))).toEqual({ ok: false, error: { code: 'internal', message: 'boom' } });
  });

  it('refuses something that is not a Reply', () => {
    expect(() => unwrapReply({ ok: 'yes' })).toThrow('Xray sent a reply in an unknown shape.');
  });
});
