import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import type { App } from 'supertest/types';
import type { CreateTrainingJobDto } from '@app/ml/training/dto/create-training-job.dto';
import { FORECASTING_TRAINING_REQUEST, NEURAL_NETWORK_TRAINING_REQUEST } from '@app/ml/training/dto/training-examples';
import type { TrainingJobResponseDto } from '@app/ml/training/dto/training-job-response.dto';
import { ACME_KEY, mlServiceUrl, startAiService } from '@test/support/ai-service';

const ENDED = new Set(['completed', 'failed', 'cancelled']);

/** The Swagger examples, made small: a few epochs, and ARIMA next to Prophet. */
const NEURAL_NETWORK: CreateTrainingJobDto = {
  ...NEURAL_NETWORK_TRAINING_REQUEST,
  hyperparameters: { ...NEURAL_NETWORK_TRAINING_REQUEST.hyperparameters, hidden_layers: [16], epochs: 3, batch_size: 128, learning_rate: 0.01 },
};
const PROPHET: CreateTrainingJobDto = FORECASTING_TRAINING_REQUEST;
const ARIMA: CreateTrainingJobDto = { ...FORECASTING_TRAINING_REQUEST, name: 'revenue-arima', algorithm: 'arima', hyperparameters: { order: [1, 1, 1], seasonal_order: [1, 0, 1, 7] } };

describe('neural network and forecasting through the AI Service and the real ML Service', () => {
  let app: INestApplication<App>;

  beforeAll(async () => {
    app = await startAiService({ MODULE_ML_ENABLED: 'true', ML_SERVICE_URL: mlServiceUrl() });
  });

  afterAll(async () => {
    await app.close();
  });

  async function train(config: CreateTrainingJobDto, timeoutMs: number): Promise<TrainingJobResponseDto> {
    const accepted = await request(app.getHttpServer()).post('/api/v1/ml/train').set('X-API-Key', ACME_KEY).set('Idempotency-Key', randomUUID()).send(config).expect(202);
    const jobId = (accepted.body as TrainingJobResponseDto).job_id;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const response = await request(app.getHttpServer()).get(`/api/v1/ml/train/${jobId}`).set('X-API-Key', ACME_KEY).expect(200);
      const job = response.body as TrainingJobResponseDto;
      if (ENDED.has(job.status) || Date.now() > deadline) {
        return job;
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }

  it('trains the neural network example with epoch progress and permutation importance', async () => {
    const job = await train(NEURAL_NETWORK, 240_000);
    expect(job.error).toBeNull();
    expect(job.status).toBe('completed');
    expect(job.progress).toMatchObject({ iteration: 3, total_iterations: 3 });
    expect(Object.keys(job.progress!.metrics)).toEqual(expect.arrayContaining(['train-loss', 'test-loss', 'test-auc']));
    expect((job.metrics as { auc_roc: number }).auc_roc).toBeGreaterThan(0.7);
    const shares = Object.values(job.feature_importance!);
    expect(shares.reduce((sum, share) => sum + share, 0)).toBeCloseTo(1, 5);
  }, 300_000);

  it.each([
    ['prophet', PROPHET],
    ['arima', ARIMA],
  ])('forecasts demo daily revenue with %s: tail metrics and a future with intervals', async (_name, config) => {
    const job = await train(config, 240_000);
    expect(job.error).toBeNull();
    expect(job.status).toBe('completed');
    expect(Object.keys(job.metrics!).sort()).toEqual(['mae', 'mape', 'rmse', 'smape']);
    expect((job.metrics as { mape: number }).mape).toBeLessThan(0.25);
    expect(job.feature_importance).toBeNull();
    expect(job.data_summary).toEqual({ total_samples: 731, train_samples: 717, test_samples: 14 });
    const forecast = job.forecast!;
    expect(forecast.holdout).toHaveLength(14);
    expect(forecast.future).toHaveLength(14);
    expect(forecast.future[0].timestamp).toMatch(/^2025-01-01/);
    expect(forecast.holdout.every((point) => point.actual !== null && point.lower <= point.value && point.value <= point.upper)).toBe(true);
  }, 300_000);

  it('refuses forecasting fields on a classification job, naming the field', async () => {
    const response = await request(app.getHttpServer())
      .post('/api/v1/ml/train')
      .set('X-API-Key', ACME_KEY)
      .set('Idempotency-Key', randomUUID())
      .send({ ...NEURAL_NETWORK, frequency: 'D' })
      .expect(422);
    expect((response.body as { errors: { field: string }[] }).errors.map((error) => error.field)).toEqual(['frequency']);
  });
});
