import { MigrationInterface, QueryRunner } from "typeorm";

export class SmsPhoneCiphertextIndex1796685498078 implements MigrationInterface {
    name = 'SmsPhoneCiphertextIndex1796685498078'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE INDEX \`idx_sms_factors_phone_ciphertext\` ON \`sms_factors\` (\`phone_ciphertext\`)`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP INDEX \`idx_sms_factors_phone_ciphertext\` ON \`sms_factors\``);
    }

}
