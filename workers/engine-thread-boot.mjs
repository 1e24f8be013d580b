// Entry of an engine thread. Loader hooks registered in the main thread (tsx) do not reach
// worker threads on Node 20, so the thread registers tsx itself before loading TypeScript.
import { register } from 'tsx/esm/api';

register();
await import('./engine-thread.ts');
