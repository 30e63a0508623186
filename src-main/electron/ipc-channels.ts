// Runs in: anywhere (main and preload share these names).

/** CALL_CHANNEL carries every API request as `{ method, params }`; the reply is a Response. */
export const CALL_CHANNEL = 'xray:call';

/** EVENT_CHANNEL pushes every service event from main to the renderer windows. */
export const EVENT_CHANNEL = 'xray:event';
