/**
 * One BullMQ queue per model: `dailies worker --model DIR` serves the queue named for its model,
 * and a job goes to the queue of the model it asks for. BullMQ joins its keys with ':' and
 * dashboards show queue names, so a model's name is folded to a plain alphabet first.
 */

/** The key a model is known by: its name in lower case, anything outside `a-z 0-9 . _ -` as '-'. */
export function modelKey(name: string): string {
  return name.trim().toLowerCase().replace(/[^a-z0-9._-]+/g, '-');
}

/** The queue the workers of `model` serve, e.g. `renders.shapes-v2` for the base name `renders`. */
export function modelQueueName(base: string, model: string): string {
  return `${base}.${modelKey(model)}`;
}
