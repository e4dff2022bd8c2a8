import { ApiProperty } from '@nestjs/swagger';
import { TRAINING_JOB_STATUSES } from '@app/ml/training/dto/training-enums';
import { TrainingJobResponseDto, TrainingProgressDto } from '@app/ml/training/dto/training-job-response.dto';

export const TRAINING_EVENT_TYPES = ['status', 'progress', 'end'] as const;

/**
 * One event of a job's progress stream (SSE `GET /api/v1/ml/train/:job_id/events`, WebSocket
 * `/api/v1/ml/train/progress`). The stream ends after the `end` event.
 */
export class TrainingEventDto {
  @ApiProperty({
    enum: TRAINING_EVENT_TYPES,
    example: 'progress',
    description: 'status: the status changed; progress: a new progress snapshot; end: the job ended (last event), `job` holds it.',
  })
  type!: (typeof TRAINING_EVENT_TYPES)[number];

  @ApiProperty({ example: 'train-3f9a1c2b4d5e' })
  job_id!: string;

  @ApiProperty({ enum: TRAINING_JOB_STATUSES, example: 'running' })
  status!: (typeof TRAINING_JOB_STATUSES)[number];

  @ApiProperty({ type: TrainingProgressDto, nullable: true, description: 'The latest progress; null before the first iteration reports.' })
  progress!: TrainingProgressDto | null;

  @ApiProperty({ type: TrainingJobResponseDto, nullable: true, description: 'Only on `end`: the job with its results (completed) or its error (failed).' })
  job!: TrainingJobResponseDto | null;
}

/** The `error` event: why a stream could not start or ended before the job did. */
export class TrainingStreamErrorDto {
  @ApiProperty({ example: 404, description: 'The HTTP status the same failure has on the REST API (401, 404, 502, 503, …).' })
  status!: number;

  @ApiProperty({ example: 'training job train-3f9a1c2b4d5e does not exist' })
  message!: string;
}
