// Runs in: plain Node (core). The firewall's public surface.
export { canonicalIp, isHostLocal, normalizeHostname } from './address';
export { HOST_INTERNAL_IP, HOST_INTERNAL_NAME, addressesOf, guestResolver, hostResolver, parseDnsServer, serverResolver } from './dns';
export type { DnsResolver, ResolvedAddress } from './dns';
export { DnsServer } from './dns-server';
export type { DnsServerOptions } from './dns-server';
export { NameCache } from './name-cache';
export type { NameCacheOptions } from './name-cache';
export { FirewallLog } from './log';
export { FIREWALL_PROBE_IP, FIREWALL_PROBE_PORT, probeBody } from './probe';
export type { FirewallLogOptions } from './log';
export { formatRuleTarget, registrableSuffix, scopeChoices, targetForScope } from '../../shared/scopes';
export { PromptBroker } from './prompts';
export type { Decision, PromptAnswer, PromptBrokerOptions } from './prompts';
export {
  RuleSet,
  fromFirewallTable,
  isPersistent,
  parseDefaultRules,
  parseRuleTarget,
  parseUserRuleTarget,
  specificity,
  toFirewallTable,
  tryParseRuleTarget,
} from './rules';
export type { FirewallTableEntry, FirewallTableRead, RuleInput, RuleMatch } from './rules';
export { serviceName, WELL_KNOWN_SERVICES } from './services';
export { parseHttpHost, parseTlsSni } from './sniff';
export { REPLY, Socks5Server } from './socks5';
export type { ConnectDecision, ConnectRequest, Socks5ServerOptions } from './socks5';
export { VmFirewall } from './vm-firewall';
export type { VmFirewallOptions } from './vm-firewall';
