// Runs in: plain Node (core).
import type { XrayEvent } from '../shared/contract';

/** EventBus fans service events out to subscribers; a throwing listener harms no other. */
export class EventBus {
  private readonly listeners = new Set<(event: XrayEvent) => void>();

  emit(event: XrayEvent): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch {
        // A broken subscriber must not stop the others or the emitter.
      }
    }
  }

  subscribe(listener: (event: XrayEvent) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  get size(): number {
    return this.listeners.size;
  }
}
