import { MiddlewareConsumer, Module, NestModule } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { GlobalExceptionFilter } from '@app/common/filters/global-exception.filter';
import { RequestIdMiddleware } from '@app/common/request-id/request-id.middleware';
import { createValidationPipe } from '@app/common/validation.pipe';

/**
 * The request pipeline shared by every route: request ids, validation, one error shape.
 * Registered here rather than in main.ts so tests that build the module run the same pipeline.
 */
@Module({
  providers: [
    { provide: APP_PIPE, useFactory: createValidationPipe },
    { provide: APP_FILTER, useClass: GlobalExceptionFilter },
  ],
})
export class CommonModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(RequestIdMiddleware).forRoutes('*path');
  }
}
