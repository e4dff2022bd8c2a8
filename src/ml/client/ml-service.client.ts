import { openAsBlob } from 'node:fs';
import { HttpService } from '@nestjs/axios';
import { HttpException, HttpStatus, Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { type AxiosRequestConfig, type AxiosResponse, isAxiosError, type Method } from 'axios';
import { catchError, defer, firstValueFrom, map, Observable, tap, throwError } from 'rxjs';
import { FieldError, FieldErrorsException } from '@app/common/filters/field-errors.exception';
import { RetryLaterException } from '@app/common/filters/retry-later.exception';
import { isConnectionError, MlServiceTimeoutError, reasonOf, statusOf } from '@app/ml/client/ml-service.errors';
import type {
  AlgorithmSpec,
  AliasAssignment,
  ArtifactContent,
  ArtifactList,
  AuditTrail,
  DatasetRef,
  Deployment,
  DeploymentCreate,
  DeploymentList,
  DriftReport,
  FeedbackEntry,
  FeedbackResult,
  BatchPrediction,
  BatchPredictionCreate,
  PredictResult,
  V2InferResponse,
  V2ModelMetadata,
  V2ModelReadiness,
  V2ServerLiveness,
  V2ServerMetadata,
  V2ServerReadiness,
  ReleaseRequest,
  ReplicaTargets,
  ServingMetrics,
  TrafficSplit,
  DatasetSchema,
  DatasetTable,
  DatasetTableDeletion,
  DatasetTableSummary,
  DatasetUploadFields,
  UploadedDatasetTable,
  EdaCompareRequest,
  EdaComparison,
  EdaComparisonList,
  EdaProfile,
  EdaProfileChartList,
  EdaProfileList,
  EdaProfileRequest,
  Experiment,
  ExperimentCreate,
  FeatureSetDefinition,
  FeatureSetLineage,
  FeatureSetSummary,
  FeatureSetVersion,
  MaterializationRequest,
  OnlineFeaturesRequest,
  OnlineFeaturesResponse,
  FeatureImportance,
  FeatureImportanceQuery,
  TrainingSet,
  TrainingSetRequest,
  ExperimentList,
  Job,
  JobEvent,
  LoggedModelInfo,
  MetricHistory,
  ModelDeletion,
  ModelSearch,
  ModelVersion,
  RegisteredModel,
  RegisteredModelList,
  RegistryUpdate,
  Run,
  RunComparison,
  RunPage,
  RunSearch,
  StageTransition,
  TrainingChartList,
  TrainingEvent,
  TrainingJob,
  TrainingJobList,
  TrainingJobStatus,
  TrainingSubmission,
  TrainBestRequest,
  TuningChartList,
  TuningFromBaseSubmission,
  TuningSweepUpdate,
  TuningSubmission,
  TuningSweep,
  TuningSweepStatus,
  DefaultSearchSpace,
  ValidatedTrainingConfig,
  VersionRegistration,
} from '@app/ml/client/ml-service.types';
import { perAttemptTimeout } from '@app/ml/client/operators/per-attempt-timeout.operator';
import { backoffMs, retryTransient } from '@app/ml/client/operators/retry-transient.operator';
import { isSocketFailure, type JsonAnswer, PredictChannel, socketFailureReason } from '@app/ml/client/predict-channel';
import { ReplicaTargetCache } from '@app/ml/client/replica-targets';
import { ML_OPTIONS, type ResolvedMlModuleOptions } from '@app/ml/ml-module-options';

/** How long a deployment's replica URLs (or that it has none) are reused before the ML Service is asked again. */
const REPLICA_TARGETS_TTL_MS = 1000;

/** A predict answer with when its call was sent (performance.now()). */
type TimedAnswer = JsonAnswer & { sent: number };

/** A body of feature records (one, or `{instances}`), which a replica can answer; entity keys need the ML Service's feature lookup. */
function isFeatureBody(body: unknown): boolean {
  return typeof body === 'object' && body !== null && !Array.isArray(body) && !('entities' in body);
}

/** Receives a predict's Server-Timing value (the ML Service's or the replica's hops plus `ml_call`) to answer it on. */
export type ServerTimingListener = (serverTiming: string) => void;

/** Who a call is made for; travels as X-Tenant-ID, X-Request-ID and, when known, X-Actor. */
export interface MlCallContext {
  tenantId: string;
  requestId: string;
  /** Who is calling (a user name or `api-key:<first 8 chars>`); the registry's audit records it. */
  actor?: string;
}

export interface MlServiceRequest {
  method: Method;
  path: string;
  context: MlCallContext;
  body?: unknown;
  /** Query parameters; axios leaves out the null and undefined ones. */
  params?: Record<string, string | number | null | undefined>;
  /** Makes a POST safe to repeat: the ML Service returns the same job for the same key. */
  idempotencyKey?: string;
  /** A POST that only reads (schema introspection, run search), so repeating it is harmless. */
  readOnly?: boolean;
  /** Extra headers, e.g. X-Request-Key for A/B stickiness. */
  headers?: Record<string, string>;
  /** `arraybuffer` for artifact downloads: the bytes arrive untouched instead of parsed as JSON. */
  responseType?: 'json' | 'arraybuffer';
  /** The representation asked for, where the ML Service offers several (charts: PNG or JSON). */
  accept?: string;
  /** Deadline of each attempt when the default (ML_SERVICE_TIMEOUT) is too short, e.g. an upload. */
  timeoutMs?: number;
}

/** A file already on the AI Service's disk, to be streamed to the ML Service. */
export interface FileToUpload {
  path: string;
  filename: string;
  sizeBytes: number;
}

/** An upload may take longer than a plain call: the deadline grows by one second per 10 MB sent. */
const UPLOAD_BYTES_PER_SECOND = 10 * 1024 * 1024;

/** Statuses whose meaning belongs to the caller's request, so the caller sees them unchanged. */
// 504 passes through: the ML Service's own time limit on a statement, naming the query.
const PASS_THROUGH_STATUSES = new Set([400, 403, 404, 409, 413, 422, 429, 504]);
/** PUT sets a value (an alias to a version): the same PUT twice leaves the same state. */
const REPEATABLE_METHODS = new Set(['GET', 'HEAD', 'DELETE', 'PUT']);

/**
 * The only way into the ML Service. Each call gets a per-attempt deadline, bounded retries for
 * transient failures of repeatable requests, and one mapping from ML Service failures to
 * AI Service errors (docs/contract.md).
 */
@Injectable()
export class MLServiceClient implements OnModuleDestroy {
  private readonly logger = new Logger(MLServiceClient.name);
  private readonly predictChannel: PredictChannel;
  /** tenant id -> its predictions in flight to the ML Service (options.predictMaxInFlight bounds it) */
  private readonly predictionsInFlight = new Map<string, number>();
  /** where deployments' replicas answer directly; undefined when options.predictDirect is off */
  private readonly replicaTargets: ReplicaTargetCache | undefined;

  constructor(
    private readonly http: HttpService,
    @Inject(ML_OPTIONS) private readonly options: ResolvedMlModuleOptions,
  ) {
    this.predictChannel = new PredictChannel(options.mlServiceUrl);
    this.replicaTargets = options.predictDirect
      ? new ReplicaTargetCache((tenantId, modelId) => this.lookupReplicaTargets(tenantId, modelId), REPLICA_TARGETS_TTL_MS)
      : undefined;
  }

  async onModuleDestroy(): Promise<void> {
    await this.predictChannel.close();
  }

  getDatasetSchema(context: MlCallContext, dataset: DatasetRef): Promise<DatasetSchema> {
    return this.request({ method: 'POST', path: '/api/v1/datasets/schema', context, body: dataset, readOnly: true });
  }

  listAlgorithms(context: MlCallContext): Promise<AlgorithmSpec[]> {
    return this.request({ method: 'GET', path: '/api/v1/training/algorithms', context });
  }

  /** The ML Service's training rules applied without submitting: what would be trained, or a 422 listing every field problem. */
  validateTrainingConfig(context: MlCallContext, submission: TrainingSubmission): Promise<ValidatedTrainingConfig> {
    return this.request({ method: 'POST', path: '/api/v1/training/validate', context, body: submission, readOnly: true });
  }

  /** `idempotencyKey` identifies the logical submission; every retry reuses it. */
  submitTrainingJob(context: MlCallContext, submission: TrainingSubmission, idempotencyKey: string): Promise<TrainingJob> {
    return this.request({ method: 'POST', path: '/api/v1/training/submit', context, body: submission, idempotencyKey });
  }

  getTrainingJob(context: MlCallContext, jobId: string): Promise<TrainingJob> {
    return this.request({ method: 'GET', path: `/api/v1/training/jobs/${encodeURIComponent(jobId)}`, context });
  }

  listTrainingJobs(context: MlCallContext, filter: { status?: TrainingJobStatus; limit?: number }): Promise<TrainingJobList> {
    return this.request({ method: 'GET', path: '/api/v1/training/jobs', context, params: filter });
  }

  cancelTrainingJob(context: MlCallContext, jobId: string): Promise<TrainingJob> {
    return this.request({ method: 'DELETE', path: `/api/v1/training/jobs/${encodeURIComponent(jobId)}`, context });
  }

  listTrainingCharts(context: MlCallContext, jobId: string): Promise<TrainingChartList> {
    return this.request({ method: 'GET', path: `/api/v1/training/jobs/${encodeURIComponent(jobId)}/charts`, context });
  }

  /** One chart as `accept` asks: `image/png`, or `application/json` for its Vega-Lite spec. */
  getTrainingChart(context: MlCallContext, jobId: string, name: string, accept: string): Promise<ArtifactContent> {
    const path = `/api/v1/training/jobs/${encodeURIComponent(jobId)}/charts/${encodeURIComponent(name)}`;
    return this.downloadBytes(context, path, { accept });
  }

  // Tuning: sweeps on Ray Tune, a job kind of the ML Service's runner.

  listDefaultSearchSpaces(context: MlCallContext): Promise<DefaultSearchSpace[]> {
    return this.request({ method: 'GET', path: '/api/v1/tuning/spaces', context });
  }

  /** `idempotencyKey` identifies the logical submission; every retry reuses it. */
  submitTuningSweep(context: MlCallContext, submission: TuningSubmission, idempotencyKey: string): Promise<TuningSweep> {
    return this.request({ method: 'POST', path: '/api/v1/tuning', context, body: submission, idempotencyKey });
  }

  /** A sweep of an earlier training job's configuration (by job id or registered version). */
  submitTuningSweepFromBase(context: MlCallContext, submission: TuningFromBaseSubmission, idempotencyKey: string): Promise<TuningSweep> {
    return this.request({ method: 'POST', path: '/api/v1/tuning/from-base', context, body: submission, idempotencyKey });
  }

  getTuningSweep(context: MlCallContext, sweepId: string): Promise<TuningSweep> {
    return this.request({ method: 'GET', path: `/api/v1/tuning/${encodeURIComponent(sweepId)}`, context });
  }

  listTuningSweeps(context: MlCallContext, filter: { status?: TuningSweepStatus; limit?: number }): Promise<TuningSweep[]> {
    return this.request({ method: 'GET', path: '/api/v1/tuning', context, params: filter });
  }

  listTuningCharts(context: MlCallContext, sweepId: string): Promise<TuningChartList> {
    return this.request({ method: 'GET', path: `/api/v1/tuning/${encodeURIComponent(sweepId)}/charts`, context });
  }

  /** One chart of a completed sweep as `accept` asks: `image/png`, or `application/json` for its Vega-Lite spec. */
  getTuningChart(context: MlCallContext, sweepId: string, name: string, accept: string): Promise<ArtifactContent> {
    const path = `/api/v1/tuning/${encodeURIComponent(sweepId)}/charts/${encodeURIComponent(name)}`;
    return this.downloadBytes(context, path, { accept });
  }

  /** Change a running sweep (max_concurrent_trials). */
  updateTuningSweep(context: MlCallContext, sweepId: string, update: TuningSweepUpdate): Promise<TuningSweep> {
    return this.request({ method: 'PATCH', path: `/api/v1/tuning/${encodeURIComponent(sweepId)}`, context, body: update });
  }

  cancelTuningSweep(context: MlCallContext, sweepId: string): Promise<TuningSweep> {
    return this.request({ method: 'DELETE', path: `/api/v1/tuning/${encodeURIComponent(sweepId)}`, context });
  }

  /** A training job of the sweep's best trial; `idempotencyKey` as for a training submission. */
  trainBestTrial(context: MlCallContext, sweepId: string, body: TrainBestRequest, idempotencyKey: string): Promise<TrainingJob> {
    return this.request({ method: 'POST', path: `/api/v1/tuning/${encodeURIComponent(sweepId)}/train-best`, context, body, idempotencyKey });
  }

  // EDA: profiles computed in the tenant's warehouse and stored by the ML Service.

  /**
   * A profile computed in the request (the ML Service's 201), or the `profiling` job it became (202): when
   * `respondAsync` sends `Prefer: respond-async`, or when the table has more cells than MLS_EDA_SYNC_MAX_CELLS.
   * Not retried: each call computes and stores a new profile.
   */
  async createEdaProfile(context: MlCallContext, body: EdaProfileRequest, respondAsync: boolean): Promise<{ profile: EdaProfile } | { job: Job }> {
    const headers = respondAsync ? { Prefer: 'respond-async' } : undefined;
    const response = await firstValueFrom(this.call$<EdaProfile | Job>({ method: 'POST', path: '/api/v1/eda/profiles', context, body, headers }));
    return response.status === 202 ? { job: response.data as Job } : { profile: response.data as EdaProfile };
  }

  listEdaProfiles(context: MlCallContext, limit?: number): Promise<EdaProfileList> {
    return this.request({ method: 'GET', path: '/api/v1/eda/profiles', context, params: { limit } });
  }

  getEdaProfile(context: MlCallContext, profileId: string): Promise<EdaProfile> {
    return this.request({ method: 'GET', path: `/api/v1/eda/profiles/${encodeURIComponent(profileId)}`, context });
  }

  listEdaProfileCharts(context: MlCallContext, profileId: string): Promise<EdaProfileChartList> {
    return this.request({ method: 'GET', path: `/api/v1/eda/profiles/${encodeURIComponent(profileId)}/charts`, context });
  }

  /** One chart as `accept` asks: `image/png`, or `application/json` for its Vega-Lite spec. */
  getEdaProfileChart(context: MlCallContext, profileId: string, name: string, accept: string): Promise<ArtifactContent> {
    return this.downloadBytes(context, `/api/v1/eda/profiles/${encodeURIComponent(profileId)}/charts/${encodeURIComponent(name)}`, { accept });
  }

  /** Not retried: each call computes and stores a new comparison. */
  createEdaComparison(context: MlCallContext, body: EdaCompareRequest): Promise<EdaComparison> {
    return this.request({ method: 'POST', path: '/api/v1/eda/comparisons', context, body });
  }

  listEdaComparisons(context: MlCallContext, limit?: number): Promise<EdaComparisonList> {
    return this.request({ method: 'GET', path: '/api/v1/eda/comparisons', context, params: { limit } });
  }

  getEdaComparison(context: MlCallContext, comparisonId: string): Promise<EdaComparison> {
    return this.request({ method: 'GET', path: `/api/v1/eda/comparisons/${encodeURIComponent(comparisonId)}`, context });
  }

  getEdaComparisonChart(context: MlCallContext, comparisonId: string, name: string, accept: string): Promise<ArtifactContent> {
    return this.downloadBytes(context, `/api/v1/eda/comparisons/${encodeURIComponent(comparisonId)}/charts/${encodeURIComponent(name)}`, { accept });
  }

  /** The self-contained HTML report of a profile. */
  getEdaProfileReport(context: MlCallContext, profileId: string): Promise<ArtifactContent> {
    return this.downloadBytes(context, `/api/v1/eda/profiles/${encodeURIComponent(profileId)}/report`, { accept: 'text/html' });
  }

  // Feature sets: versions in the tenant's Feast project and point-in-time training sets.

  /**
   * `created` is false when the same definition was already the latest version (the ML Service's 200), true
   * when this call made a new version (201). Not retried: a lost answer is harmless to repeat by hand, since
   * the same definition answers the same version, but a retry would hide which call made it.
   */
  async createFeatureSet(context: MlCallContext, definition: FeatureSetDefinition): Promise<{ version: FeatureSetVersion; created: boolean }> {
    const response = await firstValueFrom(this.call$<FeatureSetVersion>({ method: 'POST', path: '/api/v1/features/sets', context, body: definition }));
    return { version: response.data, created: response.status === 201 };
  }

  listFeatureSets(context: MlCallContext): Promise<FeatureSetSummary[]> {
    return this.request({ method: 'GET', path: '/api/v1/features/sets', context });
  }

  listFeatureSetVersions(context: MlCallContext, name: string): Promise<FeatureSetVersion[]> {
    return this.request({ method: 'GET', path: `${featureSetPath(name)}/versions`, context });
  }

  /** The latest version when `version` is not given. */
  getFeatureSetVersion(context: MlCallContext, name: string, version?: number): Promise<FeatureSetVersion> {
    const path = version === undefined ? featureSetPath(name) : `${featureSetPath(name)}/versions/${version}`;
    return this.request({ method: 'GET', path, context });
  }

  getFeatureSetLineage(context: MlCallContext, name: string, version: number): Promise<FeatureSetLineage> {
    return this.request({ method: 'GET', path: `${featureSetPath(name)}/versions/${version}/lineage`, context });
  }

  /** Not retried: it replaces the output table, and a second run after a lost answer would do the work twice. */
  createTrainingSet(context: MlCallContext, name: string, version: number, body: TrainingSetRequest): Promise<TrainingSet> {
    return this.request({ method: 'POST', path: `${featureSetPath(name)}/versions/${version}/training-sets`, context, body });
  }

  /** A `feature_materialization` job; `idempotencyKey` as for a training job. */
  materializeFeatureSetVersion(context: MlCallContext, name: string, version: number, body: MaterializationRequest, idempotencyKey: string): Promise<Job> {
    return this.request({ method: 'POST', path: `${featureSetPath(name)}/versions/${version}/materialize`, context, body, idempotencyKey });
  }

  /** A read: retried like one. */
  getOnlineFeatures(context: MlCallContext, body: OnlineFeaturesRequest): Promise<OnlineFeaturesResponse> {
    return this.request({ method: 'POST', path: '/api/v1/features/online', context, body, readOnly: true });
  }

  /** What matters for a target: its model's importance and, with `feature_set`, the features' association with it. */
  getFeatureImportance(context: MlCallContext, query: FeatureImportanceQuery): Promise<FeatureImportance> {
    return this.request({ method: 'GET', path: '/api/v1/features/importance', context, params: { ...query } });
  }

  /** One chart of that answer (same query) as `accept` asks: `image/png`, or `application/json` for its Vega-Lite spec. */
  getFeatureImportanceChart(context: MlCallContext, name: string, query: FeatureImportanceQuery, accept: string): Promise<ArtifactContent> {
    return this.downloadBytes(context, `/api/v1/features/importance/charts/${encodeURIComponent(name)}`, { params: { ...query }, accept });
  }

  // Datasets (issue 3): the tenant's warehouse tables and uploads into it.

  listDatasetTables(context: MlCallContext): Promise<DatasetTableSummary[]> {
    return this.request({ method: 'GET', path: '/api/v1/datasets/tables', context });
  }

  getDatasetTable(context: MlCallContext, table: string): Promise<DatasetTable> {
    return this.request({ method: 'GET', path: `/api/v1/datasets/tables/${encodeURIComponent(table)}`, context });
  }

  deleteDatasetTable(context: MlCallContext, table: string): Promise<DatasetTableDeletion> {
    return this.request({ method: 'DELETE', path: `/api/v1/datasets/tables/${encodeURIComponent(table)}`, context });
  }

  /**
   * Streams a file from disk to the ML Service as multipart (`openAsBlob` reads it in chunks as
   * it is sent, never whole). Never retried: there is no idempotency key, and a second attempt
   * after a lost answer could replace a table the first one already loaded.
   */
  async uploadDatasetTable(context: MlCallContext, file: FileToUpload, fields: DatasetUploadFields, maxBytes: number): Promise<UploadedDatasetTable> {
    const form = new FormData();
    for (const [name, value] of Object.entries(fields)) {
      if (value !== undefined && value !== null) {
        form.append(name, String(value));
      }
    }
    form.append('file', await openAsBlob(file.path), file.filename);
    return this.request({
      method: 'POST',
      path: '/api/v1/datasets/tables',
      context,
      body: form,
      params: { max_bytes: maxBytes },
      timeoutMs: this.options.timeoutMs + Math.ceil(file.sizeBytes / UPLOAD_BYTES_PER_SECOND) * 1000,
    });
  }

  /**
   * A job's events (the ML Service's Server-Sent Events), from its current state to its `end`.
   * Resolves once the stream is open; until then it fails like any call (404 for another tenant's
   * job, 503 when the ML Service is unreachable, 504 after the per-attempt deadline). Afterwards the
   * deadline is an idle one: the ML Service writes at least every 15 s, so silence for
   * `EVENT_STREAM_IDLE_MS` or a stream cut before `end` is an MlServiceStreamError naming the ML
   * Service. Not retried: a consumer that wants to go on opens it again. Aborting `signal` closes it.
   */
  openTrainingEvents(context: MlCallContext, jobId: string, signal: AbortSignal): Promise<AsyncIterable<TrainingEvent>> {
    return this.openEvents<TrainingEvent>(context, `/api/v1/training/jobs/${encodeURIComponent(jobId)}/events`, jobId, signal);
  }

  /** Any job by id (training, batch prediction, …), in the generic shape of `/api/v1/jobs`. */
  getJob(context: MlCallContext, jobId: string): Promise<Job> {
    return this.request({ method: 'GET', path: `/api/v1/jobs/${encodeURIComponent(jobId)}`, context });
  }

  /** Cancel a queued or running job of any kind: 404 unknown, 409 already ended. */
  cancelJob(context: MlCallContext, jobId: string): Promise<Job> {
    return this.request({ method: 'DELETE', path: `/api/v1/jobs/${encodeURIComponent(jobId)}`, context });
  }

  /** The generic event stream of any kind of job; fails and ends like `openTrainingEvents`. */
  openJobEvents(context: MlCallContext, jobId: string, signal: AbortSignal): Promise<AsyncIterable<JobEvent>> {
    return this.openEvents<JobEvent>(context, `/api/v1/jobs/${encodeURIComponent(jobId)}/events`, jobId, signal);
  }

  private async openEvents<T extends { type: string }>(context: MlCallContext, path: string, jobId: string, signal: AbortSignal): Promise<AsyncIterable<T>> {
    const url = `${this.options.mlServiceUrl}${path}`;
    const controller = new AbortController();
    const abort = (): void => controller.abort();
    signal.addEventListener('abort', abort, { once: true });
    const connectTimer = setTimeout(() => controller.abort(new MlServiceTimeoutError(this.options.timeoutMs)), this.options.timeoutMs);
    let response: Response;
    try {
      response = await fetch(url, { headers: { ...this.headersOf(context), Accept: 'text/event-stream' }, signal: controller.signal });
    } catch (error) {
      signal.removeEventListener('abort', abort);
      const reason = controller.signal.reason instanceof MlServiceTimeoutError ? controller.signal.reason : error;
      this.logger.warn(`GET ${url} failed: ${fetchFailureReason(reason)} request_id=${context.requestId}`);
      throw reason instanceof MlServiceTimeoutError
        ? new HttpException(`ML Service did not answer within ${formatSeconds(reason.timeoutMs)} s`, HttpStatus.GATEWAY_TIMEOUT)
        : new HttpException(`ML Service unreachable: ${fetchFailureReason(reason)}`, HttpStatus.SERVICE_UNAVAILABLE);
    } finally {
      clearTimeout(connectTimer);
    }
    if (!response.ok || response.body === null) {
      signal.removeEventListener('abort', abort);
      const { detail, fieldErrors } = readErrorBody(parseJson(await response.text().catch(() => '')));
      this.logger.warn(`GET ${url} failed: HTTP ${response.status} request_id=${context.requestId}`);
      throw PASS_THROUGH_STATUSES.has(response.status)
        ? new FieldErrorsException(response.status, fieldErrors, detail ?? `ML Service answered ${response.status}`)
        : new HttpException(`ML Service failed: ${detail ?? `HTTP ${response.status}`}`, HttpStatus.BAD_GATEWAY);
    }
    return readServerSentEvents<T>(response.body, jobId, controller, () => signal.removeEventListener('abort', abort));
  }

  // Tracking (issue 4). Searches and comparisons are POSTs that only read, so they may be repeated.

  createExperiment(context: MlCallContext, experiment: ExperimentCreate): Promise<Experiment> {
    return this.request({ method: 'POST', path: '/api/v1/tracking/experiments', context, body: experiment });
  }

  listExperiments(context: MlCallContext): Promise<ExperimentList> {
    return this.request({ method: 'GET', path: '/api/v1/tracking/experiments', context });
  }

  getExperiment(context: MlCallContext, experimentId: string): Promise<Experiment> {
    return this.request({ method: 'GET', path: `/api/v1/tracking/experiments/${encodeURIComponent(experimentId)}`, context });
  }

  searchRuns(context: MlCallContext, search: RunSearch): Promise<RunPage> {
    return this.request({ method: 'POST', path: '/api/v1/tracking/runs/search', context, body: search, readOnly: true });
  }

  getRun(context: MlCallContext, runId: string): Promise<Run> {
    return this.request({ method: 'GET', path: `/api/v1/tracking/runs/${encodeURIComponent(runId)}`, context });
  }

  getMetricHistory(context: MlCallContext, runId: string, metricKey: string): Promise<MetricHistory> {
    const path = `/api/v1/tracking/runs/${encodeURIComponent(runId)}/metrics/${encodeURIComponent(metricKey)}/history`;
    return this.request({ method: 'GET', path, context });
  }

  listArtifacts(context: MlCallContext, runId: string, artifactPath?: string): Promise<ArtifactList> {
    return this.request({ method: 'GET', path: `/api/v1/tracking/runs/${encodeURIComponent(runId)}/artifacts`, context, params: { path: artifactPath } });
  }

  /** The bytes and content type of one artifact; never parsed, so models and images arrive intact. */
  downloadArtifact(context: MlCallContext, runId: string, artifactPath: string): Promise<ArtifactContent> {
    return this.downloadBytes(context, `/api/v1/tracking/runs/${encodeURIComponent(runId)}/artifacts/content`, { params: { path: artifactPath } });
  }

  compareRuns(context: MlCallContext, runIds: string[]): Promise<RunComparison> {
    return this.request({ method: 'POST', path: '/api/v1/tracking/runs/compare', context, body: { run_ids: runIds }, readOnly: true });
  }

  getLoggedModel(context: MlCallContext, modelArtifactId: string): Promise<LoggedModelInfo> {
    return this.request({ method: 'GET', path: `/api/v1/tracking/models/${encodeURIComponent(modelArtifactId)}`, context });
  }

  /** One folder level of a LoggedModel's own files (MLflow 3 keeps the model there, not in the run). */
  listModelArtifacts(context: MlCallContext, modelArtifactId: string, artifactPath?: string): Promise<ArtifactList> {
    const path = `/api/v1/tracking/models/${encodeURIComponent(modelArtifactId)}/artifacts`;
    return this.request({ method: 'GET', path, context, params: { path: artifactPath } });
  }

  /** One file of a LoggedModel (MLmodel, the model itself), as bytes with their content type. */
  downloadModelArtifact(context: MlCallContext, modelArtifactId: string, artifactPath: string): Promise<ArtifactContent> {
    return this.downloadBytes(context, `/api/v1/tracking/models/${encodeURIComponent(modelArtifactId)}/artifacts/content`, {
      params: { path: artifactPath },
    });
  }

  private async downloadBytes(context: MlCallContext, path: string, options: Pick<MlServiceRequest, 'params' | 'accept'>): Promise<ArtifactContent> {
    const response = await firstValueFrom(this.call$<ArrayBuffer>({ method: 'GET', path, context, ...options, responseType: 'arraybuffer' }));
    const contentType = response.headers['content-type'];
    return {
      content: Buffer.from(response.data),
      contentType: typeof contentType === 'string' ? contentType : 'application/octet-stream',
    };
  }

  // Registry (issue 4). Registration, updates and stage transitions are not repeated: the ML
  // Service may have acted on them (a repeated transition would record a second audit event).

  registerModelVersion(context: MlCallContext, name: string, registration: VersionRegistration): Promise<ModelVersion> {
    return this.request({ method: 'POST', path: `${modelPath(name)}/versions`, context, body: registration });
  }

  searchModels(context: MlCallContext, search: ModelSearch): Promise<RegisteredModelList> {
    return this.request({ method: 'GET', path: '/api/v1/registry/models', context, params: { ...search } });
  }

  getModel(context: MlCallContext, name: string): Promise<RegisteredModel> {
    return this.request({ method: 'GET', path: modelPath(name), context });
  }

  updateModel(context: MlCallContext, name: string, update: RegistryUpdate): Promise<RegisteredModel> {
    return this.request({ method: 'PATCH', path: modelPath(name), context, body: update });
  }

  deleteModel(context: MlCallContext, name: string, dryRun: boolean): Promise<ModelDeletion> {
    return this.request({ method: 'DELETE', path: modelPath(name), context, params: dryRun ? { dry_run: 'true' } : undefined });
  }

  getModelVersion(context: MlCallContext, name: string, version: number): Promise<ModelVersion> {
    return this.request({ method: 'GET', path: versionPath(name, version), context });
  }

  updateModelVersion(context: MlCallContext, name: string, version: number, update: RegistryUpdate): Promise<ModelVersion> {
    return this.request({ method: 'PATCH', path: versionPath(name, version), context, body: update });
  }

  deleteModelVersion(context: MlCallContext, name: string, version: number): Promise<unknown> {
    return this.request({ method: 'DELETE', path: versionPath(name, version), context });
  }

  transitionModelVersionStage(context: MlCallContext, name: string, version: number, transition: StageTransition): Promise<ModelVersion> {
    return this.request({ method: 'POST', path: `${versionPath(name, version)}/stage`, context, body: transition });
  }

  setModelAlias(context: MlCallContext, name: string, alias: string, assignment: AliasAssignment): Promise<RegisteredModel> {
    return this.request({ method: 'PUT', path: `${modelPath(name)}/aliases/${encodeURIComponent(alias)}`, context, body: assignment });
  }

  deleteModelAlias(context: MlCallContext, name: string, alias: string): Promise<RegisteredModel> {
    return this.request({ method: 'DELETE', path: `${modelPath(name)}/aliases/${encodeURIComponent(alias)}`, context });
  }

  getModelAudit(context: MlCallContext, name: string): Promise<AuditTrail> {
    return this.request({ method: 'GET', path: `${modelPath(name)}/audit`, context });
  }

  // Serving (issue 5). Deploy, release, rollback and feedback are not retried, because the ML
  // Service may have acted on them. Predict has its own path (below).

  createDeployment(context: MlCallContext, deployment: DeploymentCreate): Promise<Deployment> {
    return this.request({ method: 'POST', path: '/api/v1/serving/deployments', context, body: deployment });
  }

  listDeployments(context: MlCallContext): Promise<DeploymentList> {
    return this.request({ method: 'GET', path: '/api/v1/serving/deployments', context });
  }

  getDeployment(context: MlCallContext, modelId: string): Promise<Deployment> {
    return this.request({ method: 'GET', path: `/api/v1/serving/deployments/${encodeURIComponent(modelId)}`, context });
  }

  /** `idempotencyKey` identifies the logical submission; every retry reuses it (the ML Service returns the same batch). */
  createBatchPrediction(context: MlCallContext, body: BatchPredictionCreate, idempotencyKey: string): Promise<BatchPrediction> {
    return this.request({ method: 'POST', path: '/api/v1/serving/batch', context, body, idempotencyKey });
  }

  getBatchPrediction(context: MlCallContext, batchId: string): Promise<BatchPrediction> {
    return this.request({ method: 'GET', path: `/api/v1/serving/batch/${encodeURIComponent(batchId)}`, context });
  }

  cancelBatchPrediction(context: MlCallContext, batchId: string): Promise<BatchPrediction> {
    return this.request({ method: 'DELETE', path: `/api/v1/serving/batch/${encodeURIComponent(batchId)}`, context });
  }

  deleteDeployment(context: MlCallContext, modelId: string): Promise<unknown> {
    return this.changingRoutes(context, modelId, this.request({ method: 'DELETE', path: `/api/v1/serving/deployments/${encodeURIComponent(modelId)}`, context }));
  }

  /**
   * The seed's `get_prediction`: one record or `{instances: [...]}`, passed through untouched, on the
   * PredictChannel: straight to one of the deployment's replicas when the ML Service offers them
   * (options.predictDirect, `predictOnReplica`), else to the ML Service. Retried only when the
   * connection to the ML Service failed (it restarting): a 503 says the deployment is starting or at
   * capacity, and repeating it would only add to an overload, so it reaches the caller as 503 with
   * the reason and Retry-After; a deadline overrun is 504 at once. When the callee times its hops (a
   * replica always, the ML Service with MLS_SERVING_TIMING), `onTiming` gets its Server-Timing header
   * plus `ml_call`, this call's round trip in ms, for the caller's own answer (bench/serving reads it).
   */
  predict(context: MlCallContext, modelId: string, features: unknown, requestKey?: string, onTiming?: ServerTimingListener): Promise<PredictResult> {
    const headers: Record<string, string> = requestKey === undefined ? {} : { 'X-Request-Key': requestKey };
    const path = `/api/v1/serving/${encodeURIComponent(modelId)}/predict`;
    return this.withinPredictBound(context, async () => {
      if (this.replicaTargets !== undefined && isFeatureBody(features)) {
        const answer = await this.predictOnReplica(context, modelId, features);
        if (answer !== undefined) {
          return this.predictAnswer<PredictResult>(answer, 'replica', context, onTiming);
        }
      }
      return this.sendPrediction<PredictResult>(context, path, features, headers, onTiming);
    });
  }

  /**
   * The deployment's predict sent straight to one of its replicas (options.predictDirect), or
   * undefined when it must go through the ML Service: no targets offered, or the replica gone (its
   * port closed: undeployed, restarted, scaled down) or no longer serving this tenant's deployment
   * under that address (401, 404); the deployment's calls then go through the ML Service until its
   * targets are looked up again, a second later. A replica that does not answer in time is 504, as
   * the ML Service would be: the prediction may have run.
   */
  private async predictOnReplica(context: MlCallContext, modelId: string, features: unknown): Promise<TimedAnswer | undefined> {
    const url = await this.replicaTargets?.pick(context.tenantId, modelId);
    if (url === undefined) {
      return undefined;
    }
    const sent = performance.now();
    let answer: JsonAnswer;
    try {
      answer = await this.predictChannel.postJsonTo(`${url}/predict`, this.headersOf(context), features, this.options.timeoutMs);
    } catch (error) {
      if (!isSocketFailure(error)) {
        throw this.predictFailure(error);
      }
      this.logger.warn(`replica ${url} failed: ${socketFailureReason(error)}; through the ML Service request_id=${context.requestId}`);
      this.replicaTargets?.avoid(context.tenantId, modelId);
      return undefined;
    }
    if (answer.status === 401 || answer.status === 404) {
      this.logger.warn(`replica ${url} answered ${answer.status}; through the ML Service request_id=${context.requestId}`);
      this.replicaTargets?.avoid(context.tenantId, modelId);
      return undefined;
    }
    return { ...answer, sent };
  }

  /** The replica URLs of a deployment, or undefined when the ML Service offers none (409) or cannot say. */
  private async lookupReplicaTargets(tenantId: string, modelId: string): Promise<string[] | undefined> {
    const context: MlCallContext = { tenantId, requestId: `replica-targets-${modelId}` };
    const answer = await this.request<ReplicaTargets>({ method: 'GET', path: `/api/v1/serving/${encodeURIComponent(modelId)}/targets`, context });
    return answer.urls;
  }

  /**
   * Open Inference Protocol v2 inference (`version` pins the answering version), on the same path
   * and with the same retry and 503 rules as predict.
   */
  inferV2(context: MlCallContext, modelName: string, version: string | undefined, body: unknown): Promise<V2InferResponse> {
    return this.withinPredictBound(context, () => this.sendPrediction<V2InferResponse>(context, `${v2ModelPath(modelName, version)}/infer`, body, {}));
  }

  getV2ServerMetadata(context: MlCallContext): Promise<V2ServerMetadata> {
    return this.request({ method: 'GET', path: '/v2', context });
  }

  getV2ServerLiveness(context: MlCallContext): Promise<V2ServerLiveness> {
    return this.request({ method: 'GET', path: '/v2/health/live', context });
  }

  /** 200 when ready; the protocol's 400 when not, passed through to the caller. */
  getV2ServerReadiness(context: MlCallContext): Promise<V2ServerReadiness> {
    return this.request({ method: 'GET', path: '/v2/health/ready', context });
  }

  getV2ModelMetadata(context: MlCallContext, modelName: string, version?: string): Promise<V2ModelMetadata> {
    return this.request({ method: 'GET', path: v2ModelPath(modelName, version), context });
  }

  /** 200 when the model (or version) answers; 400 naming why not, passed through. */
  getV2ModelReadiness(context: MlCallContext, modelName: string, version?: string): Promise<V2ModelReadiness> {
    return this.request({ method: 'GET', path: `${v2ModelPath(modelName, version)}/ready`, context });
  }

  /**
   * `predict`, a prediction of the caller's tenant, within its bound on predictions in flight (to
   * the ML Service or a replica): beyond `predictMaxInFlight` it is refused at once with 503 and
   * `Retry-After: 1`, the answer a deployment at capacity gives, without a call.
   */
  private async withinPredictBound<T>(context: MlCallContext, predict: () => Promise<T>): Promise<T> {
    const tenant = context.tenantId;
    const inFlight = this.predictionsInFlight.get(tenant) ?? 0;
    if (inFlight >= this.options.predictMaxInFlight) {
      throw new RetryLaterException(
        `tenant ${tenant} already has ${inFlight} predictions in flight, the most it may (ML_PREDICT_MAX_IN_FLIGHT); retry shortly`,
        HttpStatus.SERVICE_UNAVAILABLE,
        '1',
      );
    }
    this.predictionsInFlight.set(tenant, inFlight + 1);
    try {
      return await predict();
    } finally {
      const left = (this.predictionsInFlight.get(tenant) ?? 1) - 1;
      if (left === 0) {
        this.predictionsInFlight.delete(tenant);
      } else {
        this.predictionsInFlight.set(tenant, left);
      }
    }
  }

  private async sendPrediction<T>(
    context: MlCallContext,
    path: string,
    body: unknown,
    extraHeaders: Record<string, string>,
    onTiming?: ServerTimingListener,
  ): Promise<T> {
    const headers = { ...this.headersOf(context), ...extraHeaders };
    for (let attempt = 1; ; attempt += 1) {
      let answer: JsonAnswer;
      const sent = performance.now();
      try {
        answer = await this.predictChannel.postJson(path, headers, body, this.options.timeoutMs);
      } catch (error) {
        this.logger.warn(`POST ${path} attempt ${attempt}/${this.options.maxAttempts} failed: ${socketFailureReason(error)} request_id=${context.requestId}`);
        if (isSocketFailure(error) && attempt < this.options.maxAttempts) {
          await new Promise((resolve) => setTimeout(resolve, backoffMs(attempt, { baseDelayMs: this.options.retryBaseDelayMs, maxDelayMs: this.options.retryMaxDelayMs })));
          continue;
        }
        throw this.predictFailure(error);
      }
      return this.predictAnswer<T>({ ...answer, sent }, `POST ${path}`, context, onTiming);
    }
  }

  /**
   * What a predict call answered (by the ML Service or a replica: the same contract), as the
   * result or the caller's error. A 503 (starting, or at capacity with Retry-After) is passed on as
   * it is, never retried here: repeating it would only add to an overload.
   */
  private predictAnswer<T>(answer: TimedAnswer, what: string, context: MlCallContext, onTiming?: ServerTimingListener): T {
    if (answer.status < 300) {
      if (onTiming !== undefined && answer.serverTiming !== undefined) {
        onTiming(`${answer.serverTiming}, ml_call;dur=${(performance.now() - answer.sent).toFixed(3)}`);
      }
      return answer.body as T;
    }
    const { detail, fieldErrors } = readErrorBody(answer.body);
    if (PASS_THROUGH_STATUSES.has(answer.status)) {
      throw new FieldErrorsException(answer.status, fieldErrors, detail ?? `ML Service answered ${answer.status}`);
    }
    this.logger.warn(`${what} failed: HTTP ${answer.status} request_id=${context.requestId}`);
    if (answer.status === 503) {
      const message = detail ?? 'the deployment cannot answer now';
      throw answer.retryAfter === undefined
        ? new HttpException(message, HttpStatus.SERVICE_UNAVAILABLE)
        : new RetryLaterException(message, HttpStatus.SERVICE_UNAVAILABLE, answer.retryAfter);
    }
    throw new HttpException(`ML Service failed: ${detail ?? `HTTP ${answer.status}`}`, HttpStatus.BAD_GATEWAY);
  }

  private predictFailure(error: unknown): unknown {
    if (error instanceof MlServiceTimeoutError) {
      return new HttpException(`ML Service did not answer within ${formatSeconds(error.timeoutMs)} s`, HttpStatus.GATEWAY_TIMEOUT);
    }
    if (isSocketFailure(error)) {
      return new HttpException(`ML Service unreachable: ${socketFailureReason(error)}`, HttpStatus.SERVICE_UNAVAILABLE);
    }
    return new HttpException(`ML Service call failed: ${socketFailureReason(error)}`, HttpStatus.BAD_GATEWAY);
  }

  recordFeedback(context: MlCallContext, modelId: string, feedback: FeedbackEntry[]): Promise<FeedbackResult> {
    return this.request({ method: 'POST', path: `/api/v1/serving/${encodeURIComponent(modelId)}/feedback`, context, body: feedback });
  }

  getServingMetrics(context: MlCallContext, modelId: string, window?: string): Promise<ServingMetrics> {
    return this.request({ method: 'GET', path: `/api/v1/serving/${encodeURIComponent(modelId)}/metrics`, context, params: { window } });
  }

  getDrift(context: MlCallContext, modelId: string, query: { window?: string; version?: string }): Promise<DriftReport> {
    return this.request({ method: 'GET', path: `/api/v1/serving/${encodeURIComponent(modelId)}/drift`, context, params: query });
  }

  setTraffic(context: MlCallContext, modelId: string, split: TrafficSplit): Promise<Deployment> {
    return this.changingRoutes(context, modelId, this.request({ method: 'PUT', path: `/api/v1/serving/${encodeURIComponent(modelId)}/traffic`, context, body: split }));
  }

  releaseVersion(context: MlCallContext, modelId: string, release: ReleaseRequest): Promise<Deployment> {
    return this.changingRoutes(context, modelId, this.request({ method: 'POST', path: `/api/v1/serving/${encodeURIComponent(modelId)}/release`, context, body: release }));
  }

  rollbackDeployment(context: MlCallContext, modelId: string): Promise<Deployment> {
    return this.changingRoutes(context, modelId, this.request({ method: 'POST', path: `/api/v1/serving/${encodeURIComponent(modelId)}/rollback`, context }));
  }

  /**
   * `change` (a traffic split, release, rollback or undeploy), after which this process looks the
   * deployment's replica targets up anew, succeeded or not: its next prediction follows the new
   * routing at once rather than within REPLICA_TARGETS_TTL_MS. (Other AI Service processes see it
   * within that time.)
   */
  private async changingRoutes<T>(context: MlCallContext, modelId: string, change: Promise<T>): Promise<T> {
    try {
      return await change;
    } finally {
      this.replicaTargets?.forget(context.tenantId, modelId);
    }
  }

  /**
   * The building block of the typed methods above, for calls that have none yet. A POST is retried
   * only with an `idempotencyKey` (or `readOnly`), because the ML Service may have acted on it.
   */
  request<T>(request: MlServiceRequest): Promise<T> {
    return firstValueFrom(this.call$<T>(request).pipe(map((response) => response.data)));
  }

  private headersOf(context: MlCallContext): Record<string, string> {
    const headers: Record<string, string> = { 'X-Tenant-ID': context.tenantId, 'X-Request-ID': context.requestId };
    // The ML Service believes X-Tenant-ID only from a caller that shows the shared secret.
    if (this.options.serviceToken !== '') {
      headers.Authorization = `Bearer ${this.options.serviceToken}`;
    }
    if (context.actor !== undefined) {
      headers['X-Actor'] = context.actor;
    }
    return headers;
  }

  private call$<T>(request: MlServiceRequest): Observable<AxiosResponse<T>> {
    const url = `${this.options.mlServiceUrl}${request.path}`;
    const method = request.method.toUpperCase();
    const headers = { ...request.headers, ...this.headersOf(request.context) };
    if (request.idempotencyKey !== undefined) {
      headers['Idempotency-Key'] = request.idempotencyKey;
    }
    if (request.accept !== undefined) {
      headers.Accept = request.accept;
    }
    const config: AxiosRequestConfig = {
      method,
      url,
      headers,
      data: request.body,
      params: request.params,
      responseType: request.responseType ?? 'json',
      // follow-redirects keeps every byte of a body it may have to replay; an upload is sent once.
      ...(request.body instanceof FormData ? { maxRedirects: 0, maxBodyLength: Infinity } : {}),
    };
    const timeoutMs = request.timeoutMs ?? this.options.timeoutMs;
    let attempt = 0;
    return defer(() => {
      attempt += 1;
      const thisAttempt = attempt;
      return this.http.request<T>(config).pipe(
        perAttemptTimeout(timeoutMs),
        tap({
          error: (error: unknown) =>
            this.logger.warn(
              `${method} ${url} attempt ${thisAttempt}/${this.options.maxAttempts} failed: ${reasonOf(error)} request_id=${request.context.requestId}`,
            ),
        }),
      );
    }).pipe(
      retryTransient({
        maxAttempts: this.options.maxAttempts,
        baseDelayMs: this.options.retryBaseDelayMs,
        maxDelayMs: this.options.retryMaxDelayMs,
        safeToRepeat: REPEATABLE_METHODS.has(method) || request.idempotencyKey !== undefined || request.readOnly === true,
      }),
      catchError((error: unknown) => throwError(() => this.toPublicError(error))),
    );
  }

  private toPublicError(error: unknown): unknown {
    if (error instanceof MlServiceTimeoutError) {
      return new HttpException(
        `ML Service did not answer within ${formatSeconds(error.timeoutMs)} s`,
        HttpStatus.GATEWAY_TIMEOUT,
      );
    }
    if (isConnectionError(error)) {
      return new HttpException(
        `ML Service unreachable: ${reasonOf(error)}`,
        HttpStatus.SERVICE_UNAVAILABLE,
      );
    }
    const status = statusOf(error);
    if (status !== undefined && isAxiosError(error)) {
      const { detail, fieldErrors } = readErrorBody(error.response?.data);
      if (PASS_THROUGH_STATUSES.has(status)) {
        return new FieldErrorsException(status, fieldErrors, detail ?? `ML Service answered ${status}`);
      }
      return new HttpException(`ML Service failed: ${detail ?? `HTTP ${status}`}`, HttpStatus.BAD_GATEWAY);
    }
    if (isAxiosError(error)) {
      return new HttpException(`ML Service call failed: ${reasonOf(error)}`, HttpStatus.BAD_GATEWAY);
    }
    // Not an HTTP failure but a bug: left as is, so the global filter logs its stack and answers 500.
    return error;
  }
}

/** How long an open event stream may stay silent: the ML Service writes at least every 15 s. */
export const EVENT_STREAM_IDLE_MS = 45_000;

/** An open event stream of the ML Service failed: cut, silent for too long, or malformed. */
export class MlServiceStreamError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MlServiceStreamError';
  }
}

