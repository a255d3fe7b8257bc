import { MigrationInterface, QueryRunner } from "typeorm";

export class TrustedDeviceSignInStrength1796676973136 implements MigrationInterface {
    name = 'TrustedDeviceSignInStrength1796676973136'

    public async up(queryRunner: QueryRunner): Promise<void> {
        // Comment added by hand: devices remembered before this get 'mfa', so their starts never claim a key (fails closed).
        await queryRunner.query(`ALTER TABLE \`trusted_devices\` ADD \`sign_in_strength\` varchar(8) CHARACTER SET "ascii" COLLATE "ascii_bin" NOT NULL DEFAULT 'mfa'`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE \`trusted_devices\` DROP COLUMN \`sign_in_strength\``);
    }

}
