import { Body, Controller, Get, HttpCode, HttpStatus, Param, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ErrorResponseDto } from '@app/common/filters/error-response.dto';
import { CallerTenant, type TenantContext } from '@app/common/tenant/tenant-context';
import { CreateProfileDto } from '@app/ml/eda/dto/create-profile.dto';
import { ListProfilesQueryDto } from '@app/ml/eda/dto/list-profiles-query.dto';
import { ProfileIdParamDto } from '@app/ml/eda/dto/profile-id.param.dto';
import { ProfileListResponseDto, ProfileResponseDto } from '@app/ml/eda/dto/profile-response.dto';
import { EdaService } from '@app/ml/eda/eda.service';
import { TenantScopedMlApi } from '@app/ml/ml-api.decorator';

@ApiTags('eda')
@TenantScopedMlApi()
@Controller('api/v1/ml/eda/profiles')
export class EdaController {
  constructor(private readonly eda: EdaService) {}

  @Post()
  @HttpCode(HttpStatus.CREATED)
  @ApiOperation({
    summary: 'Profile a table or query',
    description:
      "Statistics per column, correlations, alerts (ydata-profiling's names) and, with `target_column`, each feature's association with the target, computed in the caller's DuckDB warehouse; stored and listed afterwards. Every row unless `sample` is given.",
  })
  @ApiCreatedResponse({ type: ProfileResponseDto })
  @ApiResponse({ status: 400, type: ErrorResponseDto, description: 'A field is malformed; the message names it.' })
  @ApiResponse({ status: 403, type: ErrorResponseDto, description: '`dataset.tenant_id` is another tenant.' })
  @ApiResponse({ status: 422, type: ErrorResponseDto, description: 'The table or query cannot be read, or `target_column`/`time_column` is not one of its columns.' })
  createProfile(@Body() body: CreateProfileDto, @CallerTenant() caller: TenantContext): Promise<ProfileResponseDto> {
    return this.eda.create(body, caller);
  }

  @Get()
  @ApiOperation({ summary: "List the caller's profiles", description: 'Newest first; each with its dataset, size and number of alerts.' })
  @ApiOkResponse({ type: ProfileListResponseDto })
  listProfiles(@Query() query: ListProfilesQueryDto, @CallerTenant() caller: TenantContext): Promise<ProfileListResponseDto> {
    return this.eda.list(query.limit, caller);
  }

  @Get(':profile_id')
  @ApiOperation({ summary: 'Get a stored profile' })
  @ApiOkResponse({ type: ProfileResponseDto })
  @ApiResponse({ status: 400, type: ErrorResponseDto, description: 'The profile id is malformed.' })
  @ApiResponse({ status: 404, type: ErrorResponseDto, description: 'No such profile for this tenant.' })
  getProfile(@Param() params: ProfileIdParamDto, @CallerTenant() caller: TenantContext): Promise<ProfileResponseDto> {
    return this.eda.get(params.profile_id, caller);
  }
}
