import { Field, ID, ObjectType } from 'type-graphql';
import type { TrustedDeviceRecord } from './trusted-device.entity';

@ObjectType()
export class TrustedDevice {
  @Field(() => ID)
  id: string;

  @Field({ description: 'Given at login (e.g. the browser and system), 1 to 64 printable characters.' })
  name: string;

  @Field()
  createdAt: Date;

  @Field(() => Date, { nullable: true })
  lastUsedAt: Date | null;

  @Field({ description: 'Fixed at creation: TRUSTED_DEVICE_DAYS after createdAt.' })
  expiresAt: Date;

  static of(record: TrustedDeviceRecord): TrustedDevice {
    return Object.assign(new TrustedDevice(), {
      id: record.id,
      name: record.name,
      createdAt: record.createdAt,
      lastUsedAt: record.lastUsedAt,
      expiresAt: record.expiresAt,
    });
  }
}
