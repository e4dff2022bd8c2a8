import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, Matches, Max, Min } from 'class-validator';

/** Feast names a feature set's view `<name>_v<version>`, and Feast names are letters, digits and `_`. */
export const FEATURE_SET_NAME = /^[a-z][a-z0-9_]{0,62}$/;
export const FEATURE_SET_NAME_MESSAGE = 'must be lowercase letters, digits and _ (up to 63), starting with a letter';

export class FeatureSetNameParamDto {
  @ApiProperty({ example: 'customer', description: 'As given in POST /api/v1/ml/features/sets.' })
  @Matches(FEATURE_SET_NAME, { message: `name ${FEATURE_SET_NAME_MESSAGE}` })
  name!: string;
}

export class FeatureSetVersionParamDto extends FeatureSetNameParamDto {
  @ApiProperty({ example: 1, minimum: 1 })
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(2 ** 31 - 1)
  version!: number;
}
