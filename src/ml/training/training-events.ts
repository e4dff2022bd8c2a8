import { HttpException, Logger } from '@nestjs/common';
import { MlServiceStreamError } from '@app/ml/client/ml-service.client';
import type { TrainingEvent } from '@app/ml/client/ml-service.types';
import type { TrainingEventDto, TrainingStreamErrorDto } from '@app/ml/training/dto/training-event.dto';
import { toTrainingJobResponse } from '@app/ml/training/training.service';

/** Job ids as the ML Service makes them; checked before any call so a WebSocket query cannot inject a path. */
export const TRAINING_JOB_ID = /^train-[0-9a-f]{12}$/;

/** One message of a progress stream: the SSE event name / the WebSocket message's `event`, and its data. */
export type TrainingStreamMessage =
  | { event: TrainingEventDto['type']; data: TrainingEventDto }
  | { event: 'error'; data: TrainingStreamErrorDto };

const logger = new Logger('TrainingEvents');

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

/** What a client is told when a stream cannot start or breaks: an HTTP-like status and one sentence. */
export function streamErrorOf(error: unknown): TrainingStreamErrorDto {
  if (error instanceof HttpException) {
    return { status: error.getStatus(), message: error.message };
  }
  if (error instanceof MlServiceStreamError) {
    return { status: 502, message: error.message };
  }
  logger.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  return { status: 500, message: 'Internal server error' };
}

/**
 * The job's events as stream messages; a failure after the stream started becomes a last `error`
 * message, so SSE and WebSocket clients always learn why the stream ended early.
 */
export async function* toStreamMessages(events: AsyncIterable<TrainingEvent>): AsyncGenerator<TrainingStreamMessage> {
  try {
    for await (const event of events) {
      yield { event: event.type, data: toTrainingEventDto(event) };
    }
  } catch (error) {
    yield { event: 'error', data: streamErrorOf(error) };
  }
}
