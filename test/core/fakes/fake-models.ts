import { DailiesError } from '../../../src/errors.ts';
import type { ModelCatalog, ModelSummary } from '../../../src/core/ports/model-catalog.ts';
import type { PromptVocabulary } from '../../../src/core/prompt-vocabulary.ts';

/**
 * The pool's models for core and adapter tests, refusing unknown names the way ModelQueues does
 * (its own rules run on real Redis in test/queue/model-queues.test.ts). `vocabularies`: the
 * prompt vocabulary each model's workers published, by name; a model left out declares none.
 */
export function fakeModels(models: ModelSummary[] = TWO_MODELS, vocabularies: Record<string, PromptVocabulary> = {}): ModelCatalog {
  return {
    list: async () => models,
    async resolve(name) {
      const found = models.find((m) => m.name.toLowerCase() === name.trim().toLowerCase());
      if (!found) throw new DailiesError('bad_input', `No worker renders with "${name}"; /models lists the models you can use.`);
      return found.name;
    },
    async promptVocabulary(model) {
      const name = model ?? models.find((m) => m.isDefault)?.name;
      return (name !== undefined && vocabularies[name]) || null;
    },
  };
}

export const TWO_MODELS: ModelSummary[] = [
  { name: 'shapes-v1', isDefault: true, workers: 1, slots: 2, waiting: 1, averageRenderMs: 4_200, lastSeenAt: Date.parse('2026-12-05T12:00:00Z') },
  { name: 'Big-T2V', isDefault: false, workers: 0, slots: 0, waiting: 3, averageRenderMs: 61_000, lastSeenAt: Date.parse('2026-12-05T11:55:00Z') },
];
