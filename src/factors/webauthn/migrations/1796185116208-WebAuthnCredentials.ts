import { MigrationInterface, QueryRunner } from "typeorm";

export class WebAuthnCredentials1796185116208 implements MigrationInterface {
    name = 'WebAuthnCredentials1796185116208'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE \`webauthn_credentials\` (\`id\` varchar(1364) CHARACTER SET "ascii" COLLATE "ascii_bin" NOT NULL, \`user_id\` varchar(128) CHARACTER SET "ascii" COLLATE "ascii_bin" NOT NULL, \`public_key\` varchar(2048) CHARACTER SET "ascii" COLLATE "ascii_bin" NOT NULL, \`sign_count\` bigint NOT NULL, \`transports\` varchar(128) CHARACTER SET "ascii" COLLATE "ascii_bin" NOT NULL, \`backup_eligible\` tinyint NOT NULL, \`backed_up\` tinyint NOT NULL, \`name\` varchar(64) CHARACTER SET "utf8mb4" COLLATE "utf8mb4_bin" NOT NULL, \`created_at\` datetime(3) NOT NULL, \`last_used_at\` datetime(3) NULL, INDEX \`idx_webauthn_credentials_user\` (\`user_id\`, \`created_at\`), PRIMARY KEY (\`id\`)) ENGINE=InnoDB`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP INDEX \`idx_webauthn_credentials_user\` ON \`webauthn_credentials\``);
        await queryRunner.query(`DROP TABLE \`webauthn_credentials\``);
    }

}
