import { AppError } from '../../../src/errors';
import { parsePhoneNumber } from '../../../src/factors/sms/phone-number';

/** What the parse threw: its code and message (no service needed). */
function refusal(input: string): { code: string; message: string } | null {
  try {
    parsePhoneNumber(input);
    return null;
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    return { code: error.code, message: error.message };
  }
}

describe('which phone numbers may receive SMS (against SMS pumping)', () => {
  it.each([
    ['a US number that may be mobile', '+14155552671', 'US'],
    ['a German mobile', '+491701234567', 'DE'],
    ['a French mobile', '+33612345678', 'FR'],
    ['a Brazilian mobile', '+5511912345678', 'BR'],
  ])('accepts %s', (_name, input, country) => {
    expect(parsePhoneNumber(input)).toMatchObject({ e164: input, country });
  });

  it.each([
    ['premium-rate', '+19005550123'],
    ['premium-rate', '+449098790000'],
    ['toll-free', '+18005550199'],
    ['toll-free', '+611800123456'],
    ['pager', '+447640123456'],
    ['shared-cost', '+33810123456'],
    ['personal', '+447012345678'],
    ['UAN', '+443001234567'],
    ['VOIP', '+445611234567'],
    ['fixed-line', '+442071838750'],
    ['fixed-line', '+493012345678'],
  ])('refuses a %s number (%s) with BAD_USER_INPUT naming the kind', (kind, input) => {
    const refused = refusal(input);
    expect(refused?.code).toBe('BAD_USER_INPUT');
    expect(refused?.message).toContain(`${kind} number`);
    // The message never repeats the number.
    expect(refused?.message).not.toContain(input.slice(-7));
  });
});
