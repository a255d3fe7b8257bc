import { MigrationInterface, QueryRunner } from "typeorm";

export class TrustedDevices1796186264938 implements MigrationInterface {
    name = 'TrustedDevices1796186264938'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE \`trusted_devices\` (\`id\` varchar(32) CHARACTER SET "ascii" COLLATE "ascii_bin" NOT NULL, \`user_id\` varchar(128) CHARACTER SET "ascii" COLLATE "ascii_bin" NOT NULL, \`token_hash\` varchar(64) CHARACTER SET "ascii" COLLATE "ascii_bin" NOT NULL, \`name\` varchar(64) CHARACTER SET "utf8mb4" COLLATE "utf8mb4_bin" NOT NULL, \`created_at\` datetime(3) NOT NULL, \`expires_at\` datetime(3) NOT NULL, \`last_used_at\` datetime(3) NULL, INDEX \`idx_trusted_devices_expires\` (\`expires_at\`), INDEX \`idx_trusted_devices_user\` (\`user_id\`, \`created_at\`), UNIQUE INDEX \`idx_trusted_devices_token_hash\` (\`token_hash\`), PRIMARY KEY (\`id\`)) ENGINE=InnoDB`);
        await queryRunner.query(`ALTER TABLE \`organizations\` ADD \`allows_trusted_devices\` tinyint NOT NULL DEFAULT 1`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE \`organizations\` DROP COLUMN \`allows_trusted_devices\``);
        await queryRunner.query(`DROP INDEX \`idx_trusted_devices_token_hash\` ON \`trusted_devices\``);
        await queryRunner.query(`DROP INDEX \`idx_trusted_devices_user\` ON \`trusted_devices\``);
        await queryRunner.query(`DROP INDEX \`idx_trusted_devices_expires\` ON \`trusted_devices\``);
        await queryRunner.query(`DROP TABLE \`trusted_devices\``);
    }

}
