import { HttpException, Logger } from '@nestjs/common';
import { MlServiceStreamError } from '@app/ml/client/ml-service.client';
import type { JobEvent } from '@app/ml/client/ml-service.types';
import type { JobEventDto, JobStreamErrorDto } from '@app/ml/jobs/dto/job-event.dto';
import { toJobResponse } from '@app/ml/jobs/dto/job-response.dto';

/**
 * The event relay of every kind of job: the ML Service pushes a job's events (Server-Sent Events),
 * this turns them into stream messages for the SSE routes and the one progress WebSocket gateway.
 */

/** Job ids as the ML Service makes them (`train-…`, `batch-…`); checked before any call so a query cannot inject a path. */
export const JOB_ID = /^[a-z][a-z_]*-[0-9a-f]{12}$/;

/** The `error` message of a stream: an HTTP-like status and one sentence. */
export interface StreamError {
  status: number;
  message: string;
}

/** One message of a progress stream: the SSE event name / the WebSocket message's `event`, and its data. */
export type StreamMessage<D> = { event: 'status' | 'progress' | 'end'; data: D } | { event: 'error'; data: StreamError };

export type JobStreamMessage = StreamMessage<JobEventDto>;

const logger = new Logger('JobEvents');

/** What a client is told when a stream cannot start or breaks: an HTTP-like status and one sentence. */
export function streamErrorOf(error: unknown): JobStreamErrorDto {
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
 * A job's events as stream messages, each mapped to the AI Service's shape; a failure after the
 * stream started becomes a last `error` message, so SSE and WebSocket clients always learn why the
 * stream ended early.
 */
export async function* relayEvents<E extends { type: 'status' | 'progress' | 'end' }, D>(
  events: AsyncIterable<E>,
  toDto: (event: E) => D,
): AsyncGenerator<StreamMessage<D>> {
  try {
    for await (const event of events) {
      yield { event: event.type, data: toDto(event) };
    }
  } catch (error) {
    yield { event: 'error', data: streamErrorOf(error) };
  }
}

/** The AI Service's shape of a generic job event, copied field by field. */
export function toJobEventDto(event: JobEvent): JobEventDto {
  return {
    type: event.type,
    job_id: event.job_id,
    kind: event.kind,
    status: event.status,
    progress: event.progress ?? null,
    job: event.job ? toJobResponse(event.job) : null,
  };
}
