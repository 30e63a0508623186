// Runs in: anywhere (plain data). What firewall rules, the destinations of
// connections, prompts and log entries look like; models.ts re-exports it.
import type { RuleAction } from './enums';

/** RuleLifetime says how long a firewall rule lasts. */
export type RuleLifetime =
  | { readonly kind: 'once' }
  | { readonly kind: 'duration'; readonly until: string }
  | { readonly kind: 'until-stop' }
  | { readonly kind: 'forever' };

/**
 * HttpMatch narrows a host rule to some of its HTTP requests: a set of
 * methods (null: any method) and a path pattern (null: any path), where `*`
 * stands for any run of characters, `/` included. A rule that has one is
 * decided request by request on an intercepted connection, never for a
 * whole connection.
 */
export interface HttpMatch {
  readonly methods: readonly string[] | null;
  readonly path: string | null;
}

/**
 * RuleTarget is what a rule matches: a port of `null` means any port.
 * `domain` matches that name exactly; `domain-suffix` matches it and every
 * sub-domain (`*.example.com`). Only name targets may carry `http`: a
 * request is matched by the name its TLS connection was made for.
 */
export type RuleTarget =
  | { readonly kind: 'ip'; readonly ip: string; readonly port: number | null }
  | { readonly kind: 'cidr'; readonly cidr: string; readonly port: number | null }
  | { readonly kind: 'domain'; readonly domain: string; readonly port: number | null; readonly http?: HttpMatch }
  | { readonly kind: 'domain-suffix'; readonly domain: string; readonly port: number | null; readonly http?: HttpMatch };

/** FirewallRule is one rule of a VM's firewall: what it matches, what it does and how long it lasts. */
export interface FirewallRule {
  readonly id: string;
  readonly target: RuleTarget;
  readonly action: RuleAction;
  readonly lifetime: RuleLifetime;
  readonly source: 'vm' | 'default' | 'session';
}

/** Destination is the identity of one outbound connection. */
export interface Destination {
  readonly ip: string | null;
  readonly port: number;
  /** name is the best name known: SOCKS domain, TLS SNI, HTTP Host or a DNS answer. */
  readonly name: string | null;
  readonly nameSource: 'socks' | 'sni' | 'http-host' | 'dns' | null;
  readonly service: string | null;
}

/** GuestProcess is the guest program behind a connection, as the guest reported it. */
export interface GuestProcess {
  readonly pid: number;
  readonly command: string;
  readonly user: string | null;
}

/** HttpRequestLine is an HTTP request as a prompt shows it: its method and normalized path, without the query. */
export interface HttpRequestLine {
  readonly method: string;
  readonly path: string;
}

/** FirewallPrompt is a question to a person: may this VM reach this destination? */
export interface FirewallPrompt {
  readonly id: string;
  readonly vm: string;
  readonly destination: Destination;
  /** request is there when the question is one HTTP request on an intercepted connection rather than the connection. */
  readonly request?: HttpRequestLine;
  readonly openedAt: string;
  readonly deadline: string;
  readonly waitingConnections: number;
  readonly guestProcess: GuestProcess | null;
}

/** FirewallLogEntry is one line of a VM's firewall log: a decision, a closed connection or a DNS answer. */
export interface FirewallLogEntry {
  readonly at: string;
  readonly vm: string;
  readonly kind: 'decision' | 'connection' | 'dns';
  readonly destination: Destination;
  readonly action?: RuleAction;
  readonly reason?: string;
  readonly bytesUp?: number;
  readonly bytesDown?: number;
  readonly durationMs?: number;
  readonly addresses?: readonly string[];
}
