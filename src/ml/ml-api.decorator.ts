import { applyDecorators, UseGuards } from '@nestjs/common';
import { ApiResponse, ApiSecurity } from '@nestjs/swagger';
import { ErrorResponseDto } from '@app/common/filters/error-response.dto';
import { API_KEY_SECURITY } from '@app/common/tenant/api-key.security';
import { TenantGuard } from '@app/common/tenant/tenant.guard';

/**
 * What every ML controller is: callable only with a resolved tenant, and answering the ML Service's
 * outages with the client's 502/503/504 (docs/contract.md). One decorator so the Swagger document
 * and the guard cannot drift apart between concerns.
 */
export function TenantScopedMlApi(): ClassDecorator {
  return applyDecorators(
    ApiSecurity(API_KEY_SECURITY),
    ApiResponse({ status: 401, type: ErrorResponseDto, description: 'Missing or unknown API key.' }),
    ApiResponse({ status: 502, type: ErrorResponseDto, description: 'The ML Service failed.' }),
    ApiResponse({ status: 503, type: ErrorResponseDto, description: 'The ML Service is unreachable.' }),
    ApiResponse({ status: 504, type: ErrorResponseDto, description: 'The ML Service did not answer in time.' }),
    UseGuards(TenantGuard),
  );
}
