import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type CallHandler, type ExecutionContext, HttpStatus, Inject, Injectable, type NestInterceptor } from '@nestjs/common';
import multer from 'multer';
import { catchError, concatMap, finalize, from, mergeMap, type Observable, throwError } from 'rxjs';
import { type HttpRequest, nodeRequestOf, nodeResponseOf } from '@app/common/http/node-http';
import { FieldErrorsException } from '@app/common/filters/field-errors.exception';
import { MAX_JSON_FIELD_LENGTH } from '@app/ml/datasets/dto/upload-dataset.dto';
import { ML_OPTIONS, maxDatasetBytes, type ResolvedMlModuleOptions } from '@app/ml/ml-module-options';

/** The multipart framing and the small fields around the file's own bytes. */
const MULTIPART_OVERHEAD_BYTES = 64 * 1024;
export const UPLOAD_FILE_FIELD = 'file';

/** The file multer left on disk for this request; its folder is removed when the request ends. */
export interface SpooledUpload {
  path: string;
  originalname: string;
  size: number;
}

export function formatGigabytes(bytes: number): string {
  return `${Number((bytes / 1024 ** 3).toFixed(3))} GB`;
}

export function fileTooLarge(limitBytes: number): FieldErrorsException {
  return new FieldErrorsException(HttpStatus.PAYLOAD_TOO_LARGE, [
    { field: UPLOAD_FILE_FIELD, message: `the file is larger than the limit of ${formatGigabytes(limitBytes)} (ML_MAX_DATASET_SIZE_GB)` },
  ]);
}

/**
 * Receives a dataset upload to disk, never into memory: multer's disk storage writes the `file`
 * part into a folder of its own under `uploadDirectory` and stops at `maxDatasetSizeGb` (413 naming
 * `file`). The folder is removed however the request ends: refused, failed or answered.
 */
@Injectable()
export class DatasetUploadInterceptor implements NestInterceptor {
  constructor(@Inject(ML_OPTIONS) private readonly options: ResolvedMlModuleOptions) {}

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    const request = context.switchToHttp().getRequest<HttpRequest & { file?: unknown }>();
    // multer reads the Node request (Fastify hands its multipart bodies over unread, see configureApp)
    const nodeRequest = nodeRequestOf(request) as typeof request;
    const limit = maxDatasetBytes(this.options);
    const declared = Number(request.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit + MULTIPART_OVERHEAD_BYTES) {
      // Refused before a byte of the body is read.
      throw fileTooLarge(limit);
    }
    const directory = await mkdtemp(join(this.options.uploadDirectory, 'ai-service-upload-'));
    const receive = multer({
      storage: multer.diskStorage({ destination: directory }),
      limits: { fileSize: limit, files: 1, fields: 16, fieldSize: MAX_JSON_FIELD_LENGTH },
    }).single(UPLOAD_FILE_FIELD);
    try {
      await new Promise<void>((resolve, reject) =>
        receive(nodeRequest as never, nodeResponseOf(context.switchToHttp().getResponse<object>()) as never, (error: unknown) => (error ? reject(asError(error)) : resolve())),
      );
      // where @UploadedFile() and @Body() read them under Fastify, whose request wraps the Node one
      request.file = nodeRequest.file;
      request.body = nodeRequest.body;
    } catch (error) {
      await removeFolder(directory);
      throw uploadError(error, limit);
    }
    // Removed before the answer goes out (so a client may rely on it), and on unsubscribe as well.
    return next.handle().pipe(
      concatMap(async (value: unknown) => {
        await removeFolder(directory);
        return value;
      }),
      catchError((error: unknown) => from(removeFolder(directory)).pipe(mergeMap(() => throwError(() => error)))),
      finalize(() => void removeFolder(directory)),
    );
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

function removeFolder(directory: string): Promise<void> {
  return rm(directory, { recursive: true, force: true }).catch(() => undefined);
}

/**
 * busboy's parse errors (multer passes them on as plain Errors): the caller's body is malformed, so
 * they are a 400 naming `file`, never a 500. Anything else (a full disk) stays an internal error.
 */
const MALFORMED_BODY_REASONS: [RegExp, string][] = [
  [/^Unexpected end of (form|file)$/, 'the multipart body ends before its closing boundary; the upload was cut off, and nothing was loaded'],
  [/^Malformed part header$/, 'a part header of the multipart body is malformed (a control character or a broken line)'],
  [/^Multipart: Boundary not found$/, 'the Content-Type has no boundary parameter: send multipart/form-data; boundary=…'],
  [/^(Malformed content type|Missing Content-Type|Unsupported content type)/, 'send the dataset as multipart/form-data with a `file` field'],
];

function uploadError(error: unknown, limit: number): unknown {
  if (!(error instanceof multer.MulterError)) {
    const reason = error instanceof Error ? MALFORMED_BODY_REASONS.find(([pattern]) => pattern.test(error.message)) : undefined;
    return reason === undefined ? error : new FieldErrorsException(HttpStatus.BAD_REQUEST, [{ field: UPLOAD_FILE_FIELD, message: reason[1] }]);
  }
  switch (error.code) {
    case 'LIMIT_FILE_SIZE':
      return fileTooLarge(limit);
    case 'LIMIT_UNEXPECTED_FILE':
    case 'LIMIT_FILE_COUNT':
      return new FieldErrorsException(HttpStatus.BAD_REQUEST, [
        { field: error.field ?? UPLOAD_FILE_FIELD, message: 'send exactly one file, in the `file` field' },
      ]);
    default:
      return new FieldErrorsException(HttpStatus.BAD_REQUEST, [{ field: error.field ?? 'body', message: error.message }]);
  }
}
