import type { TrainingEvent } from '@app/ml/client/ml-service.types';
import { relayEvents } from '@app/ml/jobs/job-events';
import type { TrainingEventDto, TrainingStreamErrorDto } from '@app/ml/training/dto/training-event.dto';
import { toTrainingJobResponse } from '@app/ml/training/training.service';

/** Job ids as the ML Service makes them; checked before any call so a WebSocket query cannot inject a path. */
export const TRAINING_JOB_ID = /^train-[0-9a-f]{12}$/;

/** One message of a progress stream: the SSE event name / the WebSocket message's `event`, and its data. */
export type TrainingStreamMessage =
  | { event: TrainingEventDto['type']; data: TrainingEventDto }
  | { event: 'error'; data: TrainingStreamErrorDto };

/** The AI Service's shape of an event: the job in seed 001's shape, copied field by field. */
export function toTrainingEventDto(event: TrainingEvent): TrainingEventDto {
  return {
    type: event.type,
    job_id: event.job_id,
    status: event.status,
    progress: event.progress,
    job: event.job ? toTrainingJobResponse(event.job) : null,
  };
}

/** The job's events as stream messages through the shared relay (`@app/ml/jobs/job-events`). */
export function toStreamMessages(events: AsyncIterable<TrainingEvent>): AsyncGenerator<TrainingStreamMessage> {
  return relayEvents(events, toTrainingEventDto);
}
