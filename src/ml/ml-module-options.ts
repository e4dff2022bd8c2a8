import { tmpdir } from 'node:os';
import type { TenantResolver } from '@app/common/tenant/tenant-resolver';
import { limitValueProblem, TRAINING_LIMIT_RULES, type TrainingLimitName, type TrainingLimits } from '@app/config/training-limits';

/** Options of MlModule.forRoot / forRootAsync. */
export interface MlModuleOptions {
  /** Base URL of the ML Service. Default: http://ml-service:8000 (ML_SERVICE_URL). */
  mlServiceUrl?: string;
  /** The ML Service's shared secret (its MLS_SERVICE_TOKEN), sent as `Authorization: Bearer`; the ML Service answers 401 without it. Default: none (ML_SERVICE_TOKEN). */
  serviceToken?: string;
  /** Deadline of each attempt of each call, in milliseconds. Default: 30000 (ML_SERVICE_TIMEOUT × 1000). */
  timeoutMs?: number;
  /** Attempts per call for requests safe to repeat, the first included. Default: 3 (ML_SERVICE_RETRIES). */
  maxAttempts?: number;
  /** Backoff before the first retry in milliseconds, doubled each time. Default: 200. */
  retryBaseDelayMs?: number;
  /** Longest wait between attempts, Retry-After included, in milliseconds. Default: 10000. */
  retryMaxDelayMs?: number;
  /** Concurrent training jobs per tenant, enforced by the ML Service. Default: 5 (ML_MAX_TRAINING_JOBS). */
  maxTrainingJobs?: number;
  /** Per-tenant overrides of maxTrainingJobs, by tenant id. Default: none. */
  maxTrainingJobsByTenant?: Record<string, number>;
  /** Seconds a training job may run before the ML Service stops it (failed). Default: 14400 (ML_MAX_TRAINING_DURATION). */
  maxTrainingDurationSeconds?: number;
  /** Largest dataset a job may load (estimated before loading) or a tenant may upload, in GB. Default: 10 (ML_MAX_DATASET_SIZE_GB). */
  maxDatasetSizeGb?: number;
  /** Largest `resources.cpus` of a job. Default: 4 (ML_MAX_CPU_PER_JOB). */
  maxCpusPerJob?: number;
  /** Largest `resources.memory_gb` of a job. Default: 16 (ML_MAX_MEMORY_PER_JOB_GB). */
  maxMemoryPerJobGb?: number;
  /** Largest `resources.gpus` of a job. Default: 0, CPU only (ML_MAX_GPU_PER_JOB). */
  maxGpusPerJob?: number;
  /** Per-tenant overrides of any of the limits, by tenant id, with the ML Service's names (`max_cpus_per_job`, …); they win over maxTrainingJobsByTenant. Default: none (ML_TENANT_LIMITS). */
  tenantLimits?: Record<string, Partial<TrainingLimits>>;
  /** Folder where uploads are spooled before they are streamed to the ML Service. Default: the OS temp folder. */
  uploadDirectory?: string;
  /** How long the ML Service's algorithm catalog is reused, in milliseconds. Default: 60000. */
  catalogCacheTtlMs?: number;
  /** Who the caller is: a tenant id, or `{ tenantId, actor }` to name the user in audit trails. Default: API keys from API_KEYS (`X-API-Key` or `Authorization: Bearer`), actor `api-key:<first 8 chars>`. */
  tenantResolver?: TenantResolver;
}

/** The options with every default applied; what the module's providers receive. */
export type ResolvedMlModuleOptions = Required<Omit<MlModuleOptions, 'tenantResolver'>>;

export const ML_MODULE_DEFAULTS: ResolvedMlModuleOptions = {
  mlServiceUrl: 'http://ml-service:8000',
  serviceToken: '',
  timeoutMs: 30_000,
  maxAttempts: 3,
  retryBaseDelayMs: 200,
  retryMaxDelayMs: 10_000,
  maxTrainingJobs: 5,
  maxTrainingJobsByTenant: {},
  maxTrainingDurationSeconds: 14_400,
  maxDatasetSizeGb: 10,
  maxCpusPerJob: 4,
  maxMemoryPerJobGb: 16,
  maxGpusPerJob: 0,
  tenantLimits: {},
  uploadDirectory: tmpdir(),
  catalogCacheTtlMs: 60_000,
};

/** Token of the resolved options (defaults applied). */
export const ML_OPTIONS = Symbol('ML_OPTIONS');

export function resolveMlModuleOptions(options: MlModuleOptions): ResolvedMlModuleOptions {
  const defined = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
  const { tenantResolver: _ignored, ...rest } = { ...ML_MODULE_DEFAULTS, ...defined } as MlModuleOptions & ResolvedMlModuleOptions;
  // A host's per-tenant limits get the same checks as ML_TENANT_LIMITS, at start rather than at the first submission.
  for (const [tenantId, limits] of Object.entries(rest.tenantLimits)) {
    for (const [name, value] of Object.entries(limits)) {
      const problem = name in TRAINING_LIMIT_RULES ? limitValueProblem(name as TrainingLimitName, value) : `is not a limit; known: ${Object.keys(TRAINING_LIMIT_RULES).join(', ')}`;
      if (problem !== undefined) {
        throw new Error(`MlModule option tenantLimits.${tenantId}.${name} ${problem}`);
      }
    }
  }
  return { ...rest, mlServiceUrl: rest.mlServiceUrl.replace(/\/+$/, '') };
}

/** The dataset size limit in bytes (1 GB = 1024³ bytes): uploads stop there, with 413 naming `file`. */
export function maxDatasetBytes(options: ResolvedMlModuleOptions): number {
  return Math.floor(options.maxDatasetSizeGb * 1024 ** 3);
}
