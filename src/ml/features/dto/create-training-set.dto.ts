import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDefined, IsNotEmpty, IsString, Matches, MaxLength, ValidateNested } from 'class-validator';
import { MAX_FEATURE_COLUMN_LENGTH } from '@app/ml/features/dto/create-feature-set.dto';
import { WarehouseSourceDto } from '@app/ml/training/dto/create-training-job.dto';

/**
 * Entity rows to build a point-in-time training set for: the join keys, the time each row's features are wanted
 * as of, and any other columns (the label) carried through unchanged.
 */
export class CreateTrainingSetDto {
  @ApiProperty({ type: WarehouseSourceDto, description: 'A table or read-only query with the join keys, the event timestamp and the label.' })
  @IsDefined()
  @ValidateNested()
  @Type(() => WarehouseSourceDto)
  entities!: WarehouseSourceDto;

  @ApiProperty({ example: 'as_of', maxLength: MAX_FEATURE_COLUMN_LENGTH, description: 'Column of the entity rows (TIMESTAMP or DATE): each feature is taken as it was known then.' })
  @MaxLength(MAX_FEATURE_COLUMN_LENGTH)
  @IsNotEmpty()
  @IsString()
  event_timestamp_column!: string;

  @ApiProperty({ example: 'churn_training', description: 'Written as `training_sets.<output_table>` of the warehouse (replaced if it exists).' })
  @Matches(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, { message: 'output_table must be letters, digits and _ (up to 63), not starting with a digit' })
  output_table!: string;
}
