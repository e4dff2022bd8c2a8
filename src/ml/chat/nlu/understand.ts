import type { Catalog, CatalogJob, CatalogTable, ChatAgent, ConversationEntities, PlannedCall, Understanding } from '@app/ml/chat/chat-types';
import { CAPABILITIES, INTENTS, type IntentSpec, OUT_OF_SCOPE } from '@app/ml/chat/nlu/intents';
import { nameParts, stemOf, Vocabulary, type Word, words } from '@app/ml/chat/nlu/text';

/** The smallest cue score that counts as understanding an intent; below it a message is a follow-up or out of scope. */
const MIN_SCORE = 3;

/** Algorithms as people name them → the catalog's names. */
const ALGORITHM_WORDS: Record<string, string> = {
  xgboost: 'xgboost',
  xgb: 'xgboost',
  lightgbm: 'lightgbm',
  lgbm: 'lightgbm',
  'random forest': 'random_forest',
  randomforest: 'random_forest',
  forest: 'random_forest',
  linear: 'linear',
  logistic: 'linear',
  'neural network': 'neural_network',
  'neural net': 'neural_network',
  mlp: 'neural_network',
  prophet: 'prophet',
  arima: 'arima',
};

/** Hyperparameters as people name them; the catalog's names are matched too. */
const HYPERPARAMETER_WORDS: Record<string, string> = {
  'learning rate': 'learning_rate',
  lr: 'learning_rate',
  eta: 'learning_rate',
  'max depth': 'max_depth',
  depth: 'max_depth',
  'number of trees': 'n_estimators',
  trees: 'n_estimators',
  estimators: 'n_estimators',
  'num leaves': 'num_leaves',
  leaves: 'num_leaves',
};

/**
 * Search ranges for a hyperparameter named in "tune the learning rate": the usual ones for gradient
 * boosting (XGBoost's and LightGBM's documented parameter tuning guides); an unnamed one is left to
 * the ML Service's default space.
 */
const SEARCH_RANGES: Record<string, Record<string, unknown>> = {
  learning_rate: { type: 'loguniform', lower: 0.01, upper: 0.3 },
  max_depth: { type: 'randint', lower: 3, upper: 11 },
  n_estimators: { type: 'randint', lower: 50, upper: 500 },
  num_leaves: { type: 'randint', lower: 15, upper: 128 },
  min_child_weight: { type: 'loguniform', lower: 0.5, upper: 10 },
  subsample: { type: 'uniform', lower: 0.5, upper: 1 },
};

/** Metric per task type that "best" means, and whether higher is better. */
const BEST_METRIC: Record<string, [string, 'max' | 'min']> = { classification: ['accuracy', 'max'], regression: ['rmse', 'min'], forecasting: ['mape', 'min'] };

/** Words that describe rather than name: never taken as a model's or table's name. */
const GENERIC = new Set(['model', 'data', 'dataset', 'table', 'the', 'my', 'best', 'deploy', 'job', 'version', 'train', 'predict', 'id', 'to', 'a', 'of', 'for', 'new', 'last']);

/** A model the message points at: a registered version, or a finished training job not registered yet. */
interface ModelRef {
  name: string;
  version?: string;
  job_id: string | null;
  task_type?: string;
  metrics: Record<string, unknown>;
}

interface Context {
  message: string;
  text: string;
  words: Word[];
  stems: Set<string>;
  catalog: Catalog;
  entities: ConversationEntities;
}

/**
 * The embedded language understanding (no external model): the message's words, typo-corrected
 * against the cue words and the tenant's own names, score each intent by its cues; the best intent
 * over MIN_SCORE wins (ties go to the earlier intent of INTENTS), its handler fills the tool
 * arguments from the catalog and the conversation's entities, and asks when a name matches several
 * things. Out-of-scope patterns are checked first; a message with no intent but a slot ("what about
 * lightgbm?") repeats the conversation's last intent with that slot changed.
 */
export function understand(message: string, catalog: Catalog, entities: ConversationEntities): Understanding {
  for (const { pattern, reply } of OUT_OF_SCOPE) {
    if (pattern.test(message)) {
      return { agent: 'none', intent: 'out_of_scope', steps: [], reply: `${reply} ${CAPABILITIES}`, entities: {} };
    }
  }
  const vocabulary = new Vocabulary(vocabularyOf(catalog));
  const messageWords = words(message, vocabulary);
  const context: Context = {
    message,
    text: ` ${messageWords.map((word) => word.stem).join(' ')} `,
    words: messageWords,
    stems: new Set(messageWords.map((word) => word.stem)),
    catalog,
    entities,
  };
  const ranked = INTENTS.map((intent) => ({ intent, score: score(intent, context) })).sort((a, b) => b.score - a.score);
  let chosen = refine(ranked[0].score >= MIN_SCORE ? ranked[0].intent : undefined, ranked, context);
  let followUp = false;
  if (chosen === undefined && entities.last_intent !== undefined && hasSlot(context)) {
    chosen = INTENTS.find((intent) => intent.name === entities.last_intent);
    followUp = true;
  }
  if (chosen === undefined) {
    return { agent: 'none', intent: 'out_of_scope', steps: [], reply: `I did not understand that as something I can do. ${CAPABILITIES}`, entities: {} };
  }
  const handler = HANDLERS[chosen.name];
  return handler(context, chosen, followUp);
}

function vocabularyOf(catalog: Catalog): string[] {
  const vocabulary = INTENTS.flatMap((intent) => Object.keys(intent.cues).flatMap((cue) => cue.replace(/^=/, '').split(' ')));
  vocabulary.push(...Object.keys(ALGORITHM_WORDS).flatMap((word) => word.split(' ')), ...Object.keys(HYPERPARAMETER_WORDS).flatMap((word) => word.split(' ')));
  vocabulary.push('classification', 'regression', 'forecasting', 'production', 'staging', 'version', 'model', 'customer', 'churn', 'trials', 'dataset');
  for (const table of catalog.tables) {
    vocabulary.push(...nameParts(table.name), ...table.columns.flatMap((column) => nameParts(column.name)));
  }
  for (const model of catalog.models) vocabulary.push(...nameParts(model.name));
  for (const job of catalog.jobs) vocabulary.push(...nameParts(job.name));
  for (const names of Object.values(catalog.algorithms)) vocabulary.push(...names.flatMap(nameParts));
  return vocabulary;
}

