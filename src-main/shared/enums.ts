// Runs in: anywhere (pure). Every closed set of words the contract uses, once,
// as zod enums: the schemas validate with them and the types are inferred.
import * as z from 'zod';
import { DISPLAYS, GUEST_ARCHES, HOOK_TYPES, PROMPT_SCOPES, RULE_ACTIONS } from './words';

export { HOOK_TYPES };

export const guestArchSchema = z.enum(GUEST_ARCHES);
export type GuestArch = z.infer<typeof guestArchSchema>;

export const acceleratorSchema = z.enum(['hvf', 'kvm', 'tcg']);
export type Accelerator = z.infer<typeof acceleratorSchema>;

/** vmStateSchema is the supervisor's view of a VM; `crashed` keeps why (VmSummary.crash). */
export const vmStateSchema = z.enum(['stopped', 'starting', 'booting', 'ready', 'stopping', 'crashed']);
export type VmStateName = z.infer<typeof vmStateSchema>;

/**
 * stopMethodSchema says how a running VM ended: the guest powered off on the
 * ACPI power button, or on `poweroff` sent over SSH after it ignored the
 * button; QEMU was killed (a forced stop, or a guest that shut down on
 * neither); or the guest shut itself down with nobody asking.
 */
export const stopMethodSchema = z.enum(['power-button', 'ssh', 'kill', 'guest']);
export type StopMethod = z.infer<typeof stopMethodSchema>;

/**
 * bootProblemSchema says why a booting VM has not let Xray log in within its
 * boot_timeout: the firmware found nothing to boot (UEFI shell), the kernel
 * panicked, the guest stopped in an emergency shell, it shows a login prompt
 * but runs no SSH server, its sshd refuses Xray's key, logging in failed for
 * another reason (a changed host key), or nothing Xray can see says why.
 */
export const bootProblemSchema = z.enum(['no-boot-device', 'kernel-panic', 'emergency-shell', 'no-sshd', 'key-refused', 'login-failed', 'no-answer']);
export type BootProblem = z.infer<typeof bootProblemSchema>;

export const displaySchema = z.enum(DISPLAYS);
export type Display = z.infer<typeof displaySchema>;

export const ruleActionSchema = z.enum(RULE_ACTIONS);
export type RuleAction = z.infer<typeof ruleActionSchema>;

/**
 * promptScopeSchema is what an answer to a prompt covers (scopes.ts says which
 * rule each writes). A prompt about a connection takes the first four; one
 * about an HTTP request on an intercepted host the `request` ones: this
 * method and path, this method under the path's folder, any method on the
 * path, or every request to the host.
 */
export const promptScopeSchema = z.enum(PROMPT_SCOPES);
export type PromptScope = z.infer<typeof promptScopeSchema>;

/** promptLifetimeSchema is how long an answer, or a rule added by hand, lasts. */
export const promptLifetimeSchema = z.enum(['once', 'duration', 'until-stop', 'forever']);
export type PromptLifetime = z.infer<typeof promptLifetimeSchema>;

/**
 * promptCloseReasonSchema says why a prompt closed: a person answered, it
 * timed out, no UI could answer, its VM stopped, or every connection waiting
 * on it went away (the guest's program gave up) before anyone answered.
 */
export const promptCloseReasonSchema = z.enum(['answered', 'timeout', 'no-client', 'vm-stopped', 'abandoned']);
export type PromptCloseReason = z.infer<typeof promptCloseReasonSchema>;

/** defaultActionSchema is what happens to a destination no rule covers: ask, or deny at once. */
export const defaultActionSchema = z.enum(['ask', 'deny']);
export type DefaultAction = z.infer<typeof defaultActionSchema>;

/** hookTypeSchema names when hooks run: at create, at the first boot until one succeeds, at every boot. */
export const hookTypeSchema = z.enum(HOOK_TYPES);
export type HookType = z.infer<typeof hookTypeSchema>;

/** hookSourceSchema says where a hook comes from, in the order they run. */
export const hookSourceSchema = z.enum(['built-in', 'global', 'vm', 'plugin']);
export type HookSource = z.infer<typeof hookSourceSchema>;

/** secretBackendSchema names where secrets are kept on the host: the macOS Keychain, the Secret Service, or a private file. */
export const secretBackendSchema = z.enum(['keychain', 'secret-service', 'file']);
export type SecretBackendKind = z.infer<typeof secretBackendSchema>;

/**
 * connectionStateSchema is where an open connection of a VM is: held while
 * the firewall decides (a prompt may be open), read for a name, being
 * connected, carrying bytes, or carried by the egress interceptor.
 */
export const connectionStateSchema = z.enum(['deciding', 'sniffing', 'connecting', 'relaying', 'intercepted']);
export type ConnectionState = z.infer<typeof connectionStateSchema>;
