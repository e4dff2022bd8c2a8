import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import type { App } from 'supertest/types';
import type { UploadedDatasetTableResponseDto } from '@app/ml/datasets/dto/dataset-responses.dto';
import type { ModelVersionResponseDto } from '@app/ml/registry/dto/registry-responses.dto';
import type { DeploymentResponseDto, FeedbackResultDto, PredictResponseDto, ServingMetricsResponseDto } from '@app/ml/serving/dto/serving-responses.dto';
import type { TrainingJobResponseDto } from '@app/ml/training/dto/training-job-response.dto';
import { GLOBEX_KEY, mlServiceUrl, startAiService } from '@test/support/ai-service';

const ENDED = new Set(['completed', 'failed', 'cancelled']);

/**
 * An invented spreadsheet export as a European office saves it (the README's example): `;` between
 * fields, CRLF line ends, decimal commas, a `churn` column of Yes/No, month-start dates written
 * dd/mm/yyyy (ambiguous: every one also reads as mm/dd), an empty cell in an integer column named
 * `weight (kg)`. Short tenures churn.
 */
const CHURN_EXPORT = readFileSync(join(process.cwd(), 'docs', 'examples', 'churn-export.csv'));

/** Issue 10's headline example, as a new user would try it through the AI Service. */
describe('a spreadsheet export, exactly as given: upload, train, deploy, predict and feedback in its own labels', () => {
  let app: INestApplication<App>;
  const modelName = `churn-labels-e2e-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    app = await startAiService({ MODULE_ML_ENABLED: 'true', ML_SERVICE_URL: mlServiceUrl() });
  });

  afterAll(async () => {
    await api('delete', `/api/v1/ml/serving/deployments/${modelName}`);
    await app.close();
  });

  function api(method: 'get' | 'post' | 'delete', url: string): request.Test {
    return request(app.getHttpServer())[method](url).set('X-API-Key', GLOBEX_KEY);
  }

  async function until<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
    const deadline = Date.now() + 240_000;
    for (;;) {
      const value = await read();
      if (done(value) || Date.now() > deadline) {
        return value;
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }

  it('uploads it with only the decimal separator given, and says how every column was read', async () => {
    const response = await api('post', '/api/v1/ml/datasets')
      .field('table', 'churn_export')
      .field('if_exists', 'replace')
      .field('decimal_separator', ',')
      .attach('file', CHURN_EXPORT, 'churn export.csv')
      .expect(201);
    const table = response.body as UploadedDatasetTableResponseDto;

    expect(table.delimiter).toBe(';');
    expect(table.row_count).toBe(48);
    expect(table.columns.map((column) => [column.name, column.type, column.null_count])).toEqual([
      ['customer', 'VARCHAR', 0],
      ['signup_month', 'VARCHAR', 0],
      ['tenure', 'BIGINT', 0],
      ['monthly_fee', 'DOUBLE', 0],
      ['weight (kg)', 'BIGINT', 1],
      ['churn', 'VARCHAR', 0],
    ]);
    expect(table.preview).toHaveLength(5);
    expect(table.preview[0]).toEqual({ customer: 'c0', signup_month: '01/01/2021', tenure: 1, monthly_fee: 40.5, 'weight (kg)': 60, churn: 'Yes' });
    expect(table.coerced).toEqual([expect.objectContaining({ column: 'monthly_fee', to_type: 'DOUBLE', reason: expect.stringContaining("decimal separator ','") })]);
    expect(table.kept_as_text).toEqual([expect.objectContaining({ column: 'signup_month', reason: expect.stringContaining('date_format') })]);
  });

  it('trains the documented `logistic` on it, and predictions, reports and feedback speak Yes/No', async () => {
    const accepted = await api('post', '/api/v1/ml/train')
      .set('Idempotency-Key', randomUUID())
      .send({
        name: modelName,
        algorithm: 'logistic',
        task_type: 'classification',
        dataset: { source: 'table', table: 'uploads.churn_export' },
        target_column: 'churn',
        feature_columns: ['tenure', 'monthly_fee', 'weight (kg)'],
        split: { strategy: 'stratified', test_size: 0.25, random_state: 3 },
      })
      .expect(202);
    const jobId = (accepted.body as TrainingJobResponseDto).job_id;
    const job = await until(
      async () => (await api('get', `/api/v1/ml/train/${jobId}`).expect(200)).body as TrainingJobResponseDto,
      (value) => ENDED.has(value.status),
    );
    expect(job.status).toBe('completed');
    expect(Object.keys((job.metrics as { per_class: Record<string, unknown> }).per_class).sort()).toEqual(['No', 'Yes']);

    const registered = (await api('post', `/api/v1/ml/registry/models/${modelName}/versions`).send({ job_id: jobId }).expect(201)).body as ModelVersionResponseDto;
    await api('post', '/api/v1/ml/serving/deployments').send({ model_name: modelName, version: Number(registered.version), model_id: modelName }).expect(202);
    const deployment = await until(
      async () => (await api('get', `/api/v1/ml/serving/deployments/${modelName}`).expect(200)).body as DeploymentResponseDto,
      (value) => value.status !== 'deploying',
    );
    expect(deployment.status).toBe('healthy');

    const answered = (
      await api('post', `/api/v1/ml/serving/${modelName}/predict`)
        .send({ instances: [{ tenure: 2, monthly_fee: 55.5, 'weight (kg)': 70 }, { tenure: 46, monthly_fee: 55.5, 'weight (kg)': null }] })
        .expect(200)
    ).body as PredictResponseDto;
    expect(answered.predictions.map((prediction) => prediction.class)).toEqual(['Yes', 'No']);

    const feedback = (await api('post', `/api/v1/ml/serving/${modelName}/feedback`)
      .send([{ prediction_id: answered.predictions[0].prediction_id, actual: 'Yes' }])
      .expect(200)).body as FeedbackResultDto;
    expect(feedback).toEqual({ recorded: 1, unknown_prediction_ids: [] });
    const metrics = (await api('get', `/api/v1/ml/serving/${modelName}/metrics?window=1h`).expect(200)).body as ServingMetricsResponseDto;
    expect(metrics.variants[0]).toMatchObject({ feedback_count: 1, accuracy: 1 });
    // A label the model never learned (here only its case differs) is refused, naming the field and the classes.
    const unknown = await api('post', `/api/v1/ml/serving/${modelName}/feedback`).send([{ prediction_id: answered.predictions[1].prediction_id, actual: 'yes' }]).expect(422);
    expect((unknown.body as { errors: unknown[] }).errors).toEqual([{ field: '0.actual', message: 'not a class of the model (classes: "No", "Yes")' }]);
  }, 400_000);
});
