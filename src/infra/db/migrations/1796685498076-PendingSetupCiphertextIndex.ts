import { MigrationInterface, QueryRunner } from "typeorm";

export class PendingSetupCiphertextIndex1796685498076 implements MigrationInterface {
    name = 'PendingSetupCiphertextIndex1796685498076'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE INDEX \`idx_pending_setups_payload_ciphertext\` ON \`pending_setups\` (\`payload_ciphertext\`)`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP INDEX \`idx_pending_setups_payload_ciphertext\` ON \`pending_setups\``);
    }

}
