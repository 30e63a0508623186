// Runs in: anywhere (pure). What the egress proxy reports about intercepted traffic, and the sentence each report reads as.

/** PlaceholderPlace is where a secret's placeholder was found where it may not go. */
export type PlaceholderPlace = 'header' | 'url' | 'body' | 'host';

/**
 * EgressReport is one thing the egress interceptor tells the log, the
 * notifications and the prompt about. Reports name secrets, never hold a
 * value; paths in them have placeholders masked.
 *  - secret-used: a placeholder in its bound header was replaced by the value.
 *  - secret-refused: a placeholder went somewhere else (another host, another
 *    header, the URL, the body): an exfiltration attempt, refused.
 *  - secret-masked: the server sent a secret back (an echo of the request's
 *    headers, say); it was overwritten before the guest saw it.
 *  - secret-unavailable: a bound secret could not be read from the host's store.
 *  - request-refused: a request was refused by an HTTP rule, by the user, or
 *    because it named another host than its connection was made for.
 *  - upstream-refused: the real server could not be reached or its
 *    certificate failed verification against the host's trust store.
 */
export type EgressReport =
  | { readonly kind: 'secret-used'; readonly vm: string; readonly host: string; readonly secret: string; readonly header: string; readonly method: string; readonly path: string }
  | {
      readonly kind: 'secret-refused';
      readonly vm: string;
      readonly host: string;
      readonly secret: string;
      readonly place: PlaceholderPlace;
      /** header names the field it was found in (place `header` or `host`). */
      readonly header: string | null;
      readonly method: string;
      readonly path: string;
    }
  | { readonly kind: 'secret-masked'; readonly vm: string; readonly host: string; readonly secret: string; readonly method: string; readonly path: string }
  | { readonly kind: 'secret-unavailable'; readonly vm: string; readonly host: string; readonly secret: string; readonly reason: string }
  | { readonly kind: 'request-refused'; readonly vm: string; readonly host: string; readonly method: string; readonly path: string; readonly reason: string }
  | { readonly kind: 'upstream-refused'; readonly vm: string; readonly host: string; readonly port: number; readonly reason: string };

/** describeEgressReport is the one sentence a log line or a notification shows for a report. */
export function describeEgressReport(report: EgressReport): string {
  switch (report.kind) {
    case 'secret-used':
      return `VM "${report.vm}" sent secret "${report.secret}" to ${report.host} in ${report.header} (${report.method} ${report.path}).`;
    case 'secret-refused':
      return `VM "${report.vm}" tried to send secret "${report.secret}" ${placeText(report)} (${report.method} ${report.path}); the request was refused.`;
    case 'secret-masked':
      return `${report.host} sent secret "${report.secret}" back in its answer to ${report.method} ${report.path}; Xray masked it before VM "${report.vm}" saw it.`;
    case 'secret-unavailable':
      return `VM "${report.vm}" needed secret "${report.secret}" for ${report.host}, but it could not be read (${report.reason}).`;
    case 'request-refused':
      return `VM "${report.vm}" was refused ${report.method} ${report.host}${report.path}: ${report.reason}.`;
    case 'upstream-refused':
      return `VM "${report.vm}" was refused ${report.host}:${report.port}: ${report.reason}.`;
  }
}

function placeText(report: Extract<EgressReport, { kind: 'secret-refused' }>): string {
  switch (report.place) {
    case 'host':
      return `to ${report.host}, which it is not bound to`;
    case 'header':
      return `to ${report.host} in the ${report.header ?? 'unknown'} header, which is not its header`;
    case 'url':
      return `to ${report.host} in the URL`;
    case 'body':
      return `to ${report.host} in the request body`;
  }
}