/** The sum of the matched cues' weights; cues of one stem ("column", "columns") count once, at their highest weight. */
function score(intent: IntentSpec, context: Context): number {
  const matched = new Map<string, number>();
  for (const [cue, weight] of Object.entries(intent.cues)) {
    let hit: boolean;
    if (cue.startsWith('=')) hit = context.words.some((word) => word.word === cue.slice(1));
    else if (cue.includes(' ')) hit = context.text.includes(` ${cue.split(' ').map(stemOf).join(' ')} `);
    else if (cue === '%') hit = context.message.includes('%');
    else hit = context.stems.has(stemOf(cue));
    const key = cue.includes(' ') ? cue : stemOf(cue.replace(/^=/, ''));
    if (hit) matched.set(key, Math.max(matched.get(key) ?? 0, weight));
  }
  return [...matched.values()].reduce((sum, weight) => sum + weight, 0);
}

/**
 * Decisions the cue scores alone get wrong, each a rule a person would state: "delete the
 * deployment" undeploys; "cancel" / "stop" of a sweep is the sweep's; "how is the sweep going" asks
 * for status; "predict ... for tenure=3" is a prediction, "a model to predict" is training.
 */
function refine(chosen: IntentSpec | undefined, ranked: { intent: IntentSpec; score: number }[], context: Context): IntentSpec | undefined {
  const byName = (name: string): IntentSpec => INTENTS.find((intent) => intent.name === name) as IntentSpec;
  const has = (...stems: string[]): boolean => stems.some((word) => context.stems.has(stemOf(word)));
  const scoreOf = (name: string): number => ranked.find(({ intent }) => intent.name === name)?.score ?? 0;
  const asksStatus = has('status', 'progress', 'going', 'doing', 'finished', 'done');
  // "stop the training job": the verb decides, not the thing.
  if ((chosen?.name === 'train' || chosen?.name === 'tune' || chosen?.name === 'job_status') && scoreOf('cancel') >= MIN_SCORE) return byName('cancel');
  if (chosen?.name === 'train' && (asksStatus || context.words.some((word) => word.word === 'jobs')) && algorithmIn(context) === undefined) return byName('job_status');
  if (chosen?.name === 'tune' && has('list', 'show', 'all') && context.words.some((word) => word.word === 'sweeps')) return byName('job_status');
  if (chosen?.name === 'delete' && has('deployment', 'endpoint') && !has('model', 'version')) return byName('undeploy');
  if (chosen?.name === 'delete' && has('dataset', 'upload') && !has('model', 'version')) return undefined;
  if (chosen?.name === 'tune' && asksStatus && !has('launch', 'start', 'run')) return byName('job_status');
  if (chosen?.name === 'predict' && !hasFeatureValues(context)) return ranked.find(({ intent, score }) => intent.name !== 'predict' && score >= MIN_SCORE)?.intent;
  if ((chosen?.name === 'train' || chosen === undefined) && hasFeatureValues(context) && has('predict', 'score')) return byName('predict');
  if (chosen?.name === 'list_models' && has('deploy', 'deployed') && !has('registered', 'registry')) return byName('list_deployments');
  if (chosen?.name === 'importance' && has('drift')) return byName('drift');
  if (context.catalog.feature_sets.some((name) => context.words.some((word) => word.raw === name.toLowerCase())) && !['train', 'tune', 'deploy', 'profile'].includes(chosen?.name ?? '')) return byName('feature_sets');
  return chosen;
}

/** `tenure=12`, `tenure 12` with a known column: the message carries a feature record. */
function hasFeatureValues(context: Context): boolean {
  return Object.keys(featureValues(context)).length > 0;
}

