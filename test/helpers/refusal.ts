// Test helper: the one way tests catch the error a call must fail with.
import { expect } from 'vitest';
import { XrayError } from '../../src-main/shared/errors';

/**
 * refusal awaits a promise that must be refused with an XrayError and returns
 * that error, so a test can check its code and sentence; it fails the test
 * when the promise resolves or rejects with anything else.
 */
export async function refusal(promise: Promise<unknown>): Promise<XrayError> {
  const outcome = await promise.then(
    (value: unknown) => ({ resolved: value }),
    (error: unknown) => ({ error }),
  );
  if ('resolved' in outcome) throw new Error(`expected a refusal, but it resolved with ${JSON.stringify(outcome.resolved)}`);
  expect(outcome.error).toBeInstanceOf(XrayError);
  return outcome.error as XrayError;
}
