import { type ArgOptions, createParameterDecorator, ID } from 'type-graphql';
import { parseId } from '../ids';

/** An upstream id argument, checked (BAD_USER_INPUT naming the argument) before the resolver runs. */
export function IdArg(name: string, options: ArgOptions = {}) {
  return createParameterDecorator(
    ({ args }) => {
      const value: unknown = args[name];
      return options.nullable && (value === null || value === undefined) ? null : parseId(value, name);
    },
    { arg: { name, typeFunc: () => ID, options } },
  );
}
