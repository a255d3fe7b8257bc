import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Resolver, Root } from 'type-graphql';
import type { Caller } from '../callers/caller';
import { SignedIn } from '../graphql/auth';
import type { Context } from '../graphql/context';
import { assertSelfOrReader, TwoFactorStatus } from '../users/user.types';
import type { TrustedDeviceService } from './trusted-device.service';
import { TrustedDevice } from './trusted-device.types';

@Resolver()
export class TrustedDeviceResolver {
  constructor(private readonly devices: TrustedDeviceService) {}

  @Authorized()
  @Mutation(() => Boolean, {
    description:
      "The signed-in user. Its device stops skipping the second factor at once; false when it has no such device (another user's included).",
  })
  revokeTrustedDevice(
    @Arg('id', () => ID) id: string,
    @SignedIn() caller: Caller,
    @Ctx() { actor }: Context,
  ): Promise<boolean> {
    return this.devices.revoke(actor, caller.subject, id);
  }

  @Authorized()
  @Mutation(() => Int, { description: 'The signed-in user; the number revoked.' })
  revokeAllTrustedDevices(@SignedIn() caller: Caller, @Ctx() { actor }: Context): Promise<number> {
    return this.devices.revokeAll(actor, caller.subject);
  }
}

/** The field trusted devices add to the two-factor status. */
@Resolver(() => TwoFactorStatus)
export class TrustedDeviceStatusResolver {
  constructor(private readonly devices: TrustedDeviceService) {}

  @FieldResolver(() => [TrustedDevice], { description: 'Unexpired trusted devices, newest first.' })
  async trustedDevices(@Root() status: TwoFactorStatus, @Ctx() context: Context): Promise<TrustedDevice[]> {
    assertSelfOrReader(status, 'trustedDevices');
    if (!status.userId || !status.enabled) return [];
    const loader = context.batch('trustedDevices', async (userIds) => {
      const records = await this.devices.list(userIds);
      return userIds.map((userId) => records.filter((record) => record.userId === userId).map(TrustedDevice.of));
    });
    return loader.load(status.userId);
  }
}
