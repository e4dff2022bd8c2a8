import { closest, distance } from 'fastest-levenshtein';
import stem from 'wink-porter2-stemmer';

/**
 * One word of a message: as typed (lower case), as corrected against the vocabulary (typos), and its
 * Porter2 stem (so "churned", "churn" and "churning" meet). `raw` keeps ids such as
 * `train-3f9a1c2b4d5e` or `ml_features.customer_churn` whole.
 */
export interface Word {
  raw: string;
  word: string;
  stem: string;
}

/**
 * Words never "corrected": common English of one or two edits from a cue word ("about" is one edit
 * from "abort"). A word of the vocabulary is never corrected either.
 */
const KEEP = new Set(
  (
    'about above after again against also among another anything around because before being below between both could does doing down during each either every ' +
    'from have having here into just least like made make more most much must never next none once only other over same should since some still such than that ' +
    'their them then there these they thing this those through under until very want were what when where which while will with within without would your yours ' +
    'please thanks thank okay hello could tell give show list need know which whats what\'s doesnt dont cant isnt model models data table tables'
  ).split(' '),
);

/** The largest number of edits a word of this length may be away from a vocabulary word (fewer for short words, where one edit changes the word). */
function maxEdits(length: number): number {
  if (length < 5) return 0;
  if (length < 8) return 1;
  return 2;
}

/** The vocabulary words are corrected towards, with their stems; built per message from the intents and the tenant's catalog. */
export class Vocabulary {
  private readonly words: string[];
  private readonly known: Set<string>;
  private readonly stems: Set<string>;

  constructor(words: Iterable<string>) {
    this.known = new Set([...words].map((word) => word.toLowerCase()).filter((word) => /^[a-z][a-z0-9]*$/.test(word)));
    this.words = [...this.known];
    this.stems = new Set(this.words.map((word) => stem(word)));
  }

  /** The word as meant: itself when known (or its stem is), else the nearest vocabulary word within maxEdits, else itself. */
  correct(word: string): string {
    if (this.known.has(word) || KEEP.has(word) || this.stems.has(stem(word)) || !/^[a-z]+$/.test(word) || this.words.length === 0) {
      return word;
    }
    // Two neighbouring letters swapped ("tnue", "cancle") is one slip of the fingers, though two edits for Levenshtein.
    const swapped = word.length >= 4 ? this.words.find((candidate) => isTransposition(word, candidate)) : undefined;
    if (swapped !== undefined) {
      return swapped;
    }
    const limit = maxEdits(word.length);
    if (limit === 0) {
      return word;
    }
    const nearest = closest(word, this.words);
    return distance(word, nearest) <= limit ? nearest : word;
  }
}

function isTransposition(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  const differ = [...a].flatMap((letter, index) => (letter === b[index] ? [] : [index]));
  return differ.length === 2 && differ[1] === differ[0] + 1 && a[differ[0]] === b[differ[1]] && a[differ[1]] === b[differ[0]];
}

/** Ids of jobs, sweeps and runs: one word, never "train" plus a number. */
const ID = /^(train|sweep|profile|batch)-[0-9a-f]{12}$|^[0-9a-f]{32}$/;

/** Lower-cased words of a message; ids, dotted table names and `key=value` parts stay whole in `raw`. */
export function words(message: string, vocabulary: Vocabulary): Word[] {
  const tokens = message
    .toLowerCase()
    .replace(/[’']/g, "'")
    .split(/[\s,;:!?()"[\]{}]+/)
    .map((token) => token.replace(/^[.'-]+|[.'-]+$/g, ''))
    .filter((token) => token !== '');
  const result: Word[] = [];
  for (const raw of tokens) {
    // "learning_rate", "customer-churn" and "lightgbm's" are words of their own too.
    // Numbers stay whole ("0.05", "30%").
    const parts = /^-?\d+(\.\d+)?%?$/.test(raw) || ID.test(raw) ? [raw] : raw.replace(/'s$/, '').split(/[_\-./=]+/).filter((part) => part !== '');
    for (const part of parts.length > 0 ? parts : [raw]) {
      const word = part === raw && ID.test(raw) ? raw : vocabulary.correct(part);
      result.push({ raw, word, stem: stem(word) });
    }
  }
  return result;
}

/** The stem of a word, as `words` computes it. */
export function stemOf(word: string): string {
  return stem(word.toLowerCase());
}

/** The parts of an identifier ("monthly_charges" → ["monthly", "charges"]). */
export function nameParts(name: string): string[] {
  return name
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((part) => part !== '');
}