/** The socket error code under fetch's generic "fetch failed", e.g. ECONNREFUSED. */
function fetchFailureReason(error: unknown): string {
  if (error instanceof MlServiceTimeoutError) {
    return error.message;
  }
  const cause = error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined;
  if (typeof cause?.code === 'string') {
    return cause.code;
  }
  return error instanceof Error ? error.message : String(error);
}

/** Parses `event:`/`data:` blocks; comments (keep-alives) only reset the idle clock. */
async function* readServerSentEvents<T extends { type: string }>(
  body: ReadableStream<Uint8Array>,
  jobId: string,
  controller: AbortController,
  release: () => void,
): AsyncGenerator<T> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let idle: NodeJS.Timeout | undefined;
  const armIdle = (): void => {
    clearTimeout(idle);
    idle = setTimeout(() => controller.abort(new MlServiceStreamError(`the ML Service sent nothing on the event stream of ${jobId} for ${EVENT_STREAM_IDLE_MS / 1000} s`)), EVENT_STREAM_IDLE_MS);
  };
  let buffer = '';
  let ended = false;
  try {
    armIdle();
    while (!ended) {
      let chunk: Awaited<ReturnType<typeof reader.read>>;
      try {
        chunk = await reader.read();
      } catch (error) {
        if (controller.signal.reason instanceof MlServiceStreamError) {
          throw controller.signal.reason;
        }
        if (controller.signal.aborted) {
          return; // the consumer left
        }
        throw new MlServiceStreamError(`the ML Service's event stream of ${jobId} broke: ${fetchFailureReason(error)}`);
      }
      if (chunk.done) {
        break;
      }
      armIdle();
      buffer += decoder.decode(chunk.value, { stream: true }).replace(/\r\n/g, '\n');
      let boundary: number;
      while ((boundary = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, boundary);
        buffer = buffer.slice(boundary + 2);
        const data = block
          .split('\n')
          .filter((line) => line.startsWith('data:'))
          .map((line) => line.slice(5).trimStart())
          .join('\n');
        if (data === '') {
          continue; // a comment or an event without data
        }
        const event = parseJson(data) as T | undefined;
        if (event === undefined || typeof event.type !== 'string') {
          throw new MlServiceStreamError(`the ML Service sent an unreadable event for ${jobId}`);
        }
        yield event;
        ended = event.type === 'end';
      }
    }
    if (!ended) {
      throw new MlServiceStreamError(`the ML Service closed the event stream of ${jobId} before the job ended`);
    }
  } finally {
    clearTimeout(idle);
    release();
    controller.abort();
    reader.releaseLock();
  }
}

