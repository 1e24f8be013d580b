// Entry of the worker's threads (the engine, the frame check): `workerData.entry` names the
// TypeScript module to run. Loader hooks registered in the main thread (tsx) do not reach worker
// threads on Node 20, so the thread registers tsx itself before loading it.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
