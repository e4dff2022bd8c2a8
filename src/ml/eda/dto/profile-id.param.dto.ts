import { ApiProperty } from '@nestjs/swagger';
import { Matches } from 'class-validator';

export class ProfileIdParamDto {
  @ApiProperty({ example: 'prof-3f9a1c2b4d5e' })
  @Matches(/^prof-[0-9a-f]{12}$/, { message: 'profile_id must look like prof-<12 hex digits>' })
  profile_id!: string;
}

export class ProfileChartParamDto extends ProfileIdParamDto {
  @ApiProperty({ example: 'histogram_tenure', description: 'A name from GET /api/v1/ml/eda/profiles/{profile_id}/charts.' })
  @Matches(/^[a-z][a-z0-9_]{0,63}$/, { message: 'name must be a chart name (lowercase letters, digits, underscore)' })
  name!: string;
}
