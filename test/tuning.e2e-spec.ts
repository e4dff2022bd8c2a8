import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import type { App } from 'supertest/types';
import type { DeploymentResponseDto, PredictResponseDto } from '@app/ml/serving/dto/serving-responses.dto';
import type { TrainingJobResponseDto } from '@app/ml/training/dto/training-job-response.dto';
import { seedTrainingConfig } from '@app/ml/training/training.fixtures';
import type { TuningProgressDto, TuningSweepListResponseDto, TuningSweepResponseDto, TuningTrialDto } from '@app/ml/tuning/dto/tuning-sweep-response.dto';
import { ACME_KEY, GLOBEX_KEY, mlServiceUrl, startAiService } from '@test/support/ai-service';
import { follow } from '@test/support/progress-stream';

/** A tenant with room for one active job (MLS_TENANT_LIMITS in test/ml-service.global-setup.cjs). */
const INITECH_KEY = 'dev-initech-key';
/** Rows any tenant can read: a sweep on them needs no table of the tenant's own. */
const GENERATED_ROWS = {
  source: 'sql' as const,
  query: 'SELECT i AS tenure, i * 1.5 AS monthly_charges, i * 3.0 AS total_charges, (i % 2) AS churned FROM range(2000) t(i)',
};

describe('a tuning sweep through the AI Service and the real ML Service (Ray Tune, XGBoost, MLflow)', () => {
  let app: INestApplication<App>;
  let jobsProgressUrl: string;

  beforeAll(async () => {
    app = await startAiService({
      MODULE_ML_ENABLED: 'true',
      ML_SERVICE_URL: mlServiceUrl(),
      API_KEYS: `${ACME_KEY}:acme-corp,${GLOBEX_KEY}:globex,${INITECH_KEY}:initech`,
    });
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

  it("walks issue 13's 'done when': TPE + ASHA over learning_rate and max_depth, trials over the WebSocket, charts, train-best with registration, deploy and predict", async () => {
    const accepted = await api()
      .post('/api/v1/ml/tuning')
      .set('X-API-Key', ACME_KEY)
      .set('Idempotency-Key', randomUUID())
      .send({
        ...seedTrainingConfig(),
        name: 'e2e-sweep',
        hyperparameters: { n_estimators: 60 },
        search: 'tpe',
        scheduler: { type: 'asha', grace_period: 3, reduction_factor: 3 },
        num_samples: 8,
        max_concurrent_trials: 2,
        search_space: { learning_rate: { type: 'loguniform', lower: 0.001, upper: 0.5 }, max_depth: { type: 'randint', lower: 2, upper: 8 } },
      })
      .expect(202);
    const sweep = accepted.body as TuningSweepResponseDto;
    expect(sweep.sweep_id).toMatch(/^sweep-[0-9a-f]{12}$/);
    expect(sweep).toMatchObject({ search: 'tpe', scheduler: 'asha', metric: 'log_loss', mode: 'min' });

    // The sweep is a job: its per-trial events come over the one jobs WebSocket. A slow reader gets
    // the latest snapshot rather than a backlog, so early stopping shows in the snapshots' tables.
    const { messages, code } = await follow(`${jobsProgressUrl}?job_id=${sweep.sweep_id}&api_key=${ACME_KEY}`);
    const snapshots = messages.filter((message) => message.event === 'progress').map((message) => message.data.progress as TuningProgressDto & { trials: TuningTrialDto[] });
    expect(snapshots.map((snapshot) => snapshot.last_event?.event)).toContain('started');
    const cut = snapshots.flatMap((snapshot) => snapshot.trials).filter((trial) => trial.status === 'stopped_early');
    expect(cut.length).toBeGreaterThan(0);
    expect(cut.every((trial) => trial.rounds < 60)).toBe(true);
    expect(messages.at(-1)).toMatchObject({ event: 'end', data: { kind: 'tuning', job: { status: 'completed' } } });
    expect(code).toBe(1000);

    // The trials table: eight trials, the weak ones cut by ASHA before the 60th round.
    const done = (await api().get(`/api/v1/ml/tuning/${sweep.sweep_id}`).set('X-API-Key', ACME_KEY).expect(200)).body as TuningSweepResponseDto;
    expect(done.trials).toHaveLength(8);
    const stopped = done.trials.filter((trial) => trial.status === 'stopped_early');
    expect(stopped.length).toBeGreaterThan(0);
    expect(done.progress?.trials_stopped_early).toBe(stopped.length);
    for (const trial of done.trials) {
      expect(Object.keys(trial.params).sort()).toEqual(['learning_rate', 'max_depth']);
    }
    expect(done.best_trial?.status).toBe('completed');
    expect(done.histories).toHaveLength(8);
    const listed = (await api().get('/api/v1/ml/tuning?status=completed').set('X-API-Key', ACME_KEY).expect(200)).body as TuningSweepListResponseDto;
    expect(listed.sweeps.map((entry) => entry.sweep_id)).toContain(sweep.sweep_id);

    // The charts, through the AI Service: the list, the learning curves marking each cut as Vega-Lite, a PNG.
    const charts = (await api().get(`/api/v1/ml/tuning/${sweep.sweep_id}/charts`).set('X-API-Key', ACME_KEY).expect(200)).body as { charts: { name: string }[] };
    expect(charts.charts.map(({ name }) => name)).toEqual(['optimisation_history', 'parallel_coordinates', 'parameter_importance', 'learning_curves']);
    const curves = (await api().get(`/api/v1/ml/tuning/${sweep.sweep_id}/charts/learning_curves`).set('X-API-Key', ACME_KEY).expect(200)).body as {
      layer: { data: { values: { trial_id: string; round: number }[] } }[];
    };
    expect(Object.fromEntries(curves.layer[1].data.values.map((point) => [point.trial_id, point.round]))).toEqual(Object.fromEntries(stopped.map((trial) => [trial.trial_id, trial.rounds])));
    const png = await api().get(`/api/v1/ml/tuning/${sweep.sweep_id}/charts/optimisation_history`).set('X-API-Key', ACME_KEY).set('Accept', 'image/png').expect(200);
    expect(png.headers['content-type']).toBe('image/png');

    // Another tenant sees none of it.
    await api().get(`/api/v1/ml/tuning/${sweep.sweep_id}`).set('X-API-Key', GLOBEX_KEY).expect(404);
    await api().get(`/api/v1/ml/tuning/${sweep.sweep_id}/charts/learning_curves`).set('X-API-Key', GLOBEX_KEY).set('Accept', 'image/png').expect(404);
    const theirs = (await api().get('/api/v1/ml/tuning').set('X-API-Key', GLOBEX_KEY).expect(200)).body as TuningSweepListResponseDto;
    expect(theirs.sweeps).toEqual([]);

    // Train-best on the full training split, registered, then deployed and asked for a prediction.
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

    const modelId = `e2e-tuned-churn-${randomUUID().slice(0, 8)}`;
    try {
      await api().post('/api/v1/ml/serving/deployments').set('X-API-Key', ACME_KEY).send({ model_name: 'e2e-tuned-churn', version: 1, model_id: modelId }).expect(202);
      const deployment = await until(
        async () => (await api().get(`/api/v1/ml/serving/deployments/${modelId}`).set('X-API-Key', ACME_KEY).expect(200)).body as DeploymentResponseDto,
        (current) => current.status !== 'deploying',
        240,
      );
      expect(deployment.status).toBe('healthy');
      const predicted = (await api().post(`/api/v1/ml/serving/${modelId}/predict`).set('X-API-Key', ACME_KEY).send({ tenure: 3, monthly_charges: 89.5, total_charges: 268.5 }).expect(200))
        .body as PredictResponseDto;
      expect(predicted.version).toBe('1');
      expect([0, 1]).toContain(predicted.predictions[0].class);
      await api().post(`/api/v1/ml/serving/${modelId}/predict`).set('X-API-Key', GLOBEX_KEY).send({ tenure: 3, monthly_charges: 89.5, total_charges: 268.5 }).expect(404);
    } finally {
      await api().delete(`/api/v1/ml/serving/deployments/${modelId}`).set('X-API-Key', ACME_KEY);
    }

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
  }, 600_000);

  it('runs a grid over three depths as exactly three trials', async () => {
    const accepted = await api()
      .post('/api/v1/ml/tuning')
      .set('X-API-Key', ACME_KEY)
      .send({ ...seedTrainingConfig(), name: 'e2e-grid', hyperparameters: { n_estimators: 10 }, search: 'grid', search_space: { max_depth: { type: 'grid', values: [2, 4, 6] } } })
      .expect(202);
    const sweepId = (accepted.body as TuningSweepResponseDto).sweep_id;
    const done = await until(
      async () => (await api().get(`/api/v1/ml/tuning/${sweepId}`).set('X-API-Key', ACME_KEY).expect(200)).body as TuningSweepResponseDto,
      (current) => ['completed', 'failed', 'cancelled'].includes(current.status),
      180,
    );
    expect(done.status).toBe('completed');
    expect(done.progress?.trials_total).toBe(3);
    expect(done.trials.map((trial) => trial.params.max_depth).sort()).toEqual([2, 4, 6]);
    expect(done.trials.every((trial) => trial.status === 'completed' && trial.rounds === 10)).toBe(true);
  }, 240_000);

  it("counts a running sweep in the tenant's quota (429 naming tuning sweeps), and a cancel ends it and frees the place", async () => {
    // Tenant initech may have one active job (MLS_TENANT_LIMITS of test/ml-service.global-setup.cjs).
    const slow = {
      ...seedTrainingConfig(),
      name: 'e2e-quota-sweep',
      dataset: GENERATED_ROWS,
      hyperparameters: { n_estimators: 5000, learning_rate: 0.01 },
      search_space: { max_depth: { type: 'randint', lower: 10, upper: 12 } },
      num_samples: 20,
      max_concurrent_trials: 1,
    };
    const sweepId = ((await api().post('/api/v1/ml/tuning').set('X-API-Key', INITECH_KEY).send(slow).expect(202)).body as TuningSweepResponseDto).sweep_id;
    try {
      const running = await until(
        async () => (await api().get(`/api/v1/ml/tuning/${sweepId}`).set('X-API-Key', INITECH_KEY).expect(200)).body as TuningSweepResponseDto,
        (current) => (current.progress?.trials_running ?? 0) >= 1 || !['queued', 'running'].includes(current.status),
        120,
      );
      expect(running.progress?.trials_running).toBe(1);
      const training = { ...seedTrainingConfig(), name: 'e2e-quota-train', dataset: GENERATED_ROWS, hyperparameters: { n_estimators: 5 } };
      const refused = await api().post('/api/v1/ml/train').set('X-API-Key', INITECH_KEY).send(training).expect(429);
      expect((refused.body as { message: string }).message).toMatch(/already has 1 active jobs \(.*tuning sweep/);
      await api().post('/api/v1/ml/tuning').set('X-API-Key', INITECH_KEY).send({ ...slow, name: 'e2e-quota-second' }).expect(429);

      const cancelled = (await api().delete(`/api/v1/ml/tuning/${sweepId}`).set('X-API-Key', INITECH_KEY).expect(200)).body as TuningSweepResponseDto;
      expect(cancelled.status).toBe('cancelled');
      // Its place is free again at once.
      const next = (await api().post('/api/v1/ml/train').set('X-API-Key', INITECH_KEY).send(training).expect(202)).body as TrainingJobResponseDto;
      const trained = await until(
        async () => (await api().get(`/api/v1/ml/train/${next.job_id}`).set('X-API-Key', INITECH_KEY).expect(200)).body as TrainingJobResponseDto,
        (current) => ['completed', 'failed', 'cancelled'].includes(current.status),
        120,
      );
      expect(trained.status).toBe('completed');
    } finally {
      await api().delete(`/api/v1/ml/tuning/${sweepId}`).set('X-API-Key', INITECH_KEY);
    }
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
