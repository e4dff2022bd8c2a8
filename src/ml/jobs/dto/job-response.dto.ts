import { ApiProperty } from '@nestjs/swagger';
import { Matches } from 'class-validator';
import type { Job } from '@app/ml/client/ml-service.types';
import { TRAINING_JOB_STATUSES } from '@app/ml/training/dto/training-enums';

export class JobIdParamDto {
  @ApiProperty({ example: 'batch-3f9a1c2b4d5e', description: 'A job of any kind: `train-…` (training), `batch-…` (batch prediction), `sweep-…` (tuning), `profile-…` (profiling), `materialize-…` (feature materialisation).' })
  @Matches(/^[a-z][a-z_]*-[0-9a-f]{12}$/, { message: 'job_id must look like <kind>-<12 hex digits>, e.g. train-3f9a1c2b4d5e' })
  job_id!: string;
}

/** A job of any kind, in the generic shape; each kind's own route shows it in that kind's shape too. */
export class JobResponseDto {
  @ApiProperty({ example: 'batch-3f9a1c2b4d5e' })
  job_id!: string;

  @ApiProperty({ example: 'batch_prediction', description: 'training | batch_prediction | tuning | profiling | feature_materialization' })
  kind!: string;

  @ApiProperty({ example: 'predictions.churn_scores' })
  name!: string;

  @ApiProperty({ enum: TRAINING_JOB_STATUSES, example: 'running' })
  status!: (typeof TRAINING_JOB_STATUSES)[number];

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    nullable: true,
    example: { rows_done: 50000, rows_total: 200000 },
    description: "The kind's latest snapshot: training iteration/total_iterations/metrics/…, batch prediction rows_done/rows_total, profiling and feature materialisation stage/stages_done/stages_total.",
  })
  progress!: Record<string, unknown> | null;

  @ApiProperty({ type: 'object', additionalProperties: true, nullable: true, description: 'Once completed: what the job produced.' })
  result!: Record<string, unknown> | null;

  @ApiProperty({ type: String, nullable: true })
  error!: string | null;

  @ApiProperty({ type: [String], description: 'The MLflow runs the job logged to.' })
  mlflow_run_ids!: string[];

  @ApiProperty({ example: '2026-03-01T12:00:00Z' })
  created_at!: string;

  @ApiProperty({ type: String, nullable: true })
  started_at!: string | null;

  @ApiProperty({ type: String, nullable: true })
  finished_at!: string | null;
}

/** Copied field by field: the tenant id stays on the ML side. */
export function toJobResponse(job: Job): JobResponseDto {
  return {
    job_id: job.job_id,
    kind: job.kind,
    name: job.name,
    status: job.status,
    progress: job.progress ?? null,
    result: job.result ?? null,
    error: job.error ?? null,
    mlflow_run_ids: job.mlflow_run_ids,
    created_at: job.created_at,
    started_at: job.started_at ?? null,
    finished_at: job.finished_at ?? null,
  };
}
