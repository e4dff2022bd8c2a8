import type { TrainingJobStatus } from '@app/ml/client/ml-service.types';

/**
 * Every task type of seed 001. The ML Service's catalog says which ones an algorithm can train
 * today (forecasting arrives with Prophet and ARIMA); the rest are refused with 422 before submission.
 */
export const TASK_TYPES = ['classification', 'regression', 'forecasting'] as const;

/** `satisfies` ties the list to the generated ML Service types: a renamed status fails the build here. */
export const TRAINING_JOB_STATUSES = ['queued', 'running', 'completed', 'failed', 'cancelled'] as const satisfies readonly TrainingJobStatus[];

export const DATASET_SOURCES = ['sql', 'table'] as const;
/** A training job or sweep may also train on a feature set version's point-in-time frame. */
export const TRAINING_DATASET_SOURCES = [...DATASET_SOURCES, 'feature_set'] as const;
export const SPLIT_STRATEGIES = ['random', 'stratified', 'time'] as const;
