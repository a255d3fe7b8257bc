import { MigrationInterface, QueryRunner } from "typeorm";

export class TotpSecretCiphertextIndex1796685498079 implements MigrationInterface {
    name = 'TotpSecretCiphertextIndex1796685498079'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE INDEX \`idx_totp_factors_secret_ciphertext\` ON \`totp_factors\` (\`secret_ciphertext\`)`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP INDEX \`idx_totp_factors_secret_ciphertext\` ON \`totp_factors\``);
    }

}
