import { MigrationInterface, QueryRunner } from "typeorm";

export class RecoveryCodeCiphertextIndex1796685498077 implements MigrationInterface {
    name = 'RecoveryCodeCiphertextIndex1796685498077'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE INDEX \`idx_recovery_codes_code_ciphertext\` ON \`recovery_codes\` (\`code_ciphertext\`)`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP INDEX \`idx_recovery_codes_code_ciphertext\` ON \`recovery_codes\``);
    }

}
