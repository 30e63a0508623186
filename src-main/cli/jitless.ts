// Runs in: plain Node (CLI). Imported first by main.ts, before any schema is
// built: zod compiles a fast parser per object schema with `new Function` on
// its first parse, which pays off over many parses but costs a command that
// parses each schema once or twice more than it saves, and V8's code cache
// cannot keep code made by `new Function`.
import { config } from 'zod';

config({ jitless: true });
