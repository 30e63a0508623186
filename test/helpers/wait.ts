// Test helper: the one way tests wait for something to happen.

/**
 * waitFor polls `probe` until it gives a truthy value and resolves with it.
 * It waits on the thing itself rather than for a fixed time, so a slow
 * machine only makes the test slower, never wrong; past `timeoutMs` it fails
 * naming `what` it waited for. Errors the probe throws fail it at once.
 */
export async function waitFor<T>(what: string, probe: () => T | Promise<T>, timeoutMs = 10_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
