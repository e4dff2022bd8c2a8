import type { ChatAgent } from '@app/ml/chat/chat-types';

/**
 * What a person may want, each with the agent that acts on it and the cue words that signal it,
 * weighted. A cue is matched by its Porter2 stem ("deploys" meets "deploy"); a cue starting with `=`
 * only as that very word ("deploy" but not "deployed": "my deployed model" asks about a model, it
 * does not ask to deploy); a cue of several words as that run of words. The tools each intent calls
 * are chosen by its handler in understand.ts, from the tool registry's names.
 */
export interface IntentSpec {
  name: string;
  agent: ChatAgent;
  cues: Record<string, number>;
}

export const INTENTS: IntentSpec[] = [
  {
    name: 'train',
    agent: 'training',
    cues: { train: 3, retrain: 3, fit: 3, build: 3, '=create': 1, '=make': 1, learn: 1, classifier: 2, regressor: 2, 'model to predict': 3, 'model that predicts': 3, 'model predicting': 3, 'prediction model': 3, forecast: 3, forecaster: 3 },
  },
  {
    name: 'job_status',
    agent: 'training',
    cues: { status: 3, progress: 3, '=going': 2, '=doing': 1, '=done': 3, finished: 2, '=running': 2, completed: 2, 'last job': 3, 'latest job': 3, 'how is': 1, '=jobs': 3, 'job': 1 },
  },
  { name: 'cancel', agent: 'training', cues: { cancel: 4, '=stop': 3, abort: 4, kill: 3, halt: 3, terminate: 3 } },
  { name: 'list_algorithms', agent: 'training', cues: { algorithm: 3, '=algorithms': 1, supported: 1, available: 1 } },
  {
    name: 'tune',
    agent: 'tuning',
    cues: { tune: 4, tuning: 4, optimize: 3, optimise: 3, hyperparameter: 3, hyperparameters: 3, sweep: 3, hpo: 4, 'search over': 2, trials: 1, 'learning rate': 1 },
  },
  {
    name: 'importance',
    agent: 'analysis',
    cues: { feature: 2, features: 2, important: 3, importance: 3, matter: 3, matters: 3, drives: 3, driver: 3, drivers: 3, influence: 3, shap: 2, '=predictive': 3, contribute: 2, explain: 2, why: 1 },
  },
  { name: 'deploy', agent: 'serving', cues: { '=deploy': 4, '=deploying': 4, '=serve': 3, ship: 3, 'go live': 4, 'put in production': 3, 'push to production': 3, '=put': 1, '=push': 1, production: 2 } },
  { name: 'rollback', agent: 'serving', cues: { rollback: 5, '=roll': 3, '=back': 1, revert: 4, undo: 3, 'previous version': 2 } },
  { name: 'undeploy', agent: 'serving', cues: { undeploy: 6, 'take down': 5, 'stop serving': 6, 'tear down': 5, 'shut down': 5 } },
  { name: 'traffic', agent: 'serving', cues: { traffic: 5, 'a/b': 3, canary: 4, split: 2, route: 2, '%': 1 } },
  { name: 'predict', agent: 'serving', cues: { predict: 1, prediction: 2, score: 2, inference: 2, infer: 2 } },
  {
    name: 'accuracy',
    agent: 'monitoring',
    cues: { accurate: 4, accuracy: 4, performance: 3, performing: 3, 'how well': 3, 'how good': 3, precision: 2, recall: 2, metrics: 2, latency: 3, 'error rate': 3, rmse: 3, mae: 3, r2: 3, f1: 3, auc: 3, errors: 2, throughput: 2, requests: 1, feedback: 1 },
  },
  { name: 'drift', agent: 'monitoring', cues: { drift: 5, drifting: 5, shift: 3, shifted: 3, 'data changed': 3 } },
  { name: 'list_deployments', agent: 'serving', cues: { '=deployed': 3, '=deployments': 3, '=deployment': 2, endpoint: 2, endpoints: 2, live: 1, serving: 1 } },
  {
    name: 'profile',
    agent: 'eda',
    cues: { profile: 5, eda: 5, explore: 3, exploratory: 3, statistics: 2, 'summary statistics': 3, stats: 2, distribution: 3, distributions: 3, correlations: 3, 'look like': 3, 'missing values': 3, 'data quality': 4, alerts: 2, analyze: 3, analyse: 3, inspect: 2, 'look at': 2, overview: 2, summarize: 2, histogram: 2 },
  },
  { name: 'list_datasets', agent: 'eda', cues: { '=datasets': 3, '=tables': 3, dataset: 1, table: 1, warehouse: 2 } },
  { name: 'describe_dataset', agent: 'eda', cues: { columns: 3, column: 2, schema: 3, fields: 2 } },
  { name: 'promote', agent: 'registry', cues: { promote: 5, '=staging': 3, archive: 4, stage: 2, 'move to production': 4, 'mark as production': 4, 'to production': 1 } },
  { name: 'list_models', agent: 'registry', cues: { '=models': 3, '=registered': 3, registry: 3, catalog: 1, versions: 3 } },
  { name: 'register', agent: 'registry', cues: { '=register': 5 } },
  { name: 'delete', agent: 'registry', cues: { delete: 4, remove: 4, purge: 4, erase: 4 } },
  { name: 'audit', agent: 'registry', cues: { audit: 5, history: 3, 'who promoted': 7, 'who changed': 7 } },
  { name: 'experiments', agent: 'tracking', cues: { experiment: 4, experiments: 4, '=runs': 3, '=run': 3, mlflow: 3, compare: 3, tracking: 2 } },
  { name: 'feature_sets', agent: 'features', cues: { 'feature set': 6, 'feature sets': 6, 'feature store': 6, feast: 5, lineage: 3 } },
  { name: 'help', agent: 'none', cues: { help: 3, 'what can you do': 6, capabilities: 4 } },
];

/**
 * Requests the product cannot or must not do, matched before any intent: data-changing SQL and
 * everyday questions outside machine learning. "drop table customers" must never come near a tool.
 */
export const OUT_OF_SCOPE: { pattern: RegExp; reply: string }[] = [
  {
    pattern: /\b(drop|truncate|alter)\s+(table|schema|database|view)\b|\binsert\s+into\b|\bdelete\s+from\b|\bupdate\s+\w+\s+set\b/i,
    reply: 'I do not run SQL that changes or removes data: the warehouse is read-only here.',
  },
  {
    pattern: /\b(weather|temperature outside|joke|recipe|poem|song|news|football|movie|restaurant|flight|stock price|bitcoin|send an? (e-?mail|message)|translate|capital of|president|birthday|horoscope)\b/i,
    reply: 'That is outside what I can do.',
  },
];

/** What chat can do, for `none` answers and `help`. */
export const CAPABILITIES =
  'I can train models on your tables, tune their hyperparameters, explain which features matter, deploy, roll back and monitor models, profile datasets, and look up the model registry, experiments and feature sets.';
