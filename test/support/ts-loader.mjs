// A Node.js module hook that runs this project's TypeScript directly (SWC, as vitest does), so a
// test can start a real child process of project code and kill it with SIGKILL mid-work.
// Usage: node --import ./test/support/ts-loader.mjs some-file.ts
import { register } from 'node:module';

register('./ts-loader-hooks.mjs', import.meta.url);
