import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsNumber, IsObject, IsOptional, IsPositive, Max, Min, ValidateNested } from 'class-validator';
import { CreateTrainingJobDto } from '@app/ml/training/dto/create-training-job.dto';
import { SCHEDULERS, SEARCH_ALGORITHMS, SPACE_TYPES, TUNING_METRICS, TUNING_MODES } from '@app/ml/tuning/dto/tuning-enums';

/** One hyperparameter's domain; its fields per type are checked by the ML Service against the algorithm's catalog. */
export class SearchSpaceDomainDto {
  @ApiProperty({ enum: SPACE_TYPES, example: 'loguniform' })
  type!: (typeof SPACE_TYPES)[number];

  @ApiPropertyOptional({ type: 'array', items: {}, nullable: true, example: [3, 6, 9], description: 'choice, grid: the values.' })
  values?: unknown[] | null;

  @ApiPropertyOptional({ example: 0.01, nullable: true, type: Number, description: 'uniform, loguniform, randint, q…: the lower bound (included).' })
  lower?: number | null;

  @ApiPropertyOptional({ example: 0.3, nullable: true, type: Number, description: 'The upper bound (included, also for randint).' })
  upper?: number | null;

  @ApiPropertyOptional({ example: 1, nullable: true, type: Number, description: 'quniform, qloguniform: values are multiples of q.' })
  q?: number | null;
}

/** When trials stop early; times count rounds (boosting rounds, forest steps) on the validation split. */
export class TuningSchedulerDto {
  @ApiPropertyOptional({ enum: SCHEDULERS, default: 'fifo', description: "fifo: every trial runs to its end; asha: successive halving; hyperband: asynchronous HyperBand (several ASHA brackets); median_stopping: stop below the median; pbt: Population Based Training (Ray Tune's PopulationBasedTraining) — every perturbation_interval rounds a trial in the bottom quantile_fraction continues from a top trial's booster with its hyperparameters perturbed (xgboost and lightgbm, search random or grid)." })
  @IsOptional()
  @IsIn(SCHEDULERS)
  type?: (typeof SCHEDULERS)[number];

  @ApiPropertyOptional({ example: 10, minimum: 1, default: 5, description: 'Rounds every trial runs before it can be stopped.' })
  @IsOptional()
  @IsInt()
  @Min(1)
  grace_period?: number;

  @ApiPropertyOptional({ example: 3, minimum: 2, maximum: 10, default: 3, description: 'asha, hyperband: the best 1/reduction_factor of trials go on at each rung.' })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(2)
  @Max(10)
  reduction_factor?: number;

  @ApiPropertyOptional({ example: 200, minimum: 1, description: 'asha, hyperband: rounds of the longest trial; default: the most the space allows.' })
  @IsOptional()
  @IsInt()
  @Min(1)
  max_t?: number;

