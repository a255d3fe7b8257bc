import type { StatusPart } from '../users/status-part';
import type { EnrolledMethod, TwoFactorMethod } from '../users/two-factor-method';
import type { Enrollment, SecondFactor } from './second-factor';

/**
 * The second factors the service knows, in the order an answer is tried. Filled
 * once by the composition root from MODULES (src/modules.ts); shared
 * services read it when they run, so they can be built before the factors that
 * need them.
 */
export class FactorRegistry {
  private factors: readonly SecondFactor[] = [];
  /** Filled once with the factors: every status read asks for them. */
  private parts: readonly StatusPart[] = [];

  register(factors: readonly SecondFactor[]): void {
    if (this.factors.length > 0) throw new Error('the factor registry is filled once');
    const methods = factors.map((factor) => factor.method);
    if (new Set(methods).size !== methods.length)
      throw new Error(`a method is registered twice: ${methods.join(', ')}`);
    this.factors = factors;
    this.parts = factors.flatMap((factor) => (factor.statusPart ? [factor.statusPart] : []));
  }

  all(): readonly SecondFactor[] {
    return this.factors;
  }

  get(method: TwoFactorMethod): SecondFactor {
    const factor = this.factors.find((candidate) => candidate.method === method);
    if (!factor) throw new Error(`no factor is registered for ${method}`);
    return factor;
  }

  enrollment(method: EnrolledMethod): Enrollment {
    const enrollment = this.get(method).enrollment;
    if (!enrollment) throw new Error(`${method} is not a factor users enroll`);
    return enrollment;
  }

  /** Every factor's part of the status read, in the order answers are tried (users/status-part.ts). */
  statusParts(): readonly StatusPart[] {
    return this.parts;
  }

  enrollments(): Enrollment[] {
    return this.factors.flatMap((factor) => (factor.enrollment ? [factor.enrollment] : []));
  }
}
