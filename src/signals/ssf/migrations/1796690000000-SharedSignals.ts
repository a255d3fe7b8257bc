import { MigrationInterface, QueryRunner } from "typeorm";

export class SharedSignals1796690000000 implements MigrationInterface {
    name = 'SharedSignals1796690000000'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE \`ssf_streams\` (\`id\` varchar(36) CHARACTER SET "ascii" COLLATE "ascii_bin" NOT NULL, \`audience\` varchar(128) CHARACTER SET "ascii" COLLATE "ascii_bin" NOT NULL, \`events_requested\` varchar(1024) CHARACTER SET "ascii" COLLATE "ascii_bin" NOT NULL, \`delivery_method\` varchar(8) CHARACTER SET "ascii" COLLATE "ascii_bin" NOT NULL, \`endpoint_url\` varchar(2048) CHARACTER SET "ascii" COLLATE "ascii_bin" NULL, \`status\` varchar(8) CHARACTER SET "ascii" COLLATE "ascii_bin" NOT NULL, \`status_reason\` varchar(255) CHARACTER SET "utf8mb4" COLLATE "utf8mb4_bin" NULL, \`all_subjects\` tinyint NOT NULL DEFAULT 0, \`description\` varchar(255) CHARACTER SET "utf8mb4" COLLATE "utf8mb4_bin" NULL, \`created_at\` datetime(3) NOT NULL, \`updated_at\` datetime(3) NOT NULL, PRIMARY KEY (\`id\`)) ENGINE=InnoDB`);
        await queryRunner.query(`CREATE TABLE \`ssf_stream_subjects\` (\`stream_id\` varchar(36) CHARACTER SET "ascii" COLLATE "ascii_bin" NOT NULL, \`subject\` varchar(136) CHARACTER SET "ascii" COLLATE "ascii_bin" NOT NULL, PRIMARY KEY (\`stream_id\`, \`subject\`)) ENGINE=InnoDB`);
        await queryRunner.query(`CREATE TABLE \`ssf_queued_events\` (\`id\` bigint NOT NULL AUTO_INCREMENT, \`stream_id\` varchar(36) CHARACTER SET "ascii" COLLATE "ascii_bin" NOT NULL, \`event_id\` varchar(32) CHARACTER SET "ascii" COLLATE "ascii_bin" NOT NULL, \`event_type\` varchar(128) CHARACTER SET "ascii" COLLATE "ascii_bin" NOT NULL, \`user_id\` varchar(128) CHARACTER SET "ascii" COLLATE "ascii_bin" NULL, \`organization_id\` varchar(128) CHARACTER SET "ascii" COLLATE "ascii_bin" NULL, \`claims\` text CHARACTER SET "utf8mb4" COLLATE "utf8mb4_bin" NOT NULL, \`created_at\` datetime(3) NOT NULL, \`due_at\` datetime(3) NOT NULL, \`first_attempt_at\` datetime(3) NULL, \`attempts\` int NOT NULL DEFAULT '0', \`last_error\` varchar(255) CHARACTER SET "utf8mb4" COLLATE "utf8mb4_bin" NULL, INDEX \`idx_ssf_queued_events_stream_due\` (\`stream_id\`, \`due_at\`), INDEX \`idx_ssf_queued_events_stream\` (\`stream_id\`, \`id\`), PRIMARY KEY (\`id\`)) ENGINE=InnoDB`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP INDEX \`idx_ssf_queued_events_stream\` ON \`ssf_queued_events\``);
        await queryRunner.query(`DROP INDEX \`idx_ssf_queued_events_stream_due\` ON \`ssf_queued_events\``);
        await queryRunner.query(`DROP TABLE \`ssf_queued_events\``);
        await queryRunner.query(`DROP TABLE \`ssf_stream_subjects\``);
        await queryRunner.query(`DROP TABLE \`ssf_streams\``);
    }

}
