// Runs in: plain Node (core).

/**
 * WELL_KNOWN_SERVICES names the service usually found on a port, so a prompt
 * can say "ssh" or "postgres" instead of a bare number.
 */
export const WELL_KNOWN_SERVICES: ReadonlyMap<number, string> = new Map([
  [20, 'ftp-data'],
  [21, 'ftp'],
  [22, 'ssh'],
  [23, 'telnet'],
  [25, 'smtp'],
  [53, 'dns'],
  [80, 'http'],
  [110, 'pop3'],
  [123, 'ntp'],
  [143, 'imap'],
  [389, 'ldap'],
  [443, 'https'],
  [465, 'smtps'],
  [587, 'submission'],
  [636, 'ldaps'],
  [853, 'dns-over-tls'],
  [873, 'rsync'],
  [993, 'imaps'],
  [995, 'pop3s'],
  [1080, 'socks'],
  [1433, 'mssql'],
  [1521, 'oracle'],
  [2049, 'nfs'],
  [2375, 'docker'],
  [2376, 'docker-tls'],
  [3000, 'http-dev'],
  [3128, 'http-proxy'],
  [3306, 'mysql'],
  [3389, 'rdp'],
  [4222, 'nats'],
  [5000, 'http-dev'],
  [5222, 'xmpp'],
  [5432, 'postgres'],
  [5672, 'amqp'],
  [5900, 'vnc'],
  [6379, 'redis'],
  [6443, 'kubernetes'],
  [8000, 'http-alt'],
  [8080, 'http-alt'],
  [8443, 'https-alt'],
  [9000, 'http-alt'],
  [9092, 'kafka'],
  [9200, 'elasticsearch'],
  [9418, 'git'],
  [11211, 'memcached'],
  [27017, 'mongodb'],
]);

/** serviceName returns the well-known service on `port`, or null. */
export function serviceName(port: number): string | null {
  return WELL_KNOWN_SERVICES.get(port) ?? null;
}

/**
 * SERVER_SPEAKS_FIRST are ports whose protocol waits for the server's greeting
 * before the client sends anything (SSH, SMTP, FTP, POP3, IMAP, MySQL), so
 * waiting for the client's first bytes to learn a name would only add delay.
 */
export const SERVER_SPEAKS_FIRST: ReadonlySet<number> = new Set([21, 22, 25, 110, 143, 587, 3306]);