function featureValues(context: Context): Record<string, unknown> {
  const columns = new Set(context.catalog.tables.flatMap((table) => table.columns.map((column) => column.name.toLowerCase())));
  const values: Record<string, unknown> = {};
  for (const match of context.message.matchAll(/([A-Za-z_][A-Za-z0-9_]*)\s*(?:=|:|\s\bof\b|\s\bis\b)?\s*("[^"]*"|-?\d[\w.]*|(?<=[=:]\s*)[-\w.]+)/g)) {
    const name = match[1].trim().toLowerCase().replace(/\s+/g, '_');
    const key = [...columns].find((column) => name === column || name.endsWith(`_${column}`) || name.endsWith(` ${column}`));
    if (key !== undefined) {
      const raw = match[2].replace(/^"|"$/g, '');
      values[key] = /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw;
    }
  }
  return values;
}

/** A slot a follow-up may change: an algorithm, a task type, a model or table name. */
function hasSlot(context: Context): boolean {
  return algorithmIn(context) !== undefined || taskWord(context) !== undefined || matchedModels(context).length > 0 || rankTables(context).some((table) => table.score > 0);
}

function algorithmIn(context: Context): string | undefined {
  for (const [phrase, algorithm] of Object.entries(ALGORITHM_WORDS)) {
    if (phrase.includes(' ') ? context.text.includes(` ${phrase.split(' ').map(stemOf).join(' ')} `) : context.words.some((word) => word.word === phrase)) {
      // "linear regression" is the linear algorithm; "regression" alone is a task type.
      return algorithm;
    }
  }
  return undefined;
}

function taskWord(context: Context): string | undefined {
  // "logistic regression" and "linear regression" name an algorithm, not a task.
  if (/\b(logistic|linear)\s+regression\b/i.test(context.message)) return /\blogistic\b/i.test(context.message) ? 'classification' : undefined;
  if (context.stems.has(stemOf('regression')) || context.stems.has(stemOf('regressor'))) return 'regression';
  if (context.stems.has(stemOf('classification')) || context.stems.has(stemOf('classifier')) || context.stems.has(stemOf('classify'))) return 'classification';
  if (context.stems.has(stemOf('forecast')) || context.stems.has(stemOf('forecasting'))) return 'forecasting';
  return undefined;
}

/** The name-part stems of a catalog name ("customer_churn" → {custom, churn}), without generic words. */
function partStems(name: string): string[] {
  return nameParts(name)
    .filter((part) => !GENERIC.has(part) && !/^\d+$/.test(part))
    .map(stemOf);
}

/** Tables by how much of their name (and their columns' names) the message mentions. */
function rankTables(context: Context): { table: CatalogTable; score: number }[] {
  return context.catalog.tables
    .map((table) => {
      const raw = context.words.some((word) => word.raw === table.qualified_name.toLowerCase() || word.raw === table.name.toLowerCase());
      const nameHits = partStems(table.name).filter((part) => context.stems.has(part)).length;
      const columnHits = table.columns.filter((column) => columnMentioned(column.name, context)).length;
      return { table, score: (raw ? 10 : 0) + nameHits + columnHits * 0.5 };
    })
    .sort((a, b) => b.score - a.score);
}

/** A column is mentioned when all its name parts are ("monthly charges", "monthly_charges"); an id column only by its exact name. */
function columnMentioned(name: string, context: Context): boolean {
  const parts = nameParts(name);
  if (context.words.some((word) => word.raw === name.toLowerCase())) return true;
  if (parts.includes('id')) return false;
  return parts.length > 0 && parts.every((part) => context.stems.has(stemOf(part)));
}

/** The position of a column's first mention, for "predict X using Y and Z". */
function mentionIndex(name: string, context: Context): number {
  const first = stemOf(nameParts(name)[0] ?? name);
  return context.words.findIndex((word) => word.raw === name.toLowerCase() || word.stem === first);
}

/** The first of these columns mentioned after the word at `index` ("predict price" → price), if any. */
function firstMentionAfter<T extends { name: string }>(columns: T[], index: number, context: Context): T | undefined {
  if (index < 0) return undefined;
  for (const word of context.words.slice(index + 1)) {
    const column = columns.find((candidate) => word.raw === candidate.name.toLowerCase() || word.stem === stemOf(nameParts(candidate.name)[0] ?? ''));
    if (column !== undefined) return column;
  }
  return undefined;
}

/** The table the message means: named, else the one in play, else asked about. */
function resolveTable(context: Context): { table?: CatalogTable; question?: Understanding['question'] } {
  const ranked = rankTables(context).filter(({ score }) => score > 0);
  if (ranked.length === 0) {
    const inPlay = context.catalog.tables.find((table) => table.qualified_name === context.entities.dataset);
    if (inPlay !== undefined) return { table: inPlay };
    return { question: { text: 'Which table do you mean?', candidates: context.catalog.tables.map((table) => table.qualified_name) } };
  }
  const top = ranked.filter(({ score }) => score === ranked[0].score);
  if (top.length === 1) return { table: top[0].table };
  const inPlay = top.find(({ table }) => table.qualified_name === context.entities.dataset);
  if (inPlay !== undefined) return { table: inPlay.table };
  const names = top.map(({ table }) => table.qualified_name);
  return { question: { text: `Which table do you mean: ${names.join(', ')}?`, candidates: names } };
}

function parseNumber(text: string): number | undefined {
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

/** "30% test", "test size 0.25", "80/20 split", "hold out 20 percent" → split.test_size. */
function testSize(message: string): number | undefined {
  const ratio = /\b(\d{1,2})\s*\/\s*(\d{1,2})\s*split\b/i.exec(message);
  if (ratio !== null) return Number(ratio[2]) / 100;
  const percent = /\b(\d{1,2}(?:\.\d+)?)\s*(?:%|percent)\s*(?:of the data\s*)?(?:for\s*)?(?:test|holdout|hold-out|held out)/i.exec(message) ?? /(?:test(?:\s*(?:size|split|set))?|hold\s*out|holdout)\s*(?:of|=|:)?\s*(\d{1,2}(?:\.\d+)?)\s*(?:%|percent)/i.exec(message);
  if (percent !== null) return Number(percent[1]) / 100;
  const fraction = /test[\s_]*size\s*(?:of|=|:)?\s*(0?\.\d+)/i.exec(message);
  return fraction !== null ? parseNumber(fraction[1]) : undefined;
}

/** Hyperparameter names of the catalog and their everyday names, each with its value when one follows ("max depth 4", "300 trees"). */
function hyperparameters(context: Context): { names: string[]; values: Record<string, number> } {
  const known = new Map<string, string>(Object.entries(HYPERPARAMETER_WORDS));
  for (const names of Object.values(context.catalog.algorithms)) for (const name of names) known.set(name.replace(/_/g, ' '), name);
  const names: string[] = [];
  const values: Record<string, number> = {};
  // The typo-corrected words, so "lerning rate" is the learning rate.
  const lower = context.words.map((word) => (/^-?\d/.test(word.raw) ? word.raw : word.word)).join(' ');
  for (const [phrase, name] of [...known.entries()].sort((a, b) => b[0].length - a[0].length)) {
    const escaped = phrase.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const after = new RegExp(`\\b${escaped}\\b\\s*(?:of|=|:|to|at)?\\s*(\\d+(?:\\.\\d+)?)`).exec(lower);
    const before = new RegExp(`\\b(\\d+(?:\\.\\d+)?)\\s+${escaped}\\b`).exec(lower);
    const mentioned = new RegExp(`\\b${escaped}\\b`).test(lower);
    if (!mentioned || names.includes(name)) continue;
    names.push(name);
    const value = after?.[1] ?? before?.[1];
    if (value !== undefined) values[name] = Number(value);
  }
  return { names, values };
}

/** Every model the catalog knows: registered versions, and finished jobs not registered. */
function candidates(catalog: Catalog): ModelRef[] {
  const jobTask = new Map(catalog.jobs.map((job) => [job.job_id, job.task_type]));
  const refs: ModelRef[] = catalog.models.flatMap((model) =>
    model.versions.map((version) => ({ name: model.name, version: version.version, job_id: version.job_id, task_type: version.job_id === null ? undefined : jobTask.get(version.job_id), metrics: version.metrics })),
  );
  const registeredJobs = new Set(refs.map((ref) => ref.job_id));
  for (const job of catalog.jobs) {
    if (job.status === 'completed' && !registeredJobs.has(job.job_id)) refs.push(jobRef(job));
  }
  return refs;
}

function jobRef(job: CatalogJob): ModelRef {
  if (job.registered_version) return { name: job.registered_version.model_name, version: job.registered_version.version, job_id: job.job_id, task_type: job.task_type, metrics: job.metrics ?? {} };
  return { name: job.name, job_id: job.job_id, task_type: job.task_type, metrics: job.metrics ?? {} };
}

/** Models whose name the message mentions (all of a short name's parts, or any distinctive part). */
function matchedModels(context: Context): ModelRef[] {
  return bestNamed(candidates(context.catalog), (ref) => ref.name, context);
}

/**
 * The items whose name the message mentions best: the name as typed beats any part of it, and more
 * of its parts beat fewer ("churn-lightgbm" is churn-lightgbm, not churn-xgboost; "churn" is both).
 * An algorithm word alone names no model ("what about lightgbm?" changes the algorithm).
 */
function bestNamed<T>(items: T[], nameOf: (item: T) => string, context: Context): T[] {
  const algorithmStems = new Set(Object.keys(ALGORITHM_WORDS).map(stemOf));
  const scored = items.map((item) => {
    const name = nameOf(item).toLowerCase();
    if (context.words.some((word) => word.raw === name)) return { item, score: 100 };
    const parts = partStems(name);
    const hits = parts.filter((part) => context.stems.has(part));
    return { item, score: hits.some((part) => !algorithmStems.has(part)) ? hits.length : 0 };
  });
  const top = Math.max(0, ...scored.map(({ score }) => score));
  return top === 0 ? [] : scored.filter(({ score }) => score === top).map(({ item }) => item);
}

function better(a: ModelRef, b: ModelRef): ModelRef {
  const [metric, direction] = BEST_METRIC[a.task_type ?? 'classification'] ?? BEST_METRIC.classification;
  const value = (ref: ModelRef): number => {
    const raw = ref.metrics[metric];
    if (typeof raw !== 'number') return direction === 'max' ? -Infinity : Infinity;
    return raw;
  };
  return (direction === 'max' ? value(b) > value(a) : value(b) < value(a)) ? b : a;
}

/** The version number a message names ("version 3", "v2"). */
function versionIn(message: string): string | undefined {
  return /\b(?:version|v)\s*(\d{1,6})\b/i.exec(message)?.[1];
}

/**
 * The model a message means: an id it names; a model it names; "it" / "the model" → the one in
 * play; "best" → the best test metric among the matches; several different names → ask.
 */
function resolveModel(context: Context, preferBest = false): { ref?: ModelRef; question?: Understanding['question'] } {
  const { catalog } = context;
  const all = candidates(catalog);
  const jobId = /\btrain-[0-9a-f]{12}\b/.exec(context.message)?.[0];
  if (jobId !== undefined) {
    const job = catalog.jobs.find((candidate) => candidate.job_id === jobId);
    return { ref: all.find((ref) => ref.job_id === jobId) ?? (job ? jobRef(job) : { name: jobId, job_id: jobId, metrics: {} }) };
  }
  const best = context.stems.has(stemOf('best')) || context.stems.has(stemOf('top'));
  const task = taskWord(context);
  let matches = matchedModels(context);
  if (task !== undefined) matches = (matches.length > 0 ? matches : all).filter((ref) => ref.task_type === task);
  const version = versionIn(context.message);
  const inPlay = refInPlay(context);
  if (matches.length === 0) {
    if (inPlay !== undefined) return { ref: inPlay };
    if (all.length === 1) return { ref: all[0] };
    if (best && all.length > 0) return { ref: all.reduce(better) };
    const names = [...new Set(all.map((ref) => ref.name))];
    return { question: { text: names.length === 0 ? 'There is no trained model yet: train one first (e.g. "train a model to predict churn").' : `Which model do you mean: ${names.join(', ')}?`, candidates: names } };
  }
  if (version !== undefined) {
    const exact = matches.find((ref) => ref.version === version);
    if (exact !== undefined) return { ref: exact };
  }
  if (best) return { ref: matches.reduce(better) };
  // The one in play when it is among the matches ("my churn model" after training one).
  if (inPlay !== undefined && matches.some((ref) => ref.name === inPlay.name || ref.job_id === inPlay.job_id)) return { ref: matches.find((ref) => ref.job_id === inPlay.job_id) ?? inPlay };
  const names = [...new Set(matches.map((ref) => ref.name))];
  if (names.length > 1) {
    // "my churn model" among several churn models: the one serving, else the one in Production.
    const deployed = catalog.deployments.map((deployment) => deployment.model_name).find((name) => names.includes(name));
    const production = catalog.models.find((model) => names.includes(model.name) && model.production_version !== null);
    const chosen = deployed ?? production?.name;
    if (chosen !== undefined) {
      const model = catalog.models.find((candidate) => candidate.name === chosen);
      const version = catalog.deployments.find((deployment) => deployment.model_name === chosen)?.versions[0] ?? model?.production_version;
      const ref = matches.find((candidate) => candidate.name === chosen && candidate.version === version);
      if (ref !== undefined) return { ref };
    }
    if (preferBest) return { ref: matches.reduce(better) };
  }
  if (names.length > 1) return { question: { text: `Which model do you mean: ${names.join(', ')}? (or say "the best churn model")`, candidates: names } };
  const versions = matches.filter((ref) => ref.version !== undefined);
  const production = catalog.models.find((model) => model.name === names[0])?.production_version;
  return { ref: versions.find((ref) => ref.version === production) ?? versions.at(-1) ?? matches[0] };
}

function refInPlay(context: Context): ModelRef | undefined {
  const { entities, catalog } = context;
  if (entities.model !== undefined) {
    const found = candidates(catalog).find((ref) => ref.name === entities.model?.name && (entities.model.version === undefined || ref.version === entities.model.version));
    return found ?? { name: entities.model.name, version: entities.model.version, job_id: null, metrics: {} };
  }
  if (entities.job_id !== undefined) {
    const job = catalog.jobs.find((candidate) => candidate.job_id === entities.job_id);
    return job ? jobRef(job) : { name: entities.topic ?? entities.job_id, job_id: entities.job_id, task_type: entities.task_type, metrics: {} };
  }
  return undefined;
}

/** The deployment a message means: its id, its model's name, the one in play, the only one; else ask. */
function resolveDeployment(context: Context): { deployment?: Catalog['deployments'][number]; question?: Understanding['question'] } {
  const deployments = context.catalog.deployments;
  const named = deployments.find((deployment) => context.words.some((word) => word.raw === deployment.model_id.toLowerCase()));
  if (named !== undefined) return { deployment: named };
  const byModel = deployments.filter((deployment) => {
    const parts = partStems(deployment.model_name).concat(partStems(deployment.model_id));
    return parts.some((part) => context.stems.has(part));
  });
  const inPlay = deployments.find((deployment) => deployment.model_id === context.entities.deployment);
  if (byModel.length === 1) return { deployment: byModel[0] };
  if (inPlay !== undefined && (byModel.length === 0 || byModel.includes(inPlay))) return { deployment: inPlay };
  if (context.entities.deployment !== undefined && byModel.length === 0) {
    return { deployment: { model_id: context.entities.deployment, model_name: context.entities.model?.name ?? '', status: 'unknown', task_type: '', versions: [] } };
  }
  const pool = byModel.length > 0 ? byModel : deployments;
  if (pool.length === 1) return { deployment: pool[0] };
  if (pool.length === 0) return { question: { text: 'Nothing is deployed yet.', candidates: [] } };
  const ids = pool.map((deployment) => deployment.model_id);
  return { question: { text: `Which deployment do you mean: ${ids.join(', ')}?`, candidates: ids } };
}

type Handler = (context: Context, intent: IntentSpec, followUp: boolean) => Understanding;

function answer(intent: IntentSpec, steps: PlannedCall[], entities: Partial<ConversationEntities> = {}, agent: ChatAgent = intent.agent): Understanding {
  return { agent, intent: intent.name, steps, entities: { ...entities, last_intent: intent.name, last_arguments: steps[0]?.arguments } };
}

function ask(intent: IntentSpec, question: NonNullable<Understanding['question']>, agent: ChatAgent = intent.agent): Understanding {
  return { agent, intent: intent.name, steps: [], question, entities: { last_intent: intent.name } };
}

/** A name for a new job or model from the topic ("churn") and the algorithm: `churn-xgboost`. */
function jobName(topic: string, algorithm: string): string {
  return `${topic}-${algorithm}`.replace(/[^A-Za-z0-9_.-]+/g, '-').slice(0, 120);
}

/** A registered model name for an unregistered job: its name, made a valid model name. */
function modelNameOf(ref: ModelRef): string {
  return ref.name.replace(/[^A-Za-z0-9_.-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 128) || 'model';
}

const train: Handler = (context, intent, followUp) => {
  const previous = followUp ? (context.entities.last_arguments ?? {}) : {};
  const task = taskWord(context);
  let resolved = resolveTable(context);
  if (followUp && rankTables(context).every(({ score }) => score === 0)) {
    const table = context.catalog.tables.find((candidate) => candidate.qualified_name === (previous.dataset as { table?: string } | undefined)?.table);
    if (table !== undefined) resolved = { table };
  }
  if (followUp && task !== undefined && task !== previous.task_type) {
    // "and the regression one?": the same request for a target of that kind, in the tables in play or any.
    const target = findTarget(context.catalog.tables, task, resolved.table);
    if (target !== undefined) resolved = { table: target.table };
  }
  if (resolved.table === undefined) return ask(intent, resolved.question ?? { text: 'Which table should it learn from?', candidates: [] });
  const table = resolved.table;
  const mentioned = table.columns.filter((column) => columnMentioned(column.name, context)).sort((a, b) => mentionIndex(a.name, context) - mentionIndex(b.name, context));
  const targetWordIndex = context.words.findIndex((word) => ['predict', 'forecast', 'target', 'estim', 'classifi', 'label'].includes(word.stem));
  let target: CatalogTable['columns'][number] | undefined = firstMentionAfter(mentioned, targetWordIndex, context) ?? mentioned.find((column) => isClassLike(column)) ?? mentioned[0];
  if (followUp && task !== undefined) target = findTarget([table], task)?.column ?? target;
  if (target === undefined && typeof previous.target_column === 'string') target = table.columns.find((column) => column.name === previous.target_column);
  if (target === undefined) {
    const columns = table.columns.filter((column) => !nameParts(column.name).includes('id')).map((column) => column.name);
    return ask(intent, { text: `Which column of ${table.qualified_name} should the model predict?`, candidates: columns });
  }
  const usingIndex = context.words.findIndex((word) => ['use', 'using', 'with', 'from', 'featur', 'on', 'base'].includes(word.stem) || ['using', 'with', 'features', 'based'].includes(word.word));
  const features = mentioned.filter((column) => column !== target && usingIndex >= 0 && mentionIndex(column.name, context) > usingIndex).map((column) => column.name);
  const timeColumn = table.columns.find((column) => /date|time/i.test(column.type) || /^(date|ds|timestamp)$/i.test(column.name));
  const taskType = task ?? (timeColumn !== undefined && !isClassLike(target) && table.columns.length <= 3 ? 'forecasting' : isClassLike(target) ? 'classification' : 'regression');
  const algorithm = algorithmIn(context) ?? (followUp && previous.task_type === taskType && typeof previous.algorithm === 'string' ? previous.algorithm : taskType === 'forecasting' ? 'prophet' : 'xgboost');
  // "churned" → "churn": the job is named after what it predicts.
  const bare = target.name.replace(/ed$/, '');
  const topic = stemOf(bare) === stemOf(target.name) ? bare : target.name;
  const args: Record<string, unknown> = { name: jobName(topic, algorithm), algorithm, task_type: taskType, dataset: { source: 'table', table: table.qualified_name }, target_column: target.name };
  if (features.length > 0) args.feature_columns = features;
  else if (followUp && Array.isArray(previous.feature_columns) && previous.target_column === target.name) args.feature_columns = previous.feature_columns;
  if (taskType === 'forecasting' && timeColumn !== undefined) {
    args.time_column = timeColumn.name;
    const horizon = /\b(?:next|for|horizon(?: of)?)\s+(\d{1,4})\s*(?:days?|periods?|steps?)?/i.exec(context.message)?.[1];
    if (horizon !== undefined) args.horizon = Number(horizon);
  }
  const size = testSize(context.message);
  if (size !== undefined) args.split = { test_size: size };
  const { values } = hyperparameters(context);
  if (Object.keys(values).length > 0) args.hyperparameters = values;
  return answer(intent, [{ tool: 'TrainingController_submitTrainingJob', arguments: args }], { dataset: table.qualified_name, target_column: target.name, task_type: taskType, topic });
};

/**
 * Whether a column reads as a class label: text or boolean, or an integer named like a flag
 * ("churned", "is_active", "has_premium", "label"). The datasets list gives types, not distinct
 * counts, so the name decides for integers; the ML Service still checks the choice.
 */
function isClassLike(column: { name: string; type: string }): boolean {
  if (/bool|char|text|string|enum/i.test(column.type)) return true;
  return /int/i.test(column.type) && /(ed$|^is_|^has_|flag|label|class|outcome|category)/i.test(column.name);
}

/** A column fit to be the target of a task of that kind ("the regression one"), preferring the given table. */
function findTarget(tables: CatalogTable[], task: string, prefer?: CatalogTable): { table: CatalogTable; column: CatalogTable['columns'][number] } | undefined {
  const ordered = prefer === undefined ? tables : [prefer, ...tables.filter((table) => table !== prefer)];
  for (const table of ordered) {
    const columns = table.columns.filter((column) => !nameParts(column.name).includes('id'));
    // The last column is where tables keep their label (churned, lifetime_value, revenue).
    const last = columns.at(-1);
    if (last === undefined) continue;
    if (task === 'classification' && isClassLike(last)) return { table, column: last };
    if (task === 'regression' && !isClassLike(last) && !/date|time/i.test(last.type) && columns.length > 2) return { table, column: last };
  }
  return undefined;
}

const tune: Handler = (context, intent) => {
  const { ref, question } = resolveModel(context);
  if (ref === undefined) return ask(intent, question as NonNullable<Understanding['question']>);
  const { names } = hyperparameters(context);
  const args: Record<string, unknown> = ref.version !== undefined ? { base_model: { model_name: ref.name, version: ref.version } } : { base_job_id: ref.job_id };
  const space = Object.fromEntries(names.filter((name) => SEARCH_RANGES[name] !== undefined).map((name) => [name, SEARCH_RANGES[name]]));
  if (Object.keys(space).length > 0) args.search_space = space;
  const trials = /\b(\d{1,4})\s*(?:trials|samples|tries|configurations|runs)\b/i.exec(context.message)?.[1];
  if (trials !== undefined) args.num_samples = Number(trials);
  return answer(intent, [{ tool: 'TuningController_submitTuningSweepFromBase', arguments: args }], modelEntities(ref));
};

function modelEntities(ref: ModelRef): Partial<ConversationEntities> {
  return { ...(ref.version !== undefined ? { model: { name: ref.name, version: ref.version } } : {}), ...(ref.job_id !== null ? { job_id: ref.job_id } : {}), ...(ref.task_type ? { task_type: ref.task_type } : {}) };
}

const importance: Handler = (context, intent) => {
  const { ref, question } = resolveModel(context, true);
  if (ref === undefined) return ask(intent, question as NonNullable<Understanding['question']>);
  if (ref.job_id === null) return ask(intent, { text: `${ref.name} v${ref.version} was not made by a training job here, so it has no importance chart.`, candidates: [] });
  return answer(intent, [{ tool: 'TrainingController_getTrainingJob', arguments: { job_id: ref.job_id } }], modelEntities(ref));
};

const deploy: Handler = (context, intent) => {
  const { ref, question } = resolveModel(context);
  if (ref === undefined) return ask(intent, question as NonNullable<Understanding['question']>);
  if (ref.version !== undefined) {
    // A model that already has a deployment: serving that version already is nothing to do (a read,
    // no confirmation); another version is a blue-green release next to it, not a second deployment.
    const serving = context.catalog.deployments.find((deployment) => deployment.model_name === ref.name);
    if (serving?.versions.includes(ref.version) === true) {
      return answer(intent, [{ tool: 'ServingController_getDeployment', arguments: { model_id: serving.model_id } }], { ...modelEntities(ref), deployment: serving.model_id });
    }
    if (serving !== undefined) {
      return answer(intent, [{ tool: 'ServingController_releaseVersion', arguments: { model_id: serving.model_id, version: Number(ref.version) } }], { ...modelEntities(ref), deployment: serving.model_id });
    }
    return answer(intent, [{ tool: 'ServingController_createDeployment', arguments: { model_name: ref.name, version: Number(ref.version) } }], modelEntities(ref));
  }
  const name = modelNameOf(ref);
  return answer(
    intent,
    [
      { tool: 'RegistryController_registerModelVersion', arguments: { name, job_id: ref.job_id } },
      { tool: 'ServingController_createDeployment', arguments: { model_name: name, version: '<the version step 1 registers>' }, from_step: { version: [0, 'version'] } },
    ],
    { ...modelEntities(ref), model: { name } },
  );
};

function deploymentAction(tool: string): Handler {
  return (context, intent) => {
    const { deployment, question } = resolveDeployment(context);
    if (deployment === undefined) return ask(intent, question as NonNullable<Understanding['question']>);
    return answer(intent, [{ tool, arguments: { model_id: deployment.model_id } }], { deployment: deployment.model_id });
  };
}

const traffic: Handler = (context, intent) => {
  const { deployment, question } = resolveDeployment(context);
  if (deployment === undefined) return ask(intent, question as NonNullable<Understanding['question']>);
  const versions = [...context.message.matchAll(/\b(?:version|v)\s*(\d{1,6})\b/gi)].map((match) => Number(match[1]));
  const percents = [...context.message.matchAll(/\b(\d{1,3})\s*(?:%|percent)/gi)].map((match) => Number(match[1]));
  const ratio = /\b(\d{1,3})\s*\/\s*(\d{1,3})\b/.exec(context.message);
  let variants: { version: number; weight: number }[] | undefined;
  if (ratio !== null && versions.length === 2) variants = [{ version: versions[0], weight: Number(ratio[1]) / 100 }, { version: versions[1], weight: Number(ratio[2]) / 100 }];
  else if (percents.length === 1 && versions.length === 1) {
    const current = Number(deployment.versions.find((version) => Number(version) !== versions[0]) ?? deployment.versions[0]);
    variants = [{ version: versions[0], weight: percents[0] / 100 }, { version: current, weight: 1 - percents[0] / 100 }];
  }
  if (variants === undefined) return ask(intent, { text: 'How should traffic be split? e.g. "send 20% to version 2" or "split 80/20 between version 1 and version 2".', candidates: [] });
  return answer(intent, [{ tool: 'ServingController_setTraffic', arguments: { model_id: deployment.model_id, variants } }], { deployment: deployment.model_id });
};

const predict: Handler = (context, intent) => {
  const { deployment, question } = resolveDeployment(context);
  if (deployment === undefined) return ask(intent, question as NonNullable<Understanding['question']>);
  return answer(intent, [{ tool: 'ServingController_predict', arguments: { model_id: deployment.model_id, input: featureValues(context) } }], { deployment: deployment.model_id });
};

const accuracy: Handler = (context, intent) => {
  const deployments = context.catalog.deployments;
  const mentionsDeployment = context.stems.has(stemOf('deployed')) || context.stems.has(stemOf('production')) || context.stems.has(stemOf('live')) || context.stems.has(stemOf('serving'));
  const namedDeployment = deployments.some((deployment) => context.words.some((word) => word.raw === deployment.model_id.toLowerCase()));
  const viaDeployment = mentionsDeployment || namedDeployment || (matchedModels(context).length === 0 && context.entities.deployment !== undefined);
  const modelAsked = !namedDeployment && (matchedModels(context).length > 0 || taskWord(context) !== undefined);
  if ((viaDeployment && taskWord(context) === undefined) || (deployments.length > 0 && !modelAsked && context.entities.model === undefined && context.entities.job_id === undefined)) {
    const { deployment, question } = resolveDeployment(context);
    if (deployment === undefined) return ask(intent, question as NonNullable<Understanding['question']>);
    const steps: PlannedCall[] = [{ tool: 'ServingController_getServingMetrics', arguments: { model_id: deployment.model_id } }];
    const version = deployment.versions[0];
    if (deployment.model_name !== '' && version !== undefined) steps.push({ tool: 'RegistryController_getModelVersion', arguments: { name: deployment.model_name, version } });
    return answer(intent, steps, { deployment: deployment.model_id });
  }
  const { ref, question } = resolveModel(context, true);
  if (ref === undefined) return ask(intent, question as NonNullable<Understanding['question']>);
  if (ref.version !== undefined) return answer(intent, [{ tool: 'RegistryController_getModelVersion', arguments: { name: ref.name, version: ref.version } }], modelEntities(ref));
  return answer(intent, [{ tool: 'TrainingController_getTrainingJob', arguments: { job_id: ref.job_id } }], modelEntities(ref));
};

const drift: Handler = (context, intent) => {
  const { deployment, question } = resolveDeployment(context);
  if (deployment === undefined) return ask(intent, question as NonNullable<Understanding['question']>);
  const args: Record<string, unknown> = { model_id: deployment.model_id };
  const window = /\b(?:last|past)\s+(\d{1,3})?\s*(hour|day|week|minute)s?\b/i.exec(context.message);
  if (window !== null) args.window = `${(Number(window[1] ?? 1) * (window[2].toLowerCase() === 'week' ? 7 : 1)).toString()}${{ hour: 'h', day: 'd', week: 'd', minute: 'm' }[window[2].toLowerCase()]}`;
  return answer(intent, [{ tool: 'ServingController_getDrift', arguments: args }], { deployment: deployment.model_id });
};

const profile: Handler = (context, intent) => {
  const { table, question } = resolveTable(context);
  if (table === undefined) return ask(intent, question as NonNullable<Understanding['question']>);
  const args: Record<string, unknown> = { dataset: { source: 'table', table: table.qualified_name } };
  const target = /\btarget\s+(?:column\s+)?([a-z_][a-z0-9_]*)/i.exec(context.message)?.[1];
  if (target !== undefined && table.columns.some((column) => column.name === target)) args.target_column = target;
  return answer(intent, [{ tool: 'EdaController_createProfile', arguments: args }], { dataset: table.qualified_name });
};

const describeDataset: Handler = (context, intent) => {
  const { table, question } = resolveTable(context);
  if (table === undefined) return ask(intent, question as NonNullable<Understanding['question']>);
  return answer(intent, [{ tool: 'DatasetsController_getDataset', arguments: { table: table.qualified_name } }], { dataset: table.qualified_name });
};

const jobStatus: Handler = (context, intent) => {
  const sweepId = /\bsweep-[0-9a-f]{12}\b/.exec(context.message)?.[0];
  const aboutSweep = sweepId !== undefined || context.stems.has(stemOf('sweep')) || context.stems.has(stemOf('tuning'));
  if (aboutSweep) {
    const id = sweepId ?? context.entities.sweep_id ?? context.catalog.sweeps[0]?.sweep_id;
    if (id === undefined || (context.words.some((word) => word.word === 'sweeps') && sweepId === undefined)) return answer(intent, [{ tool: 'TuningController_listTuningSweeps', arguments: {} }], {}, 'tuning');
    return answer(intent, [{ tool: 'TuningController_getTuningSweep', arguments: { sweep_id: id } }], { sweep_id: id }, 'tuning');
  }
  const jobId = /\btrain-[0-9a-f]{12}\b/.exec(context.message)?.[0];
  const plural = context.words.some((word) => word.word === 'jobs');
  if (jobId === undefined && plural) return answer(intent, [{ tool: 'TrainingController_listTrainingJobs', arguments: {} }]);
  const id = jobId ?? context.entities.job_id ?? context.catalog.jobs[0]?.job_id;
  if (id === undefined) return ask(intent, { text: 'There is no training job yet.', candidates: [] });
  return answer(intent, [{ tool: 'TrainingController_getTrainingJob', arguments: { job_id: id } }], { job_id: id });
};

const cancel: Handler = (context, intent) => {
  const sweepId = /\bsweep-[0-9a-f]{12}\b/.exec(context.message)?.[0];
  const jobId = /\btrain-[0-9a-f]{12}\b/.exec(context.message)?.[0];
  if (sweepId !== undefined || (jobId === undefined && (context.stems.has(stemOf('sweep')) || context.stems.has(stemOf('tuning'))))) {
    const id = sweepId ?? context.entities.sweep_id ?? context.catalog.sweeps.find((sweep) => sweep.status === 'running' || sweep.status === 'queued')?.sweep_id;
    if (id === undefined) return ask(intent, { text: 'Which sweep? None is in play.', candidates: context.catalog.sweeps.map((sweep) => sweep.sweep_id) }, 'tuning');
    return answer(intent, [{ tool: 'TuningController_cancelTuningSweep', arguments: { sweep_id: id } }], { sweep_id: id }, 'tuning');
  }
  const id = jobId ?? context.entities.job_id ?? context.catalog.jobs.find((job) => job.status === 'running' || job.status === 'queued')?.job_id;
  if (id === undefined) return ask(intent, { text: 'Which job? None is running.', candidates: [] });
  return answer(intent, [{ tool: 'TrainingController_cancelTrainingJob', arguments: { job_id: id } }], { job_id: id });
};

const listModels: Handler = (context, intent) => {
  const named = bestNamed(context.catalog.models, (model) => model.name, context);
  if (named.length === 1) return answer(intent, [{ tool: 'RegistryController_getRegisteredModel', arguments: { name: named[0].name } }], { model: { name: named[0].name } });
  const stage = ['production', 'staging', 'archived'].find((word) => context.stems.has(stemOf(word)));
  const args: Record<string, unknown> = stage === undefined ? {} : { stage: stage[0].toUpperCase() + stage.slice(1) };
  return answer(intent, [{ tool: 'RegistryController_searchRegisteredModels', arguments: args }]);
};

const register: Handler = (context, intent) => {
  const { ref, question } = resolveModel(context);
  if (ref === undefined || ref.job_id === null) return ask(intent, question ?? { text: 'Which training job should be registered?', candidates: [] });
  const named = /\b(?:as|called|named)\s+"?([A-Za-z0-9][A-Za-z0-9_.-]{0,127})"?/i.exec(context.message)?.[1];
  const name = named ?? modelNameOf(ref);
  return answer(intent, [{ tool: 'RegistryController_registerModelVersion', arguments: { name, job_id: ref.job_id } }], { job_id: ref.job_id, model: { name } });
};

const promote: Handler = (context, intent) => {
  const { ref, question } = resolveModel(context);
  if (ref === undefined) return ask(intent, question as NonNullable<Understanding['question']>);
  if (ref.version === undefined) return ask(intent, { text: `${ref.name} is not registered yet: say "register it" first.`, candidates: [] });
  const stage = context.stems.has(stemOf('archive')) ? 'Archived' : context.stems.has(stemOf('staging')) ? 'Staging' : 'Production';
  return answer(intent, [{ tool: 'RegistryController_transitionModelVersionStage', arguments: { name: ref.name, version: ref.version, stage } }], modelEntities(ref));
};

const remove: Handler = (context, intent) => {
  const { ref, question } = resolveModel(context);
  if (ref === undefined) return ask(intent, question as NonNullable<Understanding['question']>);
  if (ref.version === undefined) return ask(intent, { text: `${ref.name} is a training job, not a registered model; nothing to delete in the registry.`, candidates: [] });
  const version = versionIn(context.message);
  if (version !== undefined) return answer(intent, [{ tool: 'RegistryController_deleteModelVersion', arguments: { name: ref.name, version } }], { model: { name: ref.name } });
  return answer(intent, [{ tool: 'RegistryController_deleteRegisteredModel', arguments: { name: ref.name } }], { model: { name: ref.name } });
};

const audit: Handler = (context, intent) => {
  const { ref, question } = resolveModel(context);
  if (ref === undefined || ref.version === undefined) return ask(intent, question ?? { text: 'Which registered model?', candidates: context.catalog.models.map((model) => model.name) });
  return answer(intent, [{ tool: 'RegistryController_getModelAudit', arguments: { name: ref.name } }], { model: { name: ref.name } });
};

const experiments: Handler = (context, intent) => {
  const runIds = [...context.message.matchAll(/\b[0-9a-f]{32}\b/g)].map((match) => match[0]);
  if (runIds.length >= 2) return answer(intent, [{ tool: 'TrackingController_compareRuns', arguments: { run_ids: runIds } }]);
  if (runIds.length === 1) return answer(intent, [{ tool: 'TrackingController_getRun', arguments: { run_id: runIds[0] } }]);
  if (context.words.some((word) => word.word === 'runs' || word.word === 'run')) return answer(intent, [{ tool: 'TrackingController_searchRuns', arguments: {} }]);
  return answer(intent, [{ tool: 'TrackingController_listExperiments', arguments: {} }]);
};

const featureSets: Handler = (context, intent) => {
  const named = context.catalog.feature_sets.find((name) => context.words.some((word) => word.raw === name.toLowerCase()) || partStems(name).filter((part) => part !== stemOf('feature')).some((part) => context.stems.has(part)));
  if (named === undefined) return answer(intent, [{ tool: 'FeaturesController_listFeatureSets', arguments: {} }]);
  const version = versionIn(context.message);
  if (context.stems.has(stemOf('lineage')) && version !== undefined) return answer(intent, [{ tool: 'FeaturesController_getFeatureSetLineage', arguments: { name: named, version: Number(version) } }]);
  return answer(intent, [{ tool: 'FeaturesController_getFeatureSet', arguments: { name: named } }]);
};

const simple =
  (tool: string): Handler =>
  (_context, intent) =>
    answer(intent, [{ tool, arguments: {} }]);

const help: Handler = (_context, intent) => ({ agent: 'none', intent: intent.name, steps: [], reply: CAPABILITIES, entities: {} });

const HANDLERS: Record<string, Handler> = {
  train,
  job_status: jobStatus,
  cancel,
  list_algorithms: simple('TrainingController_listTrainingAlgorithms'),
  tune,
  importance,
  deploy,
  rollback: deploymentAction('ServingController_rollbackDeployment'),
  undeploy: deploymentAction('ServingController_deleteDeployment'),
  traffic,
  list_deployments: simple('ServingController_listDeployments'),
  predict,
  accuracy,
  drift,
  profile,
  list_datasets: simple('DatasetsController_listDatasets'),
  describe_dataset: describeDataset,
  list_models: listModels,
  register,
  promote,
  delete: remove,
  audit,
  experiments,
  feature_sets: featureSets,
  help,
};
