import { ApiProperty } from '@nestjs/swagger';
import type { TuningProgress, TuningSweep, TuningTrial } from '@app/ml/client/ml-service.types';
import { SCHEDULERS, SEARCH_ALGORITHMS, SWEEP_STATUSES, TRIAL_STATUSES, TUNING_METRICS, TUNING_MODES } from '@app/ml/tuning/dto/tuning-enums';
import { SearchSpaceDomainDto } from '@app/ml/tuning/dto/create-tuning-sweep.dto';

/** A pbt exploit: the trial dropped its model and continued from another trial's, with that trial's hyperparameters perturbed. */
export class TuningPerturbationDto {
  @ApiProperty({ example: 10, description: "The trial's round when it was exploited." })
  round!: number;

  @ApiProperty({ example: 'a1b2c3d4_00001', description: 'The trial whose model it continued from.' })
  cloned_trial_id!: string;

  @ApiProperty({ example: 10, nullable: true, type: Number, description: 'The round of the cloned model.' })
  cloned_round!: number | null;

  @ApiProperty({ type: 'object', additionalProperties: true, example: { learning_rate: 0.05 }, description: 'The hyperparameters it continued with.' })
  params!: Record<string, unknown>;
}

/** One row of the trials table. */
export class TuningTrialDto {
  @ApiProperty({ example: 'a1b2c3d4_00003' })
  trial_id!: string;

  @ApiProperty({ enum: TRIAL_STATUSES, example: 'stopped_early', description: 'stopped_early: stopped before its last round (by the scheduler, the time budget or a cancel).' })
  status!: (typeof TRIAL_STATUSES)[number];

  @ApiProperty({ type: 'object', additionalProperties: true, example: { learning_rate: 0.042, max_depth: 6 }, description: 'The sampled hyperparameters; pbt: those the trial ended with (see perturbations).' })
  params!: Record<string, unknown>;

  @ApiProperty({ type: 'object', additionalProperties: { type: 'number' }, example: { log_loss: 0.41, auc_roc: 0.86 }, description: 'Latest validation metrics; a completed trial has the full set.' })
  metrics!: Record<string, number>;

  @ApiProperty({ example: 40, description: 'Rounds (boosting rounds, forest steps) run.' })
  rounds!: number;

  @ApiProperty({ example: 1.8, nullable: true, type: Number })
  duration_seconds!: number | null;

  @ApiProperty({ nullable: true, type: String, required: false, description: 'Why the trial failed.' })
  error?: string | null;

  @ApiProperty({ type: [TuningPerturbationDto], description: 'pbt: each exploit, in order (empty otherwise); rounds after one go on from the cloned model\'s round.' })
  perturbations!: TuningPerturbationDto[];
}

export class TuningProgressDto {
  @ApiProperty({ example: 16 })
  trials_total!: number;

  @ApiProperty({ example: 9 })
  trials_started!: number;

  @ApiProperty({ example: 2 })
  trials_running!: number;

  @ApiProperty({ example: 3 })
  trials_completed!: number;

  @ApiProperty({ example: 4 })
  trials_stopped_early!: number;

  @ApiProperty({ example: 0 })
  trials_failed!: number;

  @ApiProperty({ type: TuningTrialDto, nullable: true, description: 'By the sweep metric and mode, among the trials that ran every round (a trial stopped early is scored at the round it was cut, not as the configuration train-best trains); when none did, among the trials that ran the most rounds; never a failed trial.' })
  best_trial!: TuningTrialDto | null;

  @ApiProperty({ example: 12.4 })
  elapsed_seconds!: number;

  @ApiProperty({ example: 14387.6, nullable: true, type: Number, description: 'Until time_budget_s or the duration limit, whichever comes first.' })
  time_left_seconds!: number | null;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    nullable: true,
    example: { trial_id: 'a1b2c3d4_00003', event: 'stopped_early', round: 10 },
    description: '{trial_id, event: started | round | stopped_early | completed | failed, round?, value?}, or {event: max_concurrent_trials, value} after a PATCH',
  })
  last_event!: Record<string, unknown> | null;

  @ApiProperty({ nullable: true, type: Number, example: 2, description: 'Trials allowed at once now (PATCH /api/v1/ml/tuning/:sweep_id changes it while running).' })
  max_concurrent_trials!: number | null;
}

export class TrialHistoryDto {
  @ApiProperty({ example: 'a1b2c3d4_00003' })
  trial_id!: string;

  @ApiProperty({ type: [Number], example: [1, 2, 3] })
  rounds!: number[];

  @ApiProperty({ type: [Number], example: [0.61, 0.55, 0.5], description: "The sweep's metric at each round." })
  values!: number[];
}

/** A sweep: while running its progress and trials so far; once ended every trial's metric by round and the best trial. */
/** Where a sweep's training configuration came from. */
export class SweepBaseDto {
  @ApiProperty({ example: 'train-3f9a1c2b4d5e', description: 'The training job whose configuration the sweep started from.' })
  job_id!: string;

  @ApiProperty({ nullable: true, type: String, example: 'churn-tuned', description: 'When started from a registered version.' })
  model_name!: string | null;

  @ApiProperty({ nullable: true, type: String, example: '1' })
  version!: string | null;
}

export class TuningSweepResponseDto {
  @ApiProperty({ example: 'sweep-3f9a1c2b4d5e' })
  sweep_id!: string;

  @ApiProperty({ example: 'acme-corp' })
  tenant_id!: string;

  @ApiProperty({ example: 'churn-sweep' })
  name!: string;

