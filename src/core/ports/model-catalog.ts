import type { PromptVocabulary } from '../prompt-vocabulary.ts';

/**
 * The models the worker pool renders with, one queue each (src/queue/model-queues.ts). The core
 * checks a `model:` option against it before anything is recorded, and /models lists it.
 */

export interface ModelSummary {
  /** As its package names it, e.g. "shapes-v2". */
  name: string;
  /** Where jobs that name no model go. */
  isDefault: boolean;
  /** Its live worker processes (0: none right now). */
  workers: number;
  /** Their render slots (one job each). */
  slots: number;
  /** Jobs waiting for it. */
  waiting: number;
  /** Mean of its recent renders, null before the first. */
  averageRenderMs: number | null;
  /** When a worker of it was last alive; null: never seen (the default, before its first worker). */
  lastSeenAt: number | null;
}

export interface ModelCatalog {
  /** Every model seen lately, the default first. */
  list(): Promise<ModelSummary[]>;
  /**
   * The model a job asking for `name` renders with (its canonical name), or a DailiesError
   * 'bad_input' with one sentence when no worker serves it and none has lately.
   */
  resolve(name: string): Promise<string>;
  /**
   * The words `model` (default: the pool's default model) declares for the reply grammar's
   * clause classes, as its workers published them; null when it declares none or no worker has
   * said, and replies then use the built-in words. Read on every reply, so answered from a short
   * cache; a stored value that fails its schema reads as null.
   */
  promptVocabulary(model?: string): Promise<PromptVocabulary | null>;
}
