import { z } from 'zod';

/**
 * The words a model understands in each clause class the reply grammar matches
 * (src/core/prompt-revision.ts), so that a reply works on a prompt written in the model's own
 * words: shapes-v1 calls "growing", "shrinking" and "still" motions, which no general list does.
 * A model package declares them (`promptVocabulary` in model.json or dailies.json), its workers
 * publish them beside their heartbeat, and a reply reads the session's model's. A class a model
 * leaves out keeps the built-in words below; the grammar's rules (prepositions and articles
 * around a background, `light`/`dark` before a colour, the five words a motion clause may run
 * on) are the grammar's, not the model's.
 */

const WORD = String.raw`[\p{L}\p{N}'’-]+`;

/** One phrase: words of letters, digits, ' or -, one space apart ("to the left"). */
const Phrase = z
  .string()
  .max(60, 'must be 60 characters or fewer')
  .regex(new RegExp(String.raw`^${WORD}(?: ${WORD})*$`, 'u'), "must be words of letters, digits, ' or - with one space between them");

const PhraseClass = z.array(Phrase).min(1, 'must list at least one phrase (leave the class out to keep the built-in words)').max(500, 'must list 500 phrases or fewer');

/** Every class optional; unknown classes are refused so a typo ("colors") does not pass silently. */
export const PromptVocabulary = z
  .object({
    /** Colour words, as in "a red ball" ("light"/"dark"/"bright"/"pale"/"deep" may precede them). */
    colours: PhraseClass.optional(),
    /** Words that start a motion phrase: "moving", "spinning", for shapes-v1 also "growing" and "still". */
    motions: PhraseClass.optional(),
    /** Words that may follow a motion and belong to it: directions ("left", "to the left") and speeds ("slowly"). */
    directions: PhraseClass.optional(),
    /** Nouns that end a background phrase, as in "on a blue background". */
    backgrounds: PhraseClass.optional(),
  })
  .strict();
export type PromptVocabulary = z.infer<typeof PromptVocabulary>;

/** The words replies use for models that declare none (general English for video prompts). */
export const DEFAULT_PROMPT_VOCABULARY: Required<PromptVocabulary> = {
  colours: ['red', 'orange', 'yellow', 'green', 'blue', 'purple', 'violet', 'pink', 'brown', 'black', 'white', 'grey', 'gray', 'cyan', 'magenta', 'teal', 'gold', 'golden', 'silver', 'beige', 'navy', 'turquoise', 'indigo', 'maroon', 'crimson', 'lime', 'olive'],
  motions: ['moving', 'moves', 'move', 'drifting', 'flying', 'floating', 'panning', 'pans', 'zooming', 'zooms', 'rotating', 'rotates', 'spinning', 'spins', 'turning', 'sliding', 'rolling', 'bouncing', 'falling', 'rising', 'running', 'walking', 'swimming', 'orbiting', 'circling', 'shaking', 'waving'],
  directions: [
    'to the left', 'to the right', 'towards the camera', 'toward the camera', 'towards the viewer', 'toward the viewer', 'away from the camera', 'away from the viewer',
    'left', 'right', 'up', 'down', 'in', 'out', 'forward', 'forwards', 'backward', 'backwards', 'clockwise', 'counterclockwise', 'anticlockwise', 'around', 'away',
    'across', 'sideways', 'diagonally', 'upward', 'upwards', 'downward', 'downwards', 'slowly', 'quickly', 'fast', 'gently', 'smoothly', 'steadily',
  ],
  backgrounds: ['background', 'backdrop'],
};
