import type { SecondFactor } from '../attempts/second-factor';
import type { Built, Module } from '../module';

/**
 * One second factor, as one folder under factors/ offers it to the rest of the
 * service (Kratos' strategies): a module (src/module.ts) whose `create` also
 * builds the factor the answer-checking path tries. The factors are tried in
 * the order of the module list (src/modules.ts).
 */
export type FactorModule<Needs = unknown, Gives = Record<never, never>> = Module<
  Needs,
  Gives,
  Built & { factor: SecondFactor }
>;
