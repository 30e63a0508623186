// Runs in: plain Node (core).

/**
 * KeyedQueue runs tasks one after another per key (a VM's name), each after
 * the one before it settled, whatever its outcome: two clients starting one
 * VM get one QEMU, and a stop sent during a start runs after it.
 */
export class KeyedQueue {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const next = previous.then(task, task);
    const settled = next.then(() => undefined, () => undefined);
    this.tails.set(key, settled);
    void settled.then(() => {
      if (this.tails.get(key) === settled) this.tails.delete(key);
    });
    return next;
  }
}
