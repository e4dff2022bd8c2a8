import { ApiProperty } from '@nestjs/swagger';
import { Matches } from 'class-validator';

/** MLflow run ids: 32 lowercase hex digits. */
export const RUN_ID_PATTERN = /^[0-9a-f]{32}$/;
/** MLflow LoggedModel ids, the training result's `model_artifact_id`. */
export const MODEL_ARTIFACT_ID_PATTERN = /^m-[0-9a-f]{32}$/;

/** A run id, wherever it appears (path, body, array element). */
export function IsRunId(options: { each?: boolean } = {}): PropertyDecorator {
  return Matches(RUN_ID_PATTERN, {
    each: options.each,
    message: options.each ? 'each value in $property must be a run id (32 hex digits)' : '$property must be a run id (32 hex digits)',
  });
}

export class RunIdParamDto {
  @ApiProperty({ example: '0f3c5e7a9b1d4f6e8a2c4e6f8a0b2c4d', description: 'As in `mlflow_run_id` of a training job.' })
  @IsRunId()
  run_id!: string;
}

export class ExperimentIdParamDto {
  @ApiProperty({ example: '1' })
  @Matches(/^[0-9]{1,19}$/, { message: 'experiment_id must be digits' })
  experiment_id!: string;
}

export class MetricHistoryParamDto extends RunIdParamDto {
  @ApiProperty({ example: 'validation_logloss', description: 'A metric key as logged by the run.' })
  @Matches(/^(?!.*\.\.)[A-Za-z0-9_][A-Za-z0-9_. -]{0,249}$/, { message: 'metric_key must be letters, digits, spaces or _ . - (no ..)' })
  metric_key!: string;
}

export class ModelArtifactIdParamDto {
  @ApiProperty({ example: 'm-0f3c5e7a9b1d4f6e8a2c4e6f8a0b2c4d', description: "A training result's `model_artifact_id`." })
  @Matches(MODEL_ARTIFACT_ID_PATTERN, { message: 'model_artifact_id must look like m-<32 hex digits>' })
  model_artifact_id!: string;
}
