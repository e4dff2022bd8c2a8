import { registerDecorator, ValidationArguments } from 'class-validator';

/** lower < value < upper; class-validator's Min/Max are inclusive, and test_size 0 or 1 is no split. */
export function ExclusiveRange(lower: number, upper: number): PropertyDecorator {
  return (target: object, propertyName: string | symbol) => {
    registerDecorator({
      name: 'exclusiveRange',
      target: target.constructor,
      propertyName: String(propertyName),
      constraints: [lower, upper],
      options: { message: (args: ValidationArguments) => `${args.property} must be greater than ${lower} and less than ${upper}` },
      validator: {
        validate: (value: unknown) => typeof value === 'number' && value > lower && value < upper,
      },
    });
  };
}
