import { MigrationInterface, QueryRunner } from "typeorm";

export class AnswersInTwoRoundTrips1796678135880 implements MigrationInterface {
    name = 'AnswersInTwoRoundTrips1796678135880'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE \`spent_login_challenges\` (\`challenge_hash\` varchar(64) CHARACTER SET "ascii" COLLATE "ascii_bin" NOT NULL, \`user_id\` varchar(128) CHARACTER SET "ascii" COLLATE "ascii_bin" NOT NULL, \`expires_at\` datetime(3) NOT NULL, INDEX \`idx_spent_login_challenges_expires\` (\`expires_at\`), PRIMARY KEY (\`challenge_hash\`)) ENGINE=InnoDB`);
        await queryRunner.query(`ALTER TABLE \`users\` ADD \`failures_in_window\` int NOT NULL DEFAULT '0'`);
        await queryRunner.query(`ALTER TABLE \`users\` ADD \`failure_window_started_at\` datetime(3) NULL`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE \`users\` DROP COLUMN \`failure_window_started_at\``);
        await queryRunner.query(`ALTER TABLE \`users\` DROP COLUMN \`failures_in_window\``);
        await queryRunner.query(`DROP INDEX \`idx_spent_login_challenges_expires\` ON \`spent_login_challenges\``);
        await queryRunner.query(`DROP TABLE \`spent_login_challenges\``);
    }

}
