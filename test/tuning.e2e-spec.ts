import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import type { App } from 'supertest/types';
import type { TrainingJobResponseDto } from '@app/ml/training/dto/training-job-response.dto';
import { seedTrainingConfig } from '@app/ml/training/training.fixtures';
import type { TuningSweepListResponseDto, TuningSweepResponseDto } from '@app/ml/tuning/dto/tuning-sweep-response.dto';
import { ACME_KEY, GLOBEX_KEY, mlServiceUrl, startAiService } from '@test/support/ai-service';
import { follow } from '@test/support/progress-stream';

describe('a tuning sweep through the AI Service and the real ML Service (Ray Tune, XGBoost, MLflow)', () => {
  let app: INestApplication<App>;
  let jobsProgressUrl: string;

  beforeAll(async () => {
    app = await startAiService({ MODULE_ML_ENABLED: 'true', ML_SERVICE_URL: mlServiceUrl() });
    await app.listen(0, '127.0.0.1');
    const { port } = (app.getHttpServer() as unknown as Server).address() as AddressInfo;
    jobsProgressUrl = `ws://127.0.0.1:${port}/api/v1/ml/jobs/progress`;
  });

  afterAll(async () => {
    await app.close();
  });

  function api(): ReturnType<typeof request> {
    return request(app.getHttpServer());
  }

  async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, seconds: number): Promise<T> {
    const deadline = Date.now() + seconds * 1000;
    for (;;) {
      const value = await read();
      if (done(value) || Date.now() > deadline) {
        return value;
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }

  it('runs a grid of two depths with per-trial progress on the jobs gateway, then trains and registers the best', async () => {
    const accepted = await api()
      .post('/api/v1/ml/tuning')
      .set('X-API-Key', ACME_KEY)
      .set('Idempotency-Key', randomUUID())
      .send({
        ...seedTrainingConfig(),
        name: 'e2e-sweep',
        hyperparameters: { n_estimators: 20 },
        search: 'grid',
        search_space: { max_depth: { type: 'grid', values: [2, 5] } },
      })
      .expect(202);
    const sweep = accepted.body as TuningSweepResponseDto;
    expect(sweep.sweep_id).toMatch(/^sweep-[0-9a-f]{12}$/);
    expect(sweep).toMatchObject({ search: 'grid', metric: 'log_loss', mode: 'min' });

    // The sweep is a job: its per-trial events come over the one jobs WebSocket.
    const { messages, code } = await follow(`${jobsProgressUrl}?job_id=${sweep.sweep_id}&api_key=${ACME_KEY}`);
    // The last snapshot (the sweep's end) has no trial event.
    const events = messages
      .filter((message) => message.event === 'progress')
      .map((message) => (message.data.progress as { last_event: { event: string } | null }).last_event?.event);
    expect(events).toContain('started');
    expect(messages.at(-1)).toMatchObject({ event: 'end', data: { kind: 'tuning', job: { status: 'completed' } } });
    expect(code).toBe(1000);

    const done = (await api().get(`/api/v1/ml/tuning/${sweep.sweep_id}`).set('X-API-Key', ACME_KEY).expect(200)).body as TuningSweepResponseDto;
    expect(done.trials.map((trial) => trial.params.max_depth).sort()).toEqual([2, 5]);
    expect(done.trials.every((trial) => trial.status === 'completed' && trial.rounds === 20)).toBe(true);
    expect(done.histories).toHaveLength(2);
    const listed = (await api().get('/api/v1/ml/tuning?status=completed').set('X-API-Key', ACME_KEY).expect(200)).body as TuningSweepListResponseDto;
    expect(listed.sweeps.map((entry) => entry.sweep_id)).toContain(sweep.sweep_id);

    // The charts, through the AI Service: the list, a Vega-Lite spec and a PNG.
    const charts = (await api().get(`/api/v1/ml/tuning/${sweep.sweep_id}/charts`).set('X-API-Key', ACME_KEY).expect(200)).body as { charts: { name: string }[] };
    expect(charts.charts.map(({ name }) => name)).toEqual(['optimisation_history', 'parallel_coordinates', 'parameter_importance', 'learning_curves']);
    const importance = await api().get(`/api/v1/ml/tuning/${sweep.sweep_id}/charts/parameter_importance`).set('X-API-Key', ACME_KEY).expect(200);
    expect((importance.body as { data: { values: unknown[] } }).data.values).toEqual([{ parameter: 'max_depth', importance: 1 }]);
    const png = await api().get(`/api/v1/ml/tuning/${sweep.sweep_id}/charts/learning_curves`).set('X-API-Key', ACME_KEY).set('Accept', 'image/png').expect(200);
    expect(png.headers['content-type']).toBe('image/png');
    await api().get(`/api/v1/ml/tuning/${sweep.sweep_id}/charts/learning_curves`).set('X-API-Key', GLOBEX_KEY).set('Accept', 'image/png').expect(404);

    // Another tenant sees none of it.
    await api().get(`/api/v1/ml/tuning/${sweep.sweep_id}`).set('X-API-Key', GLOBEX_KEY).expect(404);
    const theirs = (await api().get('/api/v1/ml/tuning').set('X-API-Key', GLOBEX_KEY).expect(200)).body as TuningSweepListResponseDto;
    expect(theirs.sweeps).toEqual([]);

    const trainBest = await api()
      .post(`/api/v1/ml/tuning/${sweep.sweep_id}/train-best`)
      .set('X-API-Key', ACME_KEY)
      .set('Idempotency-Key', randomUUID())
      .send({ register: { model_name: 'e2e-tuned-churn' } })
      .expect(202);
    const job = trainBest.body as TrainingJobResponseDto;
    expect(job.tuned_by).toEqual({ sweep_id: sweep.sweep_id, trial_id: done.best_trial!.trial_id });
    const trained = await until(
      async () => (await api().get(`/api/v1/ml/train/${job.job_id}`).set('X-API-Key', ACME_KEY).expect(200)).body as TrainingJobResponseDto,
      (current) => ['completed', 'failed', 'cancelled'].includes(current.status),
      180,
    );
    expect(trained.status).toBe('completed');
    expect(trained.registered_version).toEqual({ model_name: 'e2e-tuned-churn', version: '1' });
    expect(trained.data_summary?.test_samples).toBe(1000);

    // A new sweep from the registered version: the configuration of the job that made it.
    const retune = await api()
      .post('/api/v1/ml/tuning/from-base')
      .set('X-API-Key', ACME_KEY)
      .set('Idempotency-Key', randomUUID())
      .send({ base_model: { model_name: 'e2e-tuned-churn', version: '1' }, num_samples: 1 })
      .expect(202);
    const retuned = retune.body as TuningSweepResponseDto;
    expect(retuned).toMatchObject({ name: 'e2e-sweep-best-sweep', algorithm: 'xgboost', base: { job_id: job.job_id, model_name: 'e2e-tuned-churn', version: '1' } });
    await api().delete(`/api/v1/ml/tuning/${retuned.sweep_id}`).set('X-API-Key', ACME_KEY).expect(200);
    await api().post('/api/v1/ml/tuning/from-base').set('X-API-Key', GLOBEX_KEY).send({ base_model: { model_name: 'e2e-tuned-churn', version: '1' } }).expect(422);
  }, 300_000);

  it("passes the ML Service's refusal of a search space through, naming the hyperparameter", async () => {
    const refused = await api()
      .post('/api/v1/ml/tuning')
      .set('X-API-Key', ACME_KEY)
      .send({ ...seedTrainingConfig(), search_space: { max_depth: { type: 'uniform', lower: 2, upper: 8 } } })
      .expect(422);
    expect((refused.body as { errors: { field: string; message: string }[] }).errors).toContainEqual({
      field: 'search_space.max_depth',
      message: expect.stringContaining('is an integer'),
    });
    await api().post('/api/v1/ml/tuning').set('X-API-Key', ACME_KEY).send({ ...seedTrainingConfig(), search: 'annealing' }).expect(400);
  });
});
