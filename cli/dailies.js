#!/usr/bin/env node
// The `dailies` command. TypeScript sources run through tsx's loader so that there is no build
// step between `npm install` and `npm start`.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./main.ts');
process.exitCode = await main(process.argv.slice(2));
