/** The agents named on the wire (issue 16): the seed's six, three more concerns, and `none`. */
export const CHAT_AGENTS = ['training', 'tuning', 'analysis', 'serving', 'monitoring', 'eda', 'registry', 'tracking', 'features', 'none'] as const;
export type ChatAgent = (typeof CHAT_AGENTS)[number];

/** One warehouse table of the tenant, as the datasets list names it. */
export interface CatalogTable {
  qualified_name: string;
  name: string;
  columns: { name: string; type: string }[];
}

/** One registered version, with the test metrics of the run that made it. */
export interface CatalogVersion {
  version: string;
  stage: string;
  job_id: string | null;
  metrics: Record<string, number | null>;
}

/** One training job of the tenant (the newest first in Catalog.jobs). */
export interface CatalogJob {
  job_id: string;
  name: string;
  algorithm: string;
  task_type: string;
  status: string;
  metrics: Record<string, unknown> | null;
  registered_version?: { model_name: string; version: string } | null;
}

/**
 * What the tenant has, read through the services for each message (the names chat resolves
 * "churn", "my churn model", "my deployed model" against). Fields the services could not answer are
 * empty lists rather than an error: understanding degrades, it does not fail.
 */
export interface Catalog {
  tables: CatalogTable[];
  models: { name: string; versions: CatalogVersion[]; production_version: string | null }[];
  deployments: { model_id: string; model_name: string; status: string; task_type: string; versions: string[] }[];
  jobs: CatalogJob[];
  sweeps: { sweep_id: string; name: string; status: string }[];
  feature_sets: string[];
  /** Algorithm name → its hyperparameter names (from the training catalog). */
  algorithms: Record<string, string[]>;
}

/** The things a conversation has in play, so follow-ups ("deploy it", "roll it back") resolve. */
export interface ConversationEntities {
  job_id?: string;
  model?: { name: string; version?: string };
  deployment?: string;
  sweep_id?: string;
  dataset?: string;
  target_column?: string;
  task_type?: string;
  topic?: string;
  /** The last intent understood and the tool arguments it had, for "what about lightgbm?". */
  last_intent?: string;
  last_arguments?: Record<string, unknown>;
}

/**
 * One tool call planned by an understanding: the registry's tool name and its arguments in the REST
 * API's field names. `from_step` lets a later step take a value from an earlier step's result (a
 * deploy of the version a registration just made): argument name → [step index, result field].
 */
export interface PlannedCall {
  tool: string;
  arguments: Record<string, unknown>;
  from_step?: Record<string, [step: number, field: string]>;
}

/** What the language understanding made of one message. */
export interface Understanding {
  agent: ChatAgent;
  /** The intent's name (e.g. `train`, `deploy`, `out_of_scope`). */
  intent: string;
  steps: PlannedCall[];
  /** Set when it must ask instead of act: the question and the candidates it hesitates between. */
  question?: { text: string; candidates: string[] };
  /** For `none`: the honest answer. */
  reply?: string;
  /** Entities this understanding puts in play (merged into the conversation when it is carried out or planned). */
  entities: Partial<ConversationEntities>;
}