function textOf(value: unknown): string {
  return typeof value === 'string' ? value : value === undefined ? '' : JSON.stringify(value);
}

/** Error bodies of binary downloads arrive as bytes; they are JSON all the same. */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Model names are validated at the edge; encoding keeps the path intact should that ever change. */
function modelPath(name: string): string {
  return `/api/v1/registry/models/${encodeURIComponent(name)}`;
}

function versionPath(name: string, version: number): string {
  return `${modelPath(name)}/versions/${version}`;
}

/** An Open Inference Protocol model, or one of its versions when `version` is given. */
function v2ModelPath(name: string, version: string | undefined): string {
  const model = `/v2/models/${encodeURIComponent(name)}`;
  return version === undefined ? model : `${model}/versions/${encodeURIComponent(version)}`;
}

function formatSeconds(milliseconds: number): string {
  return Number.isInteger(milliseconds / 1000) ? String(milliseconds / 1000) : (milliseconds / 1000).toFixed(1);
}

/**
 * The contract's error body is `{detail: string, errors?: [{field, message}]}` (`{error, errors?}` on
 * the /v2 routes); FastAPI's own request
 * validation sends `detail: [{loc, msg}]`, which is read into the same field list.
 */
function readErrorBody(raw: unknown): { detail?: string; fieldErrors: FieldError[] } {
  const data = raw instanceof ArrayBuffer || Buffer.isBuffer(raw) ? parseJson(Buffer.from(raw as ArrayBuffer).toString('utf8')) : raw;
  if (typeof data !== 'object' || data === null) {
    return { fieldErrors: [] };
  }
  const body = data as { detail?: unknown; error?: unknown; errors?: unknown };
  const fieldErrors: FieldError[] = [];
  if (Array.isArray(body.errors)) {
    for (const entry of body.errors as { field?: unknown; message?: unknown }[]) {
      fieldErrors.push({ field: textOf(entry.field), message: textOf(entry.message) });
    }
  }
  if (typeof body.detail === 'string') {
    return { detail: body.detail, fieldErrors };
  }
  // The Open Inference Protocol's routes (/v2) answer `{error: string, errors?}`.
  if (typeof body.error === 'string') {
    return { detail: body.error, fieldErrors };
  }
  if (Array.isArray(body.detail)) {
    for (const entry of body.detail as { loc?: unknown; msg?: unknown }[]) {
      const location = Array.isArray(entry.loc) ? entry.loc.filter((part) => part !== 'body').join('.') : '';
      fieldErrors.push({ field: location, message: textOf(entry.msg) });
    }
    return { detail: fieldErrors.map((fieldError) => `${fieldError.field}: ${fieldError.message}`).join('; '), fieldErrors };
  }
  return { fieldErrors };
}

function featureSetPath(name: string): string {
  return `/api/v1/features/sets/${encodeURIComponent(name)}`;
}
