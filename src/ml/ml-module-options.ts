import { tmpdir } from 'node:os';
import type { TenantResolver } from '@app/common/tenant/tenant-resolver';

/** An OpenAI-compatible chat completions endpoint with tool calling, for chat's optional model-driven planning. */
export interface LlmOptions {
  /** Base URL up to /v1 (POST {baseUrl}/chat/completions). */
  baseUrl: string;
  model: string;
  /** Sent as `Authorization: Bearer`; empty or absent: no header. */
  apiKey?: string;
  /** How long chat waits for the model before it uses its embedded understanding. Default 20000 ms. */
  timeoutMs?: number;
}

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
  /**
   * Predictions (predict and Open Inference Protocol infer) one tenant may have in flight to the ML
   * Service at once; one more is refused at once with 503 and `Retry-After: 1`, before it costs the
   * ML Service anything. An overload then queues no deeper than this: by Little's law a request
   * waits about predictMaxInFlight / throughput (32 at the 2-core machine's 300-odd predictions a
   * second is about 100 ms), instead of seconds in the connection pool; and one tenant's burst
   * cannot fill the ML Service's event loop for the others. Not lower: at 200 predictions a second
   * the machine's stalls of up to about 100 ms hold 20 in flight, and a bound of 16 refused two of
   * them (bench/serving, README). A deployment's own bound (Ray Serve's max_ongoing_requests +
   * max_queued_requests per replica) still applies behind it.
   * Default: 32 (ML_PREDICT_MAX_IN_FLIGHT).
   */
  predictMaxInFlight?: number;
  /**
   * Send predict calls straight to the deployment's Ray Serve replicas, which answer HTTP
   * themselves (Ray Serve's direct ingress) with the ML Service's own token, tenant and signature
   * checks and prediction log, when the ML Service offers them (`GET .../serving/{id}/targets`:
   * runtime ray_serve, all traffic on one version, not a forecaster). That skips the ML Service's
   * hop, about half of a prediction's CPU on the 2-core machine (bench/serving, README). The
   * targets are asked for at most once a second per deployment, and again at once after a traffic
   * split, release, rollback or undeploy made through this process (other processes see it within
   * the second); a replica that stopped answering sends the call through the ML Service.
   * Entity lookups, A/B splits and the Open Inference Protocol always go through the ML Service.
   * Default: true (ML_PREDICT_DIRECT).
   */
  predictDirect?: boolean;
  /** Largest dataset a tenant may upload, in GB; refused with 413 while it arrives. Default: 10 (ML_MAX_DATASET_SIZE_GB). The tenants' training limits are the ML Service's configuration (MLS_MAX_*, MLS_TENANT_LIMITS), never sent with a request. */
  maxDatasetSizeGb?: number;
  /** Folder where uploads are spooled before they are streamed to the ML Service. Default: the OS temp folder. */
  uploadDirectory?: string;
  /** How long the ML Service's algorithm catalog is reused, in milliseconds. Default: 60000. */
  catalogCacheTtlMs?: number;
  /** A model that plans chat's tool calls (the confirmation rule stays chat's); null or absent: the embedded understanding only (LLM_BASE_URL, LLM_MODEL, LLM_API_KEY, LLM_TIMEOUT). */
  llm?: LlmOptions | null;
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
  predictMaxInFlight: 32,
  predictDirect: true,
  retryBaseDelayMs: 200,
  retryMaxDelayMs: 10_000,
  maxDatasetSizeGb: 10,
  uploadDirectory: tmpdir(),
  catalogCacheTtlMs: 60_000,
  llm: null,
};

/** Token of the resolved options (defaults applied). */
export const ML_OPTIONS = Symbol('ML_OPTIONS');

export function resolveMlModuleOptions(options: MlModuleOptions): ResolvedMlModuleOptions {
  const defined = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
  const { tenantResolver: _ignored, ...rest } = { ...ML_MODULE_DEFAULTS, ...defined } as MlModuleOptions & ResolvedMlModuleOptions;
  return { ...rest, mlServiceUrl: rest.mlServiceUrl.replace(/\/+$/, '') };
}

/** The dataset size limit in bytes (1 GB = 1024³ bytes): uploads stop there, with 413 naming `file`. */
export function maxDatasetBytes(options: ResolvedMlModuleOptions): number {
  return Math.floor(options.maxDatasetSizeGb * 1024 ** 3);
}
