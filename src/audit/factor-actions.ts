import type { FactorAction, FactorSignals } from '../module';

/** A factor's audited action, with the factor it is about. */
export interface DescribedFactorAction extends FactorAction {
  method: string;
  ocsf: FactorSignals['ocsf'];
}

/**
 * Every second factor's audited actions and what they mean (each factor's
 * FactorSignals, from the module list): how webhook events and OCSF records
 * read a factor's action without naming any factor.
 */
export class FactorActions {
  private readonly byAction = new Map<string, DescribedFactorAction>();
  private readonly byMethod = new Map<string, FactorSignals['ocsf']>();

  constructor(factors: readonly FactorSignals[]) {
    for (const factor of factors) {
      this.byMethod.set(factor.method, factor.ocsf);
      for (const [action, meaning] of Object.entries(factor.actions)) {
        if (this.byAction.has(action)) throw new Error(`the audit action ${action} is declared twice`);
        this.byAction.set(action, { ...meaning, method: factor.method, ocsf: factor.ocsf });
      }
    }
  }

  /** The factor action, or null for one of the service's own. */
  describe(action: string): DescribedFactorAction | null {
    return this.byAction.get(action) ?? null;
  }

  /** OCSF's auth_factor of a method (TOTP, SMS...), null for one no factor declares. */
  ocsfFactor(method: string): FactorSignals['ocsf'] | null {
    return this.byMethod.get(method) ?? null;
  }

  /** Every factor action's name. */
  get actions(): string[] {
    return [...this.byAction.keys()];
  }
}
