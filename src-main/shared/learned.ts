// Runs in: anywhere (pure). What a VM reached while it ran in learn mode
// (`xray start VM --learn`), and the review that turns it into rules.
import type { RuleAction } from './models';

/** LearnedRequest is one method and path seen on an intercepted host, and how often. Paths have placeholders masked and no query. */
export interface LearnedRequest {
  readonly method: string;
  readonly path: string;
  readonly count: number;
}

/** LearnedDestination is one host (a name, or an address when there was none) and port the VM reached. */
export interface LearnedDestination {
  readonly host: string;
  /** named is true when `host` is a name, false for a bare address. */
  readonly named: boolean;
  readonly port: number;
  readonly connections: number;
  readonly firstAt: string;
  readonly lastAt: string;
  /** requests are the requests forwarded on intercepted connections (hosts with a secret or HTTP rules). */
  readonly requests: readonly LearnedRequest[];
}

/** LearnedRecord is a learn run as vms/NAME/learned.json keeps it; bounded, `dropped` counting what no longer fitted. */
export interface LearnedRecord {
  readonly vm: string;
  readonly startedAt: string;
  readonly updatedAt: string;
  readonly dropped: number;
  readonly destinations: readonly LearnedDestination[];
}

/**
 * LearnedItem is one line of the review, and the rule applying it adds
 * (`target`, allowed forever): a destination (`host:port`), or the methods
 * seen on one path of an intercepted host (`host:port GET,POST /path`).
 * `now` is what decides it under the VM's rules today: the rule's id, or
 * `HTTP rules` when only a host's HTTP rules let it in; null when nothing
 * does and it would be asked about.
 */
export interface LearnedItem {
  readonly kind: 'connection' | 'requests';
  readonly host: string;
  readonly port: number;
  readonly methods: readonly string[] | null;
  readonly path: string | null;
  readonly count: number;
  readonly lastAt: string;
  readonly target: string;
  readonly now: { readonly action: RuleAction; readonly by: string } | null;
}

/** LearnedReview is what `firewall.learned` returns: the run, whether it still goes on, and its items in order. */
export interface LearnedReview {
  readonly vm: string;
  readonly learning: boolean;
  /** startedAt is null when the VM never ran in learn mode. */
  readonly startedAt: string | null;
  readonly updatedAt: string | null;
  readonly dropped: number;
  readonly items: readonly LearnedItem[];
}

/** LEARN_LIMITS bound a learn run's record: destinations, distinct method and path pairs per destination, a path's length. */
export const LEARN_LIMITS = { destinations: 1000, requestsPerDestination: 200, pathLength: 1024 } as const;
