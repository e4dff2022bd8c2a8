import { ApiProperty } from '@nestjs/swagger';
import { Matches } from 'class-validator';

/** Registered model names as the API shows them (the ML Service adds the tenant prefix). */
export const MODEL_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

export class ModelNameParamDto {
  @ApiProperty({ example: 'churn-predictor', description: 'Letters, digits and _ . -, at most 128, starting with a letter or digit.' })
  @Matches(MODEL_NAME_PATTERN, { message: 'name must be 1 to 128 letters, digits or _ . - starting with a letter or digit' })
  name!: string;
}

export class ModelVersionParamDto extends ModelNameParamDto {
  /** Kept a string here (path parameters are strings); the service converts it once it is known to be one. */
  @ApiProperty({ example: '1', description: 'A positive integer.' })
  @Matches(/^[1-9][0-9]{0,9}$/, { message: 'version must be a positive integer' })
  version!: string;
}

export class ModelAliasParamDto extends ModelNameParamDto {
  @ApiProperty({ example: 'champion', description: '`production` and `staging` are reserved for stages.' })
  @Matches(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/, { message: 'alias must be 1 to 64 letters, digits, _ or - starting with a letter' })
  alias!: string;
}
