import { ApiProperty } from '@nestjs/swagger';
import { JobResponseDto } from '@app/ml/jobs/dto/job-response.dto';
import { TRAINING_JOB_STATUSES } from '@app/ml/training/dto/training-enums';

export const JOB_EVENT_TYPES = ['status', 'progress', 'end'] as const;

/**
 * One event of any job's progress stream (SSE `GET /api/v1/ml/jobs/:job_id/events`, WebSocket
 * `/api/v1/ml/jobs/progress?job_id=…`). The stream ends after the `end` event.
 */
export class JobEventDto {
  @ApiProperty({ enum: JOB_EVENT_TYPES, example: 'progress', description: 'status: the status changed; progress: a new snapshot; end: the job ended (last event), `job` holds it.' })
  type!: (typeof JOB_EVENT_TYPES)[number];

  @ApiProperty({ example: 'batch-3f9a1c2b4d5e' })
  job_id!: string;

  @ApiProperty({ example: 'batch_prediction' })
  kind!: string;

  @ApiProperty({ enum: TRAINING_JOB_STATUSES, example: 'running' })
  status!: (typeof TRAINING_JOB_STATUSES)[number];

  @ApiProperty({ type: 'object', additionalProperties: true, nullable: true, example: { rows_done: 50000, rows_total: 200000 } })
  progress!: Record<string, unknown> | null;

  @ApiProperty({ type: JobResponseDto, nullable: true, description: 'Only on `end`: the job with its result (completed) or its error (failed).' })
  job!: JobResponseDto | null;
}

/** The `error` event: why a stream could not start or ended before the job did. */
export class JobStreamErrorDto {
  @ApiProperty({ example: 404, description: 'The HTTP status the same failure has on the REST API (401, 404, 502, 503, …).' })
  status!: number;

  @ApiProperty({ example: 'job batch-3f9a1c2b4d5e does not exist' })
  message!: string;
}
