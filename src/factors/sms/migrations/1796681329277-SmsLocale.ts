import { MigrationInterface, QueryRunner } from "typeorm";

export class SmsLocale1796681329277 implements MigrationInterface {
    name = 'SmsLocale1796681329277'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE \`sms_factors\` ADD \`sms_locale\` varchar(35) CHARACTER SET "ascii" COLLATE "ascii_bin" NOT NULL DEFAULT 'en'`);
        await queryRunner.query(`ALTER TABLE \`pending_setups\` ADD \`sms_locale\` varchar(35) CHARACTER SET "ascii" COLLATE "ascii_bin" NULL`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE \`pending_setups\` DROP COLUMN \`sms_locale\``);
        await queryRunner.query(`ALTER TABLE \`sms_factors\` DROP COLUMN \`sms_locale\``);
    }

}
