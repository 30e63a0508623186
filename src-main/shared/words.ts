// Runs in: anywhere (pure, no imports). The closed sets of words a command
// offers as choices, without zod: the CLI builds its commands from these at
// start-up, before anything needs a schema, and enums.ts makes its schemas
// from them.

/** GUEST_ARCHES are the guest architectures a base image can have. */
export const GUEST_ARCHES = ['aarch64', 'x86_64'] as const;

/** DISPLAYS are where a VM's screen can go: nowhere, or a window of one of QEMU's display back ends. */
export const DISPLAYS = ['none', 'cocoa', 'gtk', 'sdl'] as const;

/** RULE_ACTIONS are what a firewall rule or an answer does with a connection. */
export const RULE_ACTIONS = ['allow', 'deny'] as const;

/** PROMPT_SCOPES are what an answer to a prompt covers: a connection's four, then an HTTP request's (enums.ts says more). */
export const PROMPT_SCOPES = ['host-port', 'domain', 'domain-suffix', 'any-port', 'request', 'request-prefix', 'request-path', 'request-host'] as const;

/** HOOK_TYPES name when hooks run: at create, at the first boot until one succeeds, at every boot. */
export const HOOK_TYPES = ['create', 'initial-boot', 'boot'] as const;
