// Runs in: plain Node (core).
export type { CommandOutput, PluginCommandContext, PluginSettings, PluginVmContext } from './context';
export { PluginHost, type PluginHook, type PluginHostOptions } from './host';
