import { tmpdir } from 'node:os';
import type { TenantResolver } from '@app/common/tenant/tenant-resolver';

/** Options of MlModule.forRoot / forRootAsync. */
export interface MlModuleOptions {
  /** Base URL of the ML Service. Default: http://ml-service:8000 (ML_SERVICE_URL). */
  mlServiceUrl?: string;
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
  /** Largest dataset upload in bytes; bigger files are refused with 413 while being received. Default: 10 GiB (ML_MAX_DATASET_SIZE_GB × 1024³). */
  maxDatasetBytes?: number;
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
  timeoutMs: 30_000,
  maxAttempts: 3,
  retryBaseDelayMs: 200,
  retryMaxDelayMs: 10_000,
  maxTrainingJobs: 5,
  maxTrainingJobsByTenant: {},
  maxDatasetBytes: 10 * 1024 ** 3,
  uploadDirectory: tmpdir(),
  catalogCacheTtlMs: 60_000,
};

/** Token of the resolved options (defaults applied). */
export const ML_OPTIONS = Symbol('ML_OPTIONS');

export function resolveMlModuleOptions(options: MlModuleOptions): ResolvedMlModuleOptions {
  const defined = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
  const { tenantResolver: _ignored, ...rest } = { ...ML_MODULE_DEFAULTS, ...defined } as MlModuleOptions & ResolvedMlModuleOptions;
  return { ...rest, mlServiceUrl: rest.mlServiceUrl.replace(/\/+$/, '') };
}