  @ApiProperty({ example: 'xgboost' })
  algorithm!: string;

  @ApiProperty({ example: 'classification' })
  task_type!: string;

  @ApiProperty({ enum: SEARCH_ALGORITHMS })
  search!: (typeof SEARCH_ALGORITHMS)[number];

  @ApiProperty({ enum: SCHEDULERS })
  scheduler!: (typeof SCHEDULERS)[number];

  @ApiProperty({ enum: TUNING_METRICS })
  metric!: (typeof TUNING_METRICS)[number];

  @ApiProperty({ enum: TUNING_MODES })
  mode!: (typeof TUNING_MODES)[number];

  @ApiProperty({ enum: SWEEP_STATUSES, example: 'running' })
  status!: (typeof SWEEP_STATUSES)[number];

  @ApiProperty({ example: '2026-09-01T12:00:00Z' })
  created_at!: string;

  @ApiProperty({ nullable: true, type: String })
  started_at!: string | null;

  @ApiProperty({ nullable: true, type: String })
  finished_at!: string | null;

  @ApiProperty({ type: TuningProgressDto, nullable: true, description: 'Null until the first trial starts.' })
  progress!: TuningProgressDto | null;

  @ApiProperty({ type: [TuningTrialDto] })
  trials!: TuningTrialDto[];

  @ApiProperty({ type: TuningTrialDto, nullable: true, description: 'By the sweep metric and mode, among the trials that ran every round (a trial stopped early is scored at the round it was cut, not as the configuration train-best trains); when none did, among the trials that ran the most rounds; never a failed trial.' })
  best_trial!: TuningTrialDto | null;

  @ApiProperty({ type: [TrialHistoryDto], nullable: true, description: 'Once ended: the metric by round of each trial (where early stopping cut it).' })
  histories!: TrialHistoryDto[] | null;

  @ApiProperty({ nullable: true, type: String, description: 'Why the sweep failed.' })
  error!: string | null;

  @ApiProperty({ nullable: true, type: Number, example: 84.2 })
  duration_seconds!: number | null;

  @ApiProperty({ nullable: true, type: String, description: 'The MLflow parent run; one child run per trial.' })
  mlflow_run_id!: string | null;

  @ApiProperty({ type: SweepBaseDto, nullable: true, description: 'The training job (or registered version) the sweep started from (POST /api/v1/ml/tuning/from-base).' })
  base!: SweepBaseDto | null;
}

export class TuningSweepListResponseDto {
  @ApiProperty({ type: [TuningSweepResponseDto], description: "The caller's sweeps, newest first." })
  sweeps!: TuningSweepResponseDto[];
}

export class DefaultSearchSpaceDto {
  @ApiProperty({ example: 'xgboost' })
  algorithm!: string;

  @ApiProperty({ type: 'object', additionalProperties: { $ref: '#/components/schemas/SearchSpaceDomainDto' } })
  search_space!: Record<string, SearchSpaceDomainDto>;
}

export class DefaultSearchSpaceListResponseDto {
  @ApiProperty({ type: [DefaultSearchSpaceDto], description: 'The algorithms that can be tuned, with the space a sweep uses when it gives none.' })
  spaces!: DefaultSearchSpaceDto[];
}

function toTrial(trial: TuningTrial): TuningTrialDto {
  return {
    trial_id: trial.trial_id,
    status: trial.status,
    params: trial.params,
    metrics: trial.metrics,
    rounds: trial.rounds,
    duration_seconds: trial.duration_seconds,
    error: trial.error ?? null,
    perturbations: (trial.perturbations ?? []).map(({ round, cloned_trial_id, cloned_round, params }) => ({ round, cloned_trial_id, cloned_round, params })),
  };
}

function toProgress(progress: TuningProgress): TuningProgressDto {
  return {
    trials_total: progress.trials_total,
    trials_started: progress.trials_started,
    trials_running: progress.trials_running,
    trials_completed: progress.trials_completed,
    trials_stopped_early: progress.trials_stopped_early,
    trials_failed: progress.trials_failed,
    best_trial: progress.best_trial ? toTrial(progress.best_trial) : null,
    elapsed_seconds: progress.elapsed_seconds,
    time_left_seconds: progress.time_left_seconds,
    last_event: progress.last_event,
    max_concurrent_trials: progress.max_concurrent_trials ?? null,
  };
}

/** The ML Service's sweep in this API's shape; an explicit copy so this API changes only on purpose. */
export function toTuningSweepResponse(sweep: TuningSweep): TuningSweepResponseDto {
  return {
    sweep_id: sweep.sweep_id,
    tenant_id: sweep.tenant_id,
    name: sweep.name,
    algorithm: sweep.algorithm,
    task_type: sweep.task_type,
    search: sweep.search,
    scheduler: sweep.scheduler,
    metric: sweep.metric,
    mode: sweep.mode,
    status: sweep.status,
    created_at: sweep.created_at,
    started_at: sweep.started_at,
    finished_at: sweep.finished_at,
    progress: sweep.progress ? toProgress(sweep.progress) : null,
    trials: sweep.trials.map(toTrial),
    best_trial: sweep.best_trial ? toTrial(sweep.best_trial) : null,
    histories: sweep.histories?.map(({ trial_id, rounds, values }) => ({ trial_id, rounds, values })) ?? null,
    error: sweep.error,
    duration_seconds: sweep.duration_seconds,
    mlflow_run_id: sweep.mlflow_run_id,
    base: sweep.base ? { job_id: sweep.base.job_id, model_name: sweep.base.model_name ?? null, version: sweep.base.version ?? null } : null,
  };
}
