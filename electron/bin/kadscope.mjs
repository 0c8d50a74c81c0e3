#!/usr/bin/env node
// The kadscope command: runs the TypeScript CLI through tsx, so `npx kadscope` needs no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/index.ts');
process.exitCode = await main(process.argv.slice(2));
