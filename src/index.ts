/**
 * The package's entry point for a host NestJS application (`import { MlModule } from 'ai-service'`):
 * the ML module, the request pipeline its routes expect (request ids, validation, one error shape),
 * what the application must set on itself (`configureApp`: the JSON body limits that fit the
 * documented predict sizes, the WebSocket adapter of the progress stream), the step that completes
 * a host's OpenAPI document with the error answers of these routes (`documentErrorAnswers`), and
 * the types a host needs to configure the module and plug in its own authentication.
 */
export { CommonModule } from '@app/common/common.module';
export { documentErrorAnswers } from '@app/common/openapi-error-answers';
export type { ResolvedCaller, TenantResolver } from '@app/common/tenant/tenant-resolver';
export { configureApp } from '@app/configure-app';
export type { MlModuleOptions } from '@app/ml/ml-module-options';
export { MlModule } from '@app/ml/ml.module';
