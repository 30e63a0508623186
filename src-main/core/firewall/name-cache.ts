// Runs in: plain Node (core).
import { canonicalIp } from './address';

export interface NameCacheOptions {
  readonly maxEntries?: number;
  /** minTtlSeconds keeps short-TTL answers long enough for the connection that follows. */
  readonly minTtlSeconds?: number;
  readonly maxTtlSeconds?: number;
  readonly now?: () => number;
}

interface CacheEntry {
  names: Map<string, number>;
}

/**
 * NameCache remembers which names a VM's DNS lookups returned each address
 * for, so a connection the guest makes to a bare IP can be shown and matched
 * by name. Bounded (least recently written address goes first) and expiring;
 * an address keeps at most a few names, the newest first.
 */
export class NameCache {
  private readonly entries = new Map<string, CacheEntry>();
  private readonly maxEntries: number;
  private readonly minTtl: number;
  private readonly maxTtl: number;
  private readonly now: () => number;

  constructor(options: NameCacheOptions = {}) {
    this.maxEntries = options.maxEntries ?? 4096;
    this.minTtl = options.minTtlSeconds ?? 300;
    this.maxTtl = options.maxTtlSeconds ?? 86_400;
    this.now = options.now ?? Date.now;
  }

  record(ip: string, name: string, ttlSeconds: number): void {
    const key = canonicalIp(ip);
    if (!key) return;
    const ttl = Math.min(this.maxTtl, Math.max(this.minTtl, ttlSeconds));
    const entry = this.entries.get(key) ?? { names: new Map<string, number>() };
    this.entries.delete(key);
    entry.names.delete(name);
    entry.names.set(name, this.now() + ttl * 1000);
    while (entry.names.size > 4) entry.names.delete(entry.names.keys().next().value as string);
    this.entries.set(key, entry);
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
  }

  /** lookup returns the newest unexpired name recorded for `ip`, or null. */
  lookup(ip: string): string | null {
    const names = this.live(ip);
    return names.length === 0 ? null : (names[names.length - 1] ?? null);
  }

  /** has tells whether the VM's DNS returned `ip` for `name` (and it has not expired). */
  has(ip: string, name: string): boolean {
    return this.live(ip).includes(name);
  }

  get size(): number {
    return this.entries.size;
  }

  private live(ip: string): string[] {
    const key = canonicalIp(ip);
    const entry = key ? this.entries.get(key) : undefined;
    if (!entry) return [];
    const now = this.now();
    for (const [name, expires] of entry.names) if (expires <= now) entry.names.delete(name);
    if (entry.names.size === 0) this.entries.delete(key as string);
    return [...entry.names.keys()];
  }
}
