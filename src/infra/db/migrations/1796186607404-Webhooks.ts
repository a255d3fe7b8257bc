import { MigrationInterface, QueryRunner } from "typeorm";

export class Webhooks1796186607404 implements MigrationInterface {
    name = 'Webhooks1796186607404'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE \`webhook_endpoints\` (\`id\` varchar(36) CHARACTER SET "ascii" COLLATE "ascii_bin" NOT NULL, \`url\` varchar(2048) CHARACTER SET "ascii" COLLATE "ascii_bin" NOT NULL, \`event_types\` varchar(1024) CHARACTER SET "ascii" COLLATE "ascii_bin" NOT NULL, \`enabled\` tinyint NOT NULL, \`disabled_reason\` varchar(255) CHARACTER SET "utf8mb4" COLLATE "utf8mb4_bin" NULL, \`secret_ciphertext\` varchar(255) CHARACTER SET "ascii" COLLATE "ascii_bin" NOT NULL, \`previous_secret_ciphertext\` varchar(255) CHARACTER SET "ascii" COLLATE "ascii_bin" NULL, \`previous_secret_expires_at\` datetime(3) NULL, \`created_at\` datetime(3) NOT NULL, \`updated_at\` datetime(3) NOT NULL, PRIMARY KEY (\`id\`)) ENGINE=InnoDB`);
        await queryRunner.query(`CREATE TABLE \`webhook_events\` (\`id\` bigint NOT NULL AUTO_INCREMENT, \`webhook_id\` varchar(64) CHARACTER SET "ascii" COLLATE "ascii_bin" NOT NULL, \`type\` varchar(64) CHARACTER SET "ascii" COLLATE "ascii_bin" NOT NULL, \`payload\` text CHARACTER SET "utf8mb4" COLLATE "utf8mb4_bin" NOT NULL, \`created_at\` datetime(3) NOT NULL, INDEX \`idx_webhook_events_created\` (\`created_at\`), PRIMARY KEY (\`id\`)) ENGINE=InnoDB`);
        await queryRunner.query(`CREATE TABLE \`webhook_deliveries\` (\`id\` bigint NOT NULL AUTO_INCREMENT, \`event_id\` bigint NOT NULL, \`endpoint_id\` varchar(36) CHARACTER SET "ascii" COLLATE "ascii_bin" NOT NULL, \`state\` varchar(10) CHARACTER SET "ascii" COLLATE "ascii_bin" NOT NULL, \`attempts\` int NOT NULL, \`last_status\` smallint NULL, \`last_error\` varchar(300) CHARACTER SET "utf8mb4" COLLATE "utf8mb4_bin" NULL, \`next_attempt_at\` datetime(3) NULL, \`lease_token\` varchar(36) CHARACTER SET "ascii" COLLATE "ascii_bin" NULL, \`series_started_at\` datetime(3) NOT NULL, \`created_at\` datetime(3) NOT NULL, \`delivered_at\` datetime(3) NULL, INDEX \`idx_webhook_deliveries_event\` (\`event_id\`), INDEX \`idx_webhook_deliveries_endpoint_state\` (\`endpoint_id\`, \`state\`, \`id\`), INDEX \`idx_webhook_deliveries_endpoint\` (\`endpoint_id\`, \`id\`), INDEX \`idx_webhook_deliveries_state_created\` (\`state\`, \`created_at\`), INDEX \`idx_webhook_deliveries_due\` (\`state\`, \`next_attempt_at\`), PRIMARY KEY (\`id\`)) ENGINE=InnoDB`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP INDEX \`idx_webhook_deliveries_due\` ON \`webhook_deliveries\``);
        await queryRunner.query(`DROP INDEX \`idx_webhook_deliveries_state_created\` ON \`webhook_deliveries\``);
        await queryRunner.query(`DROP INDEX \`idx_webhook_deliveries_endpoint\` ON \`webhook_deliveries\``);
        await queryRunner.query(`DROP INDEX \`idx_webhook_deliveries_endpoint_state\` ON \`webhook_deliveries\``);
        await queryRunner.query(`DROP INDEX \`idx_webhook_deliveries_event\` ON \`webhook_deliveries\``);
        await queryRunner.query(`DROP TABLE \`webhook_deliveries\``);
        await queryRunner.query(`DROP INDEX \`idx_webhook_events_created\` ON \`webhook_events\``);
        await queryRunner.query(`DROP TABLE \`webhook_events\``);
        await queryRunner.query(`DROP TABLE \`webhook_endpoints\``);
    }

}
