/**
 * Seed 001's per-tenant training limits ("Resource Management"). The AI Service owns the values and
 * sends the caller's with every submission; the ML Service enforces them. The names are the wire
 * names of the ML Service's TrainingLimits, so ML_TENANT_LIMITS, the module option and the request
 * body spell them alike.
 */
export interface TrainingLimits {
  /** Active (queued + running) jobs. */
  max_concurrent_jobs: number;
  /** A running job is stopped (failed) after this many seconds. */
  max_training_duration_seconds: number;
  /** Estimated size of the columns a job loads, in GB; larger datasets are refused at submission. */
  max_dataset_size_gb: number;
  /** Largest `resources.cpus`. */
  max_cpus_per_job: number;
  /** Largest `resources.memory_gb`. */
  max_memory_per_job_gb: number;
  /** Largest `resources.gpus` (0: CPU only). */
  max_gpus_per_job: number;
}

export type TrainingLimitName = keyof TrainingLimits;

interface LimitRule {
  /** The environment variable of the default, named in messages. */
  variable: string;
  integer: boolean;
  /** Smallest accepted value; `exclusive` makes it "greater than". */
  minimum: number;
  exclusive?: boolean;
  maximum?: number;
}

export const TRAINING_LIMIT_RULES: Record<TrainingLimitName, LimitRule> = {
  max_concurrent_jobs: { variable: 'ML_MAX_TRAINING_JOBS', integer: true, minimum: 1, maximum: 1000 },
  max_training_duration_seconds: { variable: 'ML_MAX_TRAINING_DURATION', integer: true, minimum: 1 },
  max_dataset_size_gb: { variable: 'ML_MAX_DATASET_SIZE_GB', integer: false, minimum: 0, exclusive: true },
  max_cpus_per_job: { variable: 'ML_MAX_CPU_PER_JOB', integer: true, minimum: 1 },
  max_memory_per_job_gb: { variable: 'ML_MAX_MEMORY_PER_JOB_GB', integer: false, minimum: 0, exclusive: true },
  max_gpus_per_job: { variable: 'ML_MAX_GPU_PER_JOB', integer: true, minimum: 0 },
};

/** Seed 001's defaults. */
export const DEFAULT_TRAINING_LIMITS: TrainingLimits = {
  max_concurrent_jobs: 5,
  max_training_duration_seconds: 14_400,
  max_dataset_size_gb: 10,
  max_cpus_per_job: 4,
  max_memory_per_job_gb: 16,
  max_gpus_per_job: 0,
};

const TENANT_ID = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/** Why `value` is not acceptable for `name`, or undefined when it is. */
export function limitValueProblem(name: TrainingLimitName, value: unknown): string | undefined {
  const rule = TRAINING_LIMIT_RULES[name];
  const kind = rule.integer ? 'an integer' : 'a number';
  const range = `${rule.exclusive ? 'greater than' : 'at least'} ${rule.minimum}${rule.maximum === undefined ? '' : ` and at most ${rule.maximum}`}`;
  const fits =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (!rule.integer || Number.isInteger(value)) &&
    (rule.exclusive ? value > rule.minimum : value >= rule.minimum) &&
    (rule.maximum === undefined || value <= rule.maximum);
  return fits ? undefined : `must be ${kind} ${range}`;
}

/**
 * Parses ML_TENANT_LIMITS: a JSON object from tenant id to some of the limits, e.g.
 * `{"globex":{"max_training_duration_seconds":600,"max_cpus_per_job":1}}`. Throws an Error whose
 * message names the variable and the first problem found.
 */
export function parseTenantLimits(raw: string): Record<string, Partial<TrainingLimits>> {
  // `problem` starts with a space, or with the path inside the JSON (".globex.max_cpus_per_job ...").
  const fail = (problem: string): never => {
    throw new Error(`ML_TENANT_LIMITS${problem}`);
  };
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (error) {
    return fail(` must be JSON such as {"globex":{"max_cpus_per_job":1}} (${error instanceof Error ? error.message : String(error)})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return fail(' must be a JSON object from tenant id to limits');
  }
  const known = Object.keys(TRAINING_LIMIT_RULES);
  const result: Record<string, Partial<TrainingLimits>> = {};
  for (const [tenantId, limits] of Object.entries(parsed)) {
    if (!TENANT_ID.test(tenantId)) {
      fail(` names "${tenantId}", which is not a tenant id (lowercase letters, digits, - and _)`);
    }
    if (typeof limits !== 'object' || limits === null || Array.isArray(limits)) {
      fail(`.${tenantId} must be an object of limits`);
    }
    for (const [name, value] of Object.entries(limits as Record<string, unknown>)) {
      if (!known.includes(name)) {
        fail(`.${tenantId} has an unknown limit "${name}"; known: ${known.join(', ')}`);
      }
      const problem = limitValueProblem(name as TrainingLimitName, value);
      if (problem !== undefined) {
        fail(`.${tenantId}.${name} ${problem} (got ${JSON.stringify(value)})`);
      }
    }
    result[tenantId] = limits as Partial<TrainingLimits>;
  }
  return result;
}
