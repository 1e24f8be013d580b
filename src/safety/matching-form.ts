import unhomoglyph from 'unhomoglyph';

/**
 * The form the prompt policy compares: both the blocked terms and the prompts go through the same
 * steps, so a term matches however it was typed or disguised.
 *
 *   1. NFKC and lower case (fullwidth, ligatures, superscripts, math letters -> plain letters; ß -> ss).
 *   2. Accents and every invisible character removed: combining marks and the Unicode
 *      Default_Ignorable_Code_Point set with the other format characters (zero-width spaces and
 *      joiners, U+FEFF, U+2060, variation selectors, tag characters, Hangul fillers...).
 *   3. Look-alikes mapped to the letter they imitate: Unicode's own confusables table
 *      (confusables.txt, as shipped and kept up to date by the `unhomoglyph` package) for every
 *      non-ASCII character. ASCII is left alone: the table maps "m" to "rn" and "0" to "O", which
 *      would change ordinary words; digits standing in for letters are the policy's business.
 *   4. A few Latin letters the table leaves alone or maps to another non-ASCII letter: the small
 *      capitals (ʀ, ᴏ... named LATIN LETTER SMALL CAPITAL X, so X is their letter), and the
 *      prototypes the table itself uses for Cyrillic к, м (ĸ, ʍ).
 */

/** Letters Unicode names LATIN LETTER SMALL CAPITAL <X>, plus two prototypes the confusables table ends on. */
const LATIN_LOOK_ALIKES: Readonly<Record<string, string>> = {
  'ᴀ': 'a', 'ʙ': 'b', 'ᴄ': 'c', 'ᴅ': 'd', 'ᴇ': 'e', 'ꜰ': 'f', 'ɢ': 'g', 'ʜ': 'h', 'ɪ': 'i', 'ᴊ': 'j', 'ᴋ': 'k', 'ʟ': 'l', 'ᴍ': 'm',
  'ɴ': 'n', 'ᴏ': 'o', 'ᴘ': 'p', 'ꞯ': 'q', 'ʀ': 'r', 'ꜱ': 's', 'ᴛ': 't', 'ᴜ': 'u', 'ᴠ': 'v', 'ᴡ': 'w', 'ʏ': 'y', 'ᴢ': 'z',
  'ĸ': 'k', 'ʍ': 'm',
};

/** Accents and characters nobody sees: removed before matching, so "forbid\u200Bden" is "forbidden". */
const MARKS_AND_INVISIBLE = /[\p{Mn}\p{Me}\p{Default_Ignorable_Code_Point}\p{Cf}]/gu;
const NON_ASCII_RUN = /[^\u0000-\u007f]+/gu;
const LOOK_ALIKE = new RegExp(`[${Object.keys(LATIN_LOOK_ALIKES).join('')}]`, 'gu');

function latinLookAlikes(text: string): string {
  return text.replace(LOOK_ALIKE, (c) => LATIN_LOOK_ALIKES[c] ?? c);
}

function stripMarks(text: string): string {
  return text.normalize('NFD').replace(MARKS_AND_INVISIBLE, '');
}

/** The matching form of `text` (see the file header); whitespace is kept as it was. */
export function normalizeForMatching(text: string): string {
  const folded = text.normalize('NFKC').toLowerCase().replace(/ß/gu, 'ss').replace(/ς/gu, 'σ');
  const bare = latinLookAlikes(stripMarks(folded));
  // The table's prototypes can carry marks (ø -> o + U+0338) or be capitals (〇 -> O).
  const mapped = bare.replace(NON_ASCII_RUN, (run) => unhomoglyph(run));
  return latinLookAlikes(stripMarks(mapped).toLowerCase()).normalize('NFC');
}

/** Letters and digits only: what is left of a token once separators, punctuation and emoji are gone. */
export function lettersAndDigits(text: string): string {
  return text.replace(/[^\p{L}\p{N}]+/gu, '');
}
