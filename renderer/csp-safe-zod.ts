// Imported first by main.tsx, before anything that builds a zod schema (the contract does at load).
// Zod probes `new Function` when it builds object schemas, to compile faster parsers; the host's CSP
// (no 'unsafe-eval') blocks the probe and reports a violation. Jitless mode skips the probe.
import { z } from 'zod';

z.config({ jitless: true });