  @ApiPropertyOptional({ example: 3, minimum: 1, maximum: 10, default: 3, description: 'hyperband: number of brackets.' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(10)
  brackets?: number;

  @ApiPropertyOptional({ example: 3, minimum: 1, default: 3, description: 'median_stopping: trials needed before the median is used.' })
  @IsOptional()
  @IsInt()
  @Min(1)
  min_samples_required?: number;

  @ApiPropertyOptional({ example: 5, minimum: 1, default: 5, description: "pbt: rounds between a trial's exploit/explore steps." })
  @IsOptional()
  @IsInt()
  @Min(1)
  perturbation_interval?: number;

  @ApiPropertyOptional({ example: 0, minimum: 0, default: 0, description: 'pbt: rounds before a trial is first considered for perturbation.' })
  @IsOptional()
  @IsInt()
  @Min(0)
  burn_in_period?: number;

  @ApiPropertyOptional({ example: 0.25, minimum: 0, maximum: 0.5, default: 0.25, description: 'pbt: the bottom fraction of trials clones the top fraction (0: no exploit).' })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(0.5)
  quantile_fraction?: number;

  @ApiPropertyOptional({ example: 0.25, minimum: 0, maximum: 1, default: 0.25, description: 'pbt: chance a perturbed hyperparameter is resampled from its domain instead of multiplied by 0.8 or 1.2 (or moved to a neighbouring choice).' })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(1)
  resample_probability?: number;

  @ApiPropertyOptional({ example: true, default: true, description: "pbt: synchronous PBT, trials wait for each other at every perturbation step (Ray's default is false; asynchronous PBT with fewer free CPUs than trials can resume one trial from the same checkpoint over and over)." })
  @IsOptional()
  @IsBoolean()
  synch?: boolean;
}

/**
 * A sweep: the body of POST /api/v1/ml/train (its `hyperparameters` are the fixed values) plus the search.
 * The ML Service owns the search rules (catalog names, types and ranges of `search_space`, metric per task,
 * scheduler per algorithm) and answers 422 naming the field.
 */
export class CreateTuningSweepDto extends CreateTrainingJobDto {
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { $ref: '#/components/schemas/SearchSpaceDomainDto' },
    example: { learning_rate: { type: 'loguniform', lower: 0.01, upper: 0.3 }, max_depth: { type: 'randint', lower: 3, upper: 10 } },
    description: "Hyperparameter name → domain. Default: the algorithm's default space (GET /api/v1/ml/tuning/spaces).",
  })
  @IsOptional()
  @IsObject()
  search_space?: Record<string, SearchSpaceDomainDto>;

  @ApiPropertyOptional({ enum: SEARCH_ALGORITHMS, default: 'random', description: "grid: every combination; random; tpe: Optuna's TPE; gp: Optuna's Gaussian-process sampler." })
  @IsOptional()
  @IsIn(SEARCH_ALGORITHMS)
  search?: (typeof SEARCH_ALGORITHMS)[number];

  @ApiPropertyOptional({ type: TuningSchedulerDto, description: 'Default: fifo.' })
  @IsOptional()
  @ValidateNested()
  @Type(() => TuningSchedulerDto)
  scheduler?: TuningSchedulerDto;

  @ApiPropertyOptional({ enum: TUNING_METRICS, description: 'Measured each round on a validation split carved from the training split (never the test split). Default: log_loss (classification), rmse (regression, forecasting). Forecasting: rmse, mae or mape, measured once on the last `horizon` periods of the training part.' })
  @IsOptional()
  @IsIn(TUNING_METRICS)
  metric?: (typeof TUNING_METRICS)[number];

  @ApiPropertyOptional({ enum: TUNING_MODES, description: 'Default: what the metric needs (max for auc_roc, min otherwise).' })
  @IsOptional()
  @IsIn(TUNING_MODES)
  mode?: (typeof TUNING_MODES)[number];

  @ApiPropertyOptional({ example: 0.2, default: 0.2, description: 'Share of the training split held out to score trials.' })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0.01)
  @Max(0.99)
  validation_size?: number;

  @ApiPropertyOptional({ example: 16, minimum: 1, maximum: 1000, description: 'Trials (grid: repeats of the grid). Default 10, grid 1.' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1000)
  num_samples?: number;

  @ApiPropertyOptional({ example: 2, minimum: 1, maximum: 64, default: 2, description: 'Trials running at once, each with `resources`.' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(64)
  max_concurrent_trials?: number;

  @ApiPropertyOptional({ example: 600, description: 'Seconds after which no trial starts and running ones stop; the sweep still completes.' })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @IsPositive()
  time_budget_s?: number;

  @ApiPropertyOptional({ example: 42, minimum: 0, default: 42, description: "The searcher's seed: the same sweep with the same seed picks the same trials. tpe and gp propose max_concurrent_trials trials at a time and learn from a batch once all of it ended, so the order trials end in does not change their picks; with an early-stopping scheduler and more than one trial at once, which trials stop early depends on timing, so later tpe/gp picks can differ." })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(2 ** 32 - 1)
  random_state?: number;
}
