// Types for variant.mjs: the test guest booted with another kernel command line.

/** GUEST_CMDLINE is the test guest's own kernel command line. */
export const GUEST_CMDLINE: string;
/** setKernelCommandLine makes an overlay of the test guest boot `cmdline` (without the initrd when `initrd` is false). */
export function setKernelCommandLine(disk: string, opts: { readonly cmdline: string; readonly initrd?: boolean }): Promise<void>;
