import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsNotEmpty, IsOptional, IsString, Matches, MaxLength, ValidateNested } from 'class-validator';

export class RegisterBestDto {
  @ApiProperty({ example: 'churn', description: 'The registered model the trained version joins (created if new).' })
  @Matches(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/, { message: 'model_name must be letters, digits, _ . - (up to 128), starting with a letter or digit' })
  model_name!: string;
}

/** Train the best (or a chosen) trial's configuration on the full training split, evaluated on the untouched test split. */
export class TrainBestDto {
  @ApiPropertyOptional({ example: 'a1b2c3d4_00003', description: "Default: the sweep's best trial." })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  trial_id?: string;

  @ApiPropertyOptional({ example: 'churn-tuned', description: 'The training job\'s name; default "<sweep name>-best".' })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  name?: string;

  @ApiPropertyOptional({ type: RegisterBestDto, description: 'Also register the model as a version (tags: sweep_id, trial_id, hyperparameters), ready to deploy.' })
  @IsOptional()
  @ValidateNested()
  @Type(() => RegisterBestDto)
  register?: RegisterBestDto;
}
